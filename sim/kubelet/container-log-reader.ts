// Reading a container run's log file as the kubelet does: from an offset (the start, or where the
// last N lines begin, found by reading backwards from the end), in bounded chunks, asynchronously,
// and when following, on across rotations until the run ends. Nothing reads a whole file at once,
// so `kubectl logs --tail 1` of a large log costs a block, and a slow reader holds back only itself.
import { once } from 'node:events';
import { open, type FileHandle } from 'node:fs/promises';
import type { CriLogEntry, LogInstance, LogStream } from './container-log.js';

/** Bytes read per step, forwards or backwards. */
const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

function parseEntry(line: string): CriLogEntry | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  return m ? { time: m[1]!, stream: m[2] as LogStream, partial: m[3] === 'P', text: m[4]! } : undefined;
}

/** The byte offset at which the run's last `n` lines start (a line being its partial pieces
 *  and the piece that ends it), reading back from the end a chunk at a time. */
export async function tailOffset(run: LogInstance, n: number): Promise<number> {
  for (;;) {
    const { generation, size } = run;
    if (n <= 0 || size === 0) return size;
    const file = await open(run.path, 'r');
    try {
      if (run.generation !== generation) continue; // rotated while opening: start again on the new file
      let base = size;
      let suffix = Buffer.alloc(0);
      while (base > 0) {
        const start = Math.max(0, base - CHUNK);
        const block = Buffer.alloc(base - start);
        await file.read(block, 0, block.length, start);
        suffix = Buffer.concat([block, suffix]);
        base = start;
        const found = nthLineStart(suffix, base, n);
        if (found !== undefined) return found;
      }
      return 0;
    } finally {
      await file.close();
    }
  }
}

/** Where the last `n` lines start, if `suffix` (the file from offset `base` to its end) shows it. */
function nthLineStart(suffix: Buffer, base: number, n: number): number | undefined {
  // Entries start after each newline; the first piece of the suffix is whole only at the file's start.
  const entries: { start: number; partial: boolean | undefined }[] = [];
  let start = 0;
  for (let nl = suffix.indexOf(NEWLINE); nl !== -1; nl = suffix.indexOf(NEWLINE, start)) {
    const whole = start > 0 || base === 0;
    entries.push({ start, partial: whole ? parseEntry(suffix.toString('utf8', start, nl))?.partial ?? false : undefined });
    start = nl + 1;
  }
  let lines = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const before = i === 0 ? (base === 0 ? false : undefined) : entries[i - 1]!.partial;
    if (before === undefined) return undefined; // not known yet: read further back
    if (before === false && ++lines === n) return base + entries[i]!.start;
  }
  return base === 0 ? 0 : undefined;
}

/**
 * The run's entries from byte `from` on, a chunk's worth at a time. Without `follow`, up to what
 * was written when it was called; with it, on as the run grows (and across rotations) until the
 * run ends or `signal` aborts. The consumer pulls, so a slow one reads the file later rather than
 * having the output queued for it.
 */
export async function* readRun(run: LogInstance, from: number, follow: boolean, signal: AbortSignal): AsyncGenerator<CriLogEntry[]> {
  let generation = run.generation;
  const stopAt = follow ? Infinity : run.size;
  let file: FileHandle = await open(run.path, 'r');
  let offset = from;
  let carry = Buffer.alloc(0);
  const buf = Buffer.alloc(CHUNK);
  try {
    for (;;) {
      // Noted before reading: a read that then finds nothing has seen everything written before.
      const { generation: current, ended } = run;
      const { bytesRead } = await file.read(buf, 0, Math.max(0, Math.min(CHUNK, stopAt - offset)), offset);
      if (bytesRead > 0) {
        offset += bytesRead;
        const bytes = Buffer.concat([carry, buf.subarray(0, bytesRead)]);
        const end = bytes.lastIndexOf(NEWLINE) + 1;
        carry = Buffer.from(bytes.subarray(end));
        const entries = bytes.toString('utf8', 0, end).split('\n').flatMap((l) => parseEntry(l) ?? []);
        if (entries.length > 0) yield entries;
        continue;
      }
      if (!follow || signal.aborted) return;
      if (generation !== current) { // this file is read to its end: on to the one that replaced it
        await file.close();
        file = await open(run.path, 'r');
        generation = current;
        offset = 0;
        carry = Buffer.alloc(0);
        continue;
      }
      if (ended) return;
      if (run.generation === generation && offset < run.size) continue;
      // Ended while the read was in flight: its 'change' is gone, so read once more and stop.
      if (run.ended) continue;
      if (run.generation === generation) await once(run, 'change', { signal }).catch(() => undefined);
    }
  } finally {
    await file.close();
  }
}
