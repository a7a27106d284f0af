// The worker's values: key -> encoded bytes, or a native object (a Polars frame a built-in
// kernel made) that is encoded only when a peer asks for it or it spills. Memory is the sum of
// the bytes held; past `memoryLimit` the least recently used values are written to a spill
// directory and read back from there on demand (they stay on disk: re-admitting big values
// would thrash), as bytes.
import { mkdtempSync } from 'node:fs';
import { open, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EncodedValue } from '../../protocol/values.js';
import { SpillError } from './errors.js';
import { headerBytes, partedCount, partOf, partRange } from '../../protocol/parted.js';

export interface DataStoreOptions {
  /** Bytes of values kept in memory before spilling; 0 = never spill. */
  memoryLimit: number;
  /** Parent of the spill directory (default os.tmpdir()). */
  spillRoot?: string;
  /** A value was written out (for the worker's metrics). */
  onSpill?: (bytes: number) => void;
  /** Called when values go to disk to bring memory under the limit (before they are written). */
  onPressure?: () => void;
}

/** A value kept as the object a kernel made: sized, and encoded on demand. */
export interface NativeValue {
  native: unknown;
  encoding: number;
  nbytes: number;
  encode(): Uint8Array;
}

/** What a kernel reads: the native object when it is in memory, else the bytes. */
export type StoredValue = { encoding: number; native: unknown } | EncodedValue;

export function isNativeValue(v: EncodedValue | NativeValue): v is NativeValue {
  return 'native' in v;
}

interface Entry {
  encoding: number;
  nbytes: number;
  /** Present while in memory as bytes (also while being written out). */
  data: Uint8Array | undefined;
  /** Present while in memory as a native object. */
  native: NativeValue | undefined;
  path: string | undefined;
  spilling: boolean;
}

export class DataStore {
  private readonly entries = new Map<string, Entry>();
  /** Values in memory and not being written out, least recently used first. */
  private readonly lru = new Map<string, Entry>();
  private readonly pending = new Set<Promise<void>>();
  private inMemory = 0;
  private spillingBytes = 0;
  private onDisk = 0;
  private dir: string | undefined;
  private fileSeq = 0;
  private closed = false;

  constructor(private readonly options: DataStoreOptions) {}

  /** Bytes of values held in memory. */
  get memoryUsed(): number {
    return this.inMemory;
  }

  get spilledBytes(): number {
    return this.onDisk;
  }

  put(key: string, value: EncodedValue | NativeValue): void {
    this.delete(key);
    let e: Entry;
    if (isNativeValue(value)) {
      e = { encoding: value.encoding, nbytes: value.nbytes, data: undefined, native: value, path: undefined, spilling: false };
    } else {
      let data = value.data;
      // A small view into a big buffer (a gRPC frame, Buffer's pool) would pin the whole buffer
      // here and be copied whole by postMessage: keep an exact copy instead.
      if (data.byteLength * 2 < data.buffer.byteLength) data = new Uint8Array(data); // (Buffer#slice would not copy)
      e = { encoding: value.encoding, nbytes: data.byteLength, data, native: undefined, path: undefined, spilling: false };
    }
    this.entries.set(key, e);
    this.lru.set(key, e);
    this.inMemory += e.nbytes;
    this.maybeSpill();
  }

  /** The value's bytes if it is in memory (marking it recently used; a native value is encoded
   *  now); undefined if spilled or absent. */
  peek(key: string): EncodedValue | undefined {
    const e = this.touch(key);
    if (!e) return undefined;
    return { encoding: e.encoding, data: e.data ?? e.native!.encode() };
  }

  /** As get, but a native value comes as itself, not encoded (what built-in kernels read). */
  async getStored(key: string): Promise<StoredValue | undefined> {
    const e = this.touch(key);
    if (e?.native) return { encoding: e.encoding, native: e.native.native };
    return this.get(key);
  }

  async get(key: string): Promise<EncodedValue | undefined> {
    const hot = this.peek(key);
    if (hot) return hot;
    const e = this.entries.get(key);
    if (!e?.path) return undefined;
    const path = e.path;
    try {
      const data = await readFile(path);
      return { encoding: e.encoding, data };
    } catch (err) {
      if (this.entries.get(key) !== e) return undefined; // deleted meanwhile
      throw new SpillError(`spilled value ${key} could not be read back from ${path}`, key, path, { cause: err });
    }
  }

