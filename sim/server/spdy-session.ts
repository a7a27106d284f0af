// The server side of SPDY/3.1 as Kubernetes streaming uses it (moby/spdystream): the client opens
// streams (SYN_STREAM with headers), the server replies, both send DATA, FIN half-closes, RST_STREAM
// aborts, PINGs are echoed, GOAWAY ends the session. spdystream has no flow control, so WINDOW_UPDATE
// and SETTINGS are read and ignored; backpressure is the transport's (write's result, pause/resume).
import { constants as zc, createInflate, type Inflate } from 'node:zlib';
import { SPDY_HEADER_DICTIONARY } from './spdy-dictionary.js';

const VERSION = 3;
const SYN_STREAM = 1;
const SYN_REPLY = 2;
const RST_STREAM = 3;
const PING = 6;
const GOAWAY = 7;
const HEADERS = 8;
const FLAG_FIN = 0x01;
/** RST_STREAM status codes. */
export const RST_PROTOCOL_ERROR = 1;
export const RST_CANCEL = 5;
/** An empty stored deflate block: what Z_SYNC_FLUSH writes. */
const SYNC_FLUSH = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);
/** DATA frames carry at most 24 bits of length; keep them to a size the peer reads in one go. */
const MAX_DATA = 64 * 1024;

/** Where the session's bytes go: a raw upgraded socket, or a WebSocket tunnel. */
export interface SpdyTransport {
  /** False when the client is behind: the writer waits for onceDrained before writing more. */
  write(bytes: Buffer): boolean;
  onceDrained(cb: () => void): void;
  /** Stops and restarts the client's bytes, while a pod connection cannot take more. */
  pause(): void;
  resume(): void;
  end(): void;
}

export class SpdyStream {
  private localClosed = false;
  private remoteClosed = false;
  onData: (chunk: Buffer) => void = () => undefined;
  /** The client sent FIN: it will send no more. */
  onEnd: () => void = () => undefined;
  /** The stream was reset, or the session ended, before both sides finished. */
  onReset: () => void = () => undefined;

  constructor(private readonly session: SpdySession, readonly id: number, readonly headers: Record<string, string>) {}

  reply(): void { void this.session.send(SYN_REPLY, 0, u32(this.id), this.session.encodeHeaders({})); }
  /** False when the client is behind: wait for onceDrained before writing more. */
  write(chunk: Buffer): boolean {
    if (this.localClosed) return true;
    let ok = true;
    for (let at = 0; at < chunk.length; at += MAX_DATA) ok = this.session.sendData(this.id, chunk.subarray(at, at + MAX_DATA), false) && ok;
    return ok;
  }
  onceDrained(cb: () => void): void { this.session.onceDrained(cb); }
  /** Half-closes our side (DATA with FIN). */
  end(): void {
    if (this.localClosed) return;
    this.localClosed = true;
    this.session.sendData(this.id, Buffer.alloc(0), true);
    this.finishIfDone();
  }
  reset(status = RST_CANCEL): void {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(this.id, 0);
    body.writeUInt32BE(status, 4);
    this.session.send(RST_STREAM, 0, body);
    this.aborted();
  }

  /** @internal */ remoteData(chunk: Buffer, fin: boolean): void {
    if (this.remoteClosed) return;
    if (chunk.length > 0) this.onData(chunk);
    if (fin) {
      this.remoteClosed = true;
      this.onEnd();
      this.finishIfDone();
    }
  }
  /** @internal */ aborted(): void {
    this.localClosed = this.remoteClosed = true;
    this.session.forget(this.id);
    this.onReset();
  }
  private finishIfDone(): void { if (this.localClosed && this.remoteClosed) this.session.forget(this.id); }
}

export class SpdySession {
  private readonly streams = new Map<number, SpdyStream>();
  private pending: Buffer = Buffer.alloc(0);
  private work: Promise<void> = Promise.resolve();
  private readonly inflater: Inflate = createInflate({ dictionary: SPDY_HEADER_DICTIONARY });
  private headerStreamStarted = false;
  private lastStreamId = 0;
  private closed = false;

  constructor(private readonly transport: SpdyTransport, private readonly onStream: (s: SpdyStream) => void) {
    this.inflater.on('error', () => this.close());
  }

