// The task stream's entries in growable columns, numbered from the session's start. Past the
// cap the oldest go (an eighth of the cap at a time, so dropping stays cheap per entry) and
// `dropped` counts them; entry numbers never change, so a reader's cursor stays valid.
import type { EntryKind, StreamColumns } from './types.js';

export interface StreamEntry {
  start: number;
  duration: number;
  lane: number;
  group: number;
  kind: EntryKind;
  key: string;
  bytes: number;
}

export function emptyColumns(): StreamColumns {
  return { start: [], duration: [], lane: [], group: [], kind: [], key: [], bytes: [] };
}

const COLUMNS = ['start', 'duration', 'lane', 'group', 'kind', 'key', 'bytes'] as const;

/** Appends one entry to every column. */
export function appendEntry(c: StreamColumns, e: StreamEntry): void {
  c.start.push(e.start);
  c.duration.push(e.duration);
  c.lane.push(e.lane);
  c.group.push(e.group);
  c.kind.push(e.kind);
  c.key.push(e.key);
  c.bytes.push(e.bytes);
}

/** Entries `from` .. `to` (array indexes) of every column, copied. */
export function sliceColumns(c: StreamColumns, from: number, to = c.start.length): StreamColumns {
  return {
    start: c.start.slice(from, to), duration: c.duration.slice(from, to), lane: c.lane.slice(from, to),
    group: c.group.slice(from, to), kind: c.kind.slice(from, to), key: c.key.slice(from, to), bytes: c.bytes.slice(from, to),
  };
}

export class StreamStore {
  private readonly columns = emptyColumns();
  /** Number of the first entry kept: the count of those dropped. */
  private base = 0;

  constructor(private readonly cap: number) {
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`the task stream's cap must be a positive integer, got ${cap}`);
  }

  /** Entries appended since the start (the next entry's number). */
  get cursor(): number { return this.base + this.columns.start.length; }

  get dropped(): number { return this.base; }

  push(e: StreamEntry): void {
    const c = this.columns;
    appendEntry(c, e);
    if (c.start.length > this.cap) {
      const n = Math.min(c.start.length, Math.max(c.start.length - this.cap, Math.ceil(this.cap / 8)));
      for (const name of COLUMNS) c[name].splice(0, n);
      this.base += n;
    }
  }

  /** Entries numbered `cursor` and after (those still kept), at most `limit` of them: where
   *  they start, them, and the number after the last. */
  after(cursor: number, limit = Infinity): { from: number; to: number; columns: StreamColumns } {
    const from = Math.min(Math.max(cursor, this.base), this.cursor);
    const to = Math.min(this.cursor, from + limit);
    return { from, to, columns: sliceColumns(this.columns, from - this.base, to - this.base) };
  }
}