  /**
   * Part `index` of a value kept as parted bytes (protocol/parted.ts), in memory or on disk (only
   * that range is read); undefined when the value is native, not parted, or absent.
   */
  async readPart(key: string, index: number): Promise<Uint8Array | undefined> {
    const hot = this.touch(key);
    if (hot?.data) return partedCount(hot.data) === undefined ? undefined : partOf(hot.data, index);
    const e = this.entries.get(key);
    if (hot || !e?.path) return undefined;
    const path = e.path;
    let file;
    try {
      file = await open(path, 'r');
    } catch (err) {
      if (this.entries.get(key) !== e) return undefined;
      throw new SpillError(`spilled value ${key} could not be read back from ${path}`, key, path, { cause: err });
    }
    try {
      const first = new Uint8Array(8);
      await file.read(first, 0, 8, 0);
      const count = partedCount(first);
      if (count === undefined) return undefined;
      const header = new Uint8Array(headerBytes(count));
      await file.read(header, 0, header.byteLength, 0);
      const [start, end] = partRange(header, index);
      const part = new Uint8Array(end - start);
      await file.read(part, 0, part.byteLength, start);
      return part;
    } finally {
      await file.close();
    }
  }

  /**
   * Keeps a value that is in memory as bytes as this native form from now on (a kernel family
   * decoded it once, e.g. a fetched ML shard made shared); false when it is not in memory as
   * bytes (spilled values stay on disk).
   */
  adoptNative(key: string, value: NativeValue): boolean {
    const e = this.entries.get(key);
    if (!e?.data || e.spilling || e.encoding !== value.encoding) return false;
    this.put(key, value);
    return true;
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.lru.delete(key);
    if (e.data || e.native) this.inMemory -= e.nbytes;
    if (e.spilling) this.spillingBytes -= e.nbytes;
    if (e.path && !e.spilling) {
      this.onDisk -= e.nbytes;
      this.track(unlink(e.path).catch(() => undefined));
    }
    e.data = undefined;
    e.native = undefined;
  }

  clear(): void {
    for (const key of [...this.entries.keys()]) this.delete(key);
  }

  /** Drops every value and removes the spill directory. */
  async close(): Promise<void> {
    this.closed = true;
    this.clear();
    await Promise.allSettled([...this.pending]);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private maybeSpill(): void {
    const limit = this.options.memoryLimit;
    if (limit <= 0 || this.closed) return;
    if (this.inMemory - this.spillingBytes > limit) this.options.onPressure?.();
    for (const [key, e] of this.lru) {
      if (this.inMemory - this.spillingBytes <= limit) return;
      this.lru.delete(key);
      this.spill(key, e);
    }
  }

  /** The entry if it is in memory, marked recently used. */
  private touch(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (!e || (!e.data && !e.native)) return undefined;
    if (this.lru.delete(key)) this.lru.set(key, e);
    return e;
  }

  private spill(key: string, e: Entry): void {
    let bytes: Uint8Array;
    try {
      bytes = e.data ?? e.native!.encode();
    } catch {
      return; // cannot be encoded: it stays in memory (and out of the LRU: not tried again)
    }
    if (!this.dir) this.dir = mkdtempSync(join(this.options.spillRoot ?? tmpdir(), `kubedask-spill-${process.pid}-`));
    const path = join(this.dir, `${++this.fileSeq}.bin`);
    e.spilling = true;
    e.path = path;
    this.spillingBytes += e.nbytes;
    this.track(writeFile(path, bytes).then(
      () => {
        if (this.entries.get(key) !== e) {
          void unlink(path).catch(() => undefined); // deleted while being written
          return;
        }
        e.spilling = false;
        this.spillingBytes -= e.nbytes;
        this.inMemory -= e.nbytes;
        this.onDisk += e.nbytes;
        e.data = undefined;
        e.native = undefined;
        this.options.onSpill?.(e.nbytes);
      },
      () => {
        // Disk full or gone: keep the value in memory rather than lose it.
        if (this.entries.get(key) !== e) return;
        e.spilling = false;
        e.path = undefined;
        this.spillingBytes -= e.nbytes;
        this.lru.set(key, e);
      },
    ));
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }
}