  /** Bytes from the client, in order. */
  receive(bytes: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, bytes]) : bytes;
    this.work = this.work.then(() => this.drain()).catch(() => this.close());
  }

  /** Ends the session: GOAWAY, every open stream aborted, the transport closed. */
  close(): void {
    if (this.closed) return;
    const body = Buffer.alloc(8);
    body.writeUInt32BE(this.lastStreamId, 0);
    this.send(GOAWAY, 0, body);
    this.closed = true;
    this.transport.end();
    this.transportClosed();
  }

  /** The transport went away: abort every stream so that nothing behind them stays open. */
  transportClosed(): void {
    this.closed = true;
    for (const s of [...this.streams.values()]) s.aborted();
    this.inflater.close();
  }

  /** @internal */ send(type: number, flags: number, ...body: Buffer[]): boolean {
    if (this.closed) return true;
    const payload = Buffer.concat(body);
    const head = Buffer.alloc(8);
    head.writeUInt32BE(((0x8000 | VERSION) << 16 | type) >>> 0, 0);
    head.writeUInt32BE((flags << 24 | payload.length) >>> 0, 4);
    return this.transport.write(Buffer.concat([head, payload]));
  }

  /** @internal */ sendData(id: number, data: Buffer, fin: boolean): boolean {
    if (this.closed) return true;
    const head = Buffer.alloc(8);
    head.writeUInt32BE(id & 0x7fffffff, 0);
    head.writeUInt32BE(((fin ? FLAG_FIN : 0) << 24 | data.length) >>> 0, 4);
    return this.transport.write(Buffer.concat([head, data]));
  }

  /** @internal */ onceDrained(cb: () => void): void {
    if (this.closed) return cb();
    this.transport.onceDrained(cb);
  }

  /** @internal */ forget(id: number): void { this.streams.delete(id); }

  /**
   * A header block for the peer's zlib stream. Stored (uncompressed) deflate blocks are valid
   * zlib and need no compressor state; the first block opens the stream with a zlib header, and
   * each ends with an empty stored block, as a sync flush does: Go's reader hands over what it
   * has decoded only when it reaches one.
   */
  encodeHeaders(headers: Record<string, string>): Buffer {
    const parts: Buffer[] = [u32(Object.keys(headers).length)];
    for (const [k, v] of Object.entries(headers)) parts.push(u32(Buffer.byteLength(k)), Buffer.from(k), u32(Buffer.byteLength(v)), Buffer.from(v));
    const raw = Buffer.concat(parts);
    const stored = Buffer.alloc(5);
    stored.writeUInt16LE(raw.length, 1);
    stored.writeUInt16LE(~raw.length & 0xffff, 3);
    const zlibHeader = this.headerStreamStarted ? [] : [Buffer.from([0x78, 0x01])];
    this.headerStreamStarted = true;
    return Buffer.concat([...zlibHeader, stored, raw, SYNC_FLUSH]);
  }

  private async drain(): Promise<void> {
    while (!this.closed && this.pending.length >= 8) {
      const length = this.pending.readUInt32BE(4) & 0xffffff;
      if (this.pending.length < 8 + length) return;
      const first = this.pending.readUInt32BE(0);
      const flags = this.pending[4]!;
      const body = this.pending.subarray(8, 8 + length);
      this.pending = this.pending.subarray(8 + length);
      if (first & 0x80000000) await this.control((first >>> 16) & 0x7fff, first & 0xffff, flags, body);
      else this.streams.get(first & 0x7fffffff)?.remoteData(body, (flags & FLAG_FIN) !== 0);
    }
  }

  private async control(version: number, type: number, flags: number, body: Buffer): Promise<void> {
    if (version !== VERSION) return this.close();
    switch (type) {
      case SYN_STREAM: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        const headers = parseHeaderBlock(await this.inflate(body.subarray(10)));
        this.lastStreamId = Math.max(this.lastStreamId, id);
        const stream = new SpdyStream(this, id, headers);
        this.streams.set(id, stream);
        this.onStream(stream);
        if (flags & FLAG_FIN) stream.remoteData(Buffer.alloc(0), true);
        return;
      }
      case HEADERS:
      case SYN_REPLY:
        // Keep the shared decompressor in step; the client sends no headers that matter after SYN_STREAM.
        await this.inflate(body.subarray(4));
        return;
      case RST_STREAM:
        this.streams.get(body.readUInt32BE(0) & 0x7fffffff)?.aborted();
        return;
      // Client pings have odd ids; answering is echoing.
      case PING:
        if (body.readUInt32BE(0) % 2 === 1) this.send(PING, 0, body);
        return;
      case GOAWAY:
        return this.close();
      default:
        return; // SETTINGS, WINDOW_UPDATE: nothing to do without flow control
    }
  }

  /** One header block through the connection's single zlib stream (each block ends in a sync flush). */
  private inflate(block: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const collect = (chunk: Buffer): void => void out.push(chunk);
      this.inflater.on('data', collect);
      this.inflater.once('error', reject);
      this.inflater.write(block);
      this.inflater.flush(zc.Z_SYNC_FLUSH, () => {
        this.inflater.off('data', collect);
        this.inflater.off('error', reject);
        resolve(Buffer.concat(out));
      });
    });
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** A SPDY/3 name/value block: header names are lower-case; several values are NUL-separated (first kept). */
function parseHeaderBlock(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let at = 4;
  const count = block.readUInt32BE(0);
  const take = (): string => {
    const len = block.readUInt32BE(at);
    const text = block.toString('utf8', at + 4, at + 4 + len);
    at += 4 + len;
    return text;
  };
  for (let i = 0; i < count; i++) {
    const name = take();
    headers[name.toLowerCase()] = take().split('\0')[0] ?? '';
  }
  return headers;
}
