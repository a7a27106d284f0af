// A worker's recent log lines (its own and its tasks' console output), kept for
// client.getWorkerLogs() as Dask's workers keep `distributed.admin.log-length` lines. Bounded
// twice, so whatever tasks print the memory held stays small: at most `maxLines` lines and
// `maxBytes` UTF-8 bytes of lines in all (as they travel); the oldest lines go first. The ring
// grows as lines come, so a large `maxLines` costs nothing until it is used.
import type { LogRecord } from '../../protocol/log.js';

/** A line as the worker keeps it (the client's WorkerLogLine is what getWorkerLogs gives). */
export interface KeptLogLine {
  /** Milliseconds since the Unix epoch. */
  time: number;
  level: LogRecord['level'];
  message: string;
  /** The task whose console output this is; '' for the worker's own lines. */
  key: string;
}

/** Lines kept by default, as Dask's default log length. */
export const DEFAULT_LOG_LINES = 10_000;
/** The most lines a worker may be told to keep (--log-lines): more would never fit its bytes. */
export const MAX_LOG_LINES = 1_000_000;
/** UTF-8 bytes of all kept lines together, by default. */
export const DEFAULT_LOG_BYTES = 4 * 1024 * 1024;
/** A longer line is cut to this many characters (and says how many it lost). */
export const MAX_LINE_CHARS = 16 * 1024;
/** What a line costs besides its message and key (time, level, framing): empty lines count too. */
export const LINE_OVERHEAD_BYTES = 32;

/** `text`, or its first MAX_LINE_CHARS characters and how many more there were. */
export function truncateLine(text: string): string {
  if (text.length <= MAX_LINE_CHARS) return text;
  return `${text.slice(0, MAX_LINE_CHARS)}... (${text.length - MAX_LINE_CHARS} more characters)`;
}

/** The bytes a line counts for in this buffer's byte bound. */
export function lineBytes(line: { message: string; key: string }): number {
  return Buffer.byteLength(line.message) + Buffer.byteLength(line.key) + LINE_OVERHEAD_BYTES;
}

/** A count of lines a worker may keep: what --log-lines, startWorker and LocalCluster accept. */
export function isValidLogLines(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= MAX_LOG_LINES;
}

export class LogBuffer {
  private ring: Array<KeptLogLine | undefined> = [];
  private head = 0;
  private size = 0;
  private bytes = 0;

  constructor(readonly maxLines = DEFAULT_LOG_LINES, readonly maxBytes = DEFAULT_LOG_BYTES) {
    if (!isValidLogLines(maxLines)) {
      throw new RangeError(`the number of log lines kept must be an integer from 0 to ${MAX_LOG_LINES}, got ${maxLines}`);
    }
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`the log bytes kept must be an integer >= 0, got ${maxBytes}`);
  }

  get length(): number {
    return this.size;
  }

  push(line: KeptLogLine): void {
    if (this.maxLines === 0) return;
    const kept = { ...line, message: truncateLine(line.message) };
    const cost = lineBytes(kept);
    if (cost > this.maxBytes) return;
    while (this.size === this.maxLines || this.bytes + cost > this.maxBytes) this.dropOldest();
    if (this.size === this.ring.length) this.grow();
    this.ring[(this.head + this.size) % this.ring.length] = kept;
    this.size++;
    this.bytes += cost;
  }

  /** The `n` most recent lines (all kept when n is 0 or absent), oldest first. */
  recent(n = 0): KeptLogLine[] {
    const count = n > 0 ? Math.min(n, this.size) : this.size;
    const out: KeptLogLine[] = [];
    for (let i = this.size - count; i < this.size; i++) out.push(this.ring[(this.head + i) % this.ring.length]!);
    return out;
  }

  /** Doubles the ring (up to maxLines), the oldest line first: amortised O(1) per line. */
  private grow(): void {
    const capacity = Math.min(this.maxLines, Math.max(16, this.ring.length * 2));
    const grown = new Array<KeptLogLine | undefined>(capacity);
    for (let i = 0; i < this.size; i++) grown[i] = this.ring[(this.head + i) % this.ring.length];
    this.ring = grown;
    this.head = 0;
  }

  private dropOldest(): void {
    const oldest = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
    this.bytes -= lineBytes(oldest);
  }
}

/** Fields that every line of a worker carries or that a line shows apart: not repeated in its message. */
const SHOWN_APART = new Set(['worker', 'key', 'thread']);

/** A worker's own log line as getWorkerLogs shows it: the message, then its fields as name=value. */
export function lineOfRecord(record: LogRecord): KeptLogLine {
  const parts = [record.msg];
  for (const [name, value] of Object.entries(record.fields)) {
    if (SHOWN_APART.has(name) || value === undefined) continue;
    parts.push(`${name}=${describe(value)}`);
  }
  const key = record.fields.key;
  return { time: record.time, level: record.level, message: parts.join(' '), key: typeof key === 'string' ? key : '' };
}

function describe(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(`${value.name}: ${value.message}`);
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
