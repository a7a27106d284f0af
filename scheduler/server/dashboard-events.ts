// Server-sent events for the dashboard: each connected page gets the history's delta since what
// it has, about every 500 ms. The timer runs only while a page is connected, so a scheduler
// nobody watches computes nothing; pages at the same point share one delta and one JSON text.
// A push that took long (a busy session makes big deltas) spaces the next one out, so pages
// never take more than about 1/PUSH_SHARE of the scheduler's time.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DeltaRequest, HistorySource } from '../history/types.js';

export const EVENT_INTERVAL_MS = 500;
/** Pushes wait at least this many times as long as the last one took. */
const PUSH_SHARE = 25;

interface Subscriber {
  res: ServerResponse;
  request: DeltaRequest;
  /** The socket's buffer is full: skip it until it drains (its next delta covers the gap). */
  blocked: boolean;
}

export class DashboardEvents {
  private readonly subscribers = new Set<Subscriber>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly history: HistorySource, private readonly intervalMs = EVENT_INTERVAL_MS) {}

  get connected(): number {
    return this.subscribers.size;
  }

  /** Whether the push timer runs (only while a page is connected). */
  get pushing(): boolean {
    return this.timer !== undefined;
  }

  /** Serves GET /api/events?cursor=&lanes=&groups=&since=[&maxEntries=] (what the page holds). */
  subscribe(req: IncomingMessage, res: ServerResponse, request: DeltaRequest): void {
    const subscriber: Subscriber = { res, request, blocked: false };
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write(': kubedask history deltas\n\n');
    this.subscribers.add(subscriber);
    res.on('drain', () => { subscriber.blocked = false; });
    req.on('close', () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stop();
    });
    if (!this.timer) this.schedule(this.intervalMs);
  }

  /** Ends every stream (the dashboard is closing). */
  close(): void {
    for (const { res } of this.subscribers) res.end();
    this.subscribers.clear();
    this.stop();
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      const started = performance.now();
      this.push();
      if (this.subscribers.size > 0) this.schedule(Math.max(this.intervalMs, PUSH_SHARE * (performance.now() - started)));
      else this.timer = undefined;
    }, ms);
    this.timer.unref();
  }

  private push(): void {
    const texts = new Map<string, { text: string; next: DeltaRequest }>();
    for (const subscriber of this.subscribers) {
      if (subscriber.blocked) continue;
      const { cursor, lanes, groups, since, maxEntries } = subscriber.request;
      const key = `${cursor}/${lanes}/${groups}/${since}/${maxEntries}`;
      let out = texts.get(key);
      if (!out) {
        const delta = this.history.delta(subscriber.request);
        out = {
          text: `data: ${JSON.stringify(delta)}\n\n`,
          next: { cursor: delta.cursor, lanes: lanes + delta.lanes.length, groups: groups + delta.groups.length, since: delta.now, maxEntries },
        };
        texts.set(key, out);
      }
      subscriber.request = out.next;
      subscriber.blocked = !subscriber.res.write(out.text);
    }
  }
}

/** The page's DeltaRequest from the query string; a clear message when a field is missing or bad. */
export function parseDeltaRequest(query: URLSearchParams): DeltaRequest | string {
  const request: Partial<DeltaRequest> = {};
  for (const name of ['cursor', 'lanes', 'groups', 'since'] as const) {
    const raw = query.get(name);
    const value = Number(raw);
    // Positions count entries, lanes and groups; `since` is a time in ms.
    const valid = name === 'since' ? Number.isFinite(value) : Number.isSafeInteger(value);
    if (raw === null || raw.trim() === '' || !valid || value < 0) {
      return `/api/events needs ${name} as a non-negative ${name === 'since' ? 'number' : 'integer'} (from the /api/history snapshot), got ${raw === null ? 'none' : JSON.stringify(raw)}`;
    }
    request[name] = value;
  }
  const maxEntries = parseMaxEntries('/api/events', query);
  if (typeof maxEntries === 'string') return maxEntries;
  if (maxEntries !== undefined) request.maxEntries = maxEntries;
  return request as DeltaRequest;
}

/** The optional `maxEntries` of a query (a page of the stream), or a clear message when bad. */
export function parseMaxEntries(path: string, query: URLSearchParams): number | undefined | string {
  const raw = query.get('maxEntries');
  if (raw === null) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(value) || value < 1) {
    return `${path} takes maxEntries as an integer >= 1, got ${JSON.stringify(raw)}`;
  }
  return value;
}
