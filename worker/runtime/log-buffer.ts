// A worker's recent log lines (its own and its tasks' console output), kept for
// client.getWorkerLogs() as Dask's workers keep `distributed.admin.log-length` lines. Bounded
// twice, so whatever tasks print the memory held stays small: at most `maxLines` lines and
// `maxChars` characters of messages in all; the oldest lines go first.
import type { LogRecord } from '../../protocol/log.js';

export interface WorkerLogLine {
  /** Milliseconds since the Unix epoch. */
  time: number;
  level: LogRecord['level'];
  message: string;
  /** The task whose console output this is; '' for the worker's own lines. */
  key: string;
}

/** Lines kept by default, as Dask's default log length. */
export const DEFAULT_LOG_LINES = 10_000;
/** Characters of all kept messages together, by default (about 8 MiB of text at most). */
export const DEFAULT_LOG_CHARS = 4 * 1024 * 1024;
/** A longer line is cut to this many characters (and says how many it lost). */
export const MAX_LINE_CHARS = 16 * 1024;

/** `text`, or its first MAX_LINE_CHARS characters and how many more there were. */
export function truncateLine(text: string): string {
  if (text.length <= MAX_LINE_CHARS) return text;
  return `${text.slice(0, MAX_LINE_CHARS)}... (${text.length - MAX_LINE_CHARS} more characters)`;
}

export class LogBuffer {
  private readonly ring: Array<WorkerLogLine | undefined>;
  private head = 0;
  private size = 0;
  private chars = 0;

  constructor(readonly maxLines = DEFAULT_LOG_LINES, readonly maxChars = DEFAULT_LOG_CHARS) {
    if (!Number.isInteger(maxLines) || maxLines < 0) throw new RangeError(`the number of log lines kept must be an integer >= 0, got ${maxLines}`);
    if (!Number.isInteger(maxChars) || maxChars < 0) throw new RangeError(`the log characters kept must be an integer >= 0, got ${maxChars}`);
    this.ring = new Array<WorkerLogLine | undefined>(maxLines);
  }

  get length(): number {
    return this.size;
  }

  push(line: WorkerLogLine): void {
    if (this.maxLines === 0) return;
    const message = truncateLine(line.message);
    if (message.length > this.maxChars) return;
    while (this.size === this.maxLines || this.chars + message.length > this.maxChars) this.dropOldest();
    this.ring[(this.head + this.size) % this.maxLines] = message === line.message ? line : { ...line, message };
    this.size++;
    this.chars += message.length;
  }

  /** The `n` most recent lines (all kept when n is 0 or absent), oldest first. */
  recent(n = 0): WorkerLogLine[] {
    const count = n > 0 ? Math.min(n, this.size) : this.size;
    const out: WorkerLogLine[] = [];
    for (let i = this.size - count; i < this.size; i++) out.push(this.ring[(this.head + i) % this.maxLines]!);
    return out;
  }

  private dropOldest(): void {
    const oldest = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.maxLines;
    this.size--;
    this.chars -= oldest.message.length;
  }
}

/** Fields that every line of a worker carries or that a line shows apart: not repeated in its message. */
const SHOWN_APART = new Set(['worker', 'key', 'thread']);

/** A worker's own log line as getWorkerLogs shows it: the message, then its fields as name=value. */
export function lineOfRecord(record: LogRecord): WorkerLogLine {
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
