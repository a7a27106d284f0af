// The session's history as the client reads it (Client.history), and the files written from
// it: the Chrome trace (Client.traceEvents) and the performance report (Client.performanceReport).
import { writeFile } from 'node:fs/promises';
import { applyDelta } from '../scheduler/history/merge.js';
import { checkDeltaRequest } from '../scheduler/history/request.js';
import { sliceHistory } from '../scheduler/history/slice.js';
import { toChromeTrace } from '../scheduler/history/trace.js';
import type { DeltaRequest, HistoryDelta, HistorySnapshot } from '../scheduler/history/types.js';
import type { SchedulerRpc } from './scheduler-rpc.js';

export interface TraceEventsOptions {
  /** Only what overlaps this window (ms since the epoch); default: the whole session. */
  fromMs?: number;
  toMs?: number;
}

/** Stream entries per reply: with keys of ~100 characters a page stays well inside the
 *  64 MiB a gRPC message may have, while a session keeps up to 1,000,000 entries. */
const PAGE_ENTRIES = 100_000;

type HistoryRpc = Pick<SchedulerRpc, 'history'>;

/** The snapshot, or the delta after `request`, fetched a page of entries at a time. */
export async function fetchHistory(rpc: HistoryRpc, request?: undefined, pageEntries?: number): Promise<HistorySnapshot>;
export async function fetchHistory(rpc: HistoryRpc, request: DeltaRequest, pageEntries?: number): Promise<HistoryDelta>;
export async function fetchHistory(
  rpc: HistoryRpc, request?: DeltaRequest, pageEntries = PAGE_ENTRIES,
): Promise<HistorySnapshot | HistoryDelta> {
  if (request !== undefined) checkDeltaRequest(request);
  const limit = request?.maxEntries;
  const pageSize = Math.min(limit ?? pageEntries, pageEntries);
  let got = request
    ? await rpc.history({ ...request, maxEntries: pageSize }) as HistoryDelta
    : await rpc.history({ maxEntries: pageSize }) as HistorySnapshot;
  let entries = got.stream.key.length;
  let page = entries;
  // A full page may have more behind it.
  while (page === pageSize && (limit === undefined || entries < limit)) {
    const d = await rpc.history({
      cursor: got.cursor, lanes: got.lanes.length + (request?.lanes ?? 0), groups: got.groups.length + (request?.groups ?? 0),
      since: got.now, maxEntries: Math.min(pageSize, (limit ?? Infinity) - entries),
    }) as HistoryDelta;
    got = applyDelta(got, d);
    page = d.stream.key.length;
    entries += page;
  }
  return got;
}

/** Writes the history (or the window asked for) as a Chrome trace; returns the events written. */
export async function writeTraceEvents(rpc: SchedulerRpc, path: string, options: TraceEventsOptions = {}): Promise<number> {
  if (typeof path !== 'string' || path === '') throw new TypeError('traceEvents needs a file path');
  let snapshot = await fetchHistory(rpc);
  if (options.fromMs !== undefined || options.toMs !== undefined) {
    snapshot = sliceHistory(snapshot, options.fromMs ?? -Infinity, options.toMs ?? Infinity);
  }
  const trace = toChromeTrace(snapshot);
  await writeFile(path, JSON.stringify(trace));
  return trace.traceEvents.length;
}

export interface PerformanceReportOptions {
  /** The report's heading (default 'kubedask performance report'). */
  title?: string;
}

/**
 * Runs fn, then writes what ran while it did (the history cut to that window) as one
 * self-contained HTML file, as dask.distributed's performance_report does: also when fn throws,
 * whose error then passes on. The report's code is loaded only here.
 */
export async function withPerformanceReport<T>(rpc: SchedulerRpc, path: string, fn: () => T | Promise<T>, options: PerformanceReportOptions = {}): Promise<T> {
  if (typeof path !== 'string' || path === '') throw new TypeError('performanceReport needs a file path');
  if (typeof fn !== 'function') throw new TypeError('performanceReport needs a function to run');
  const from = Date.now();
  let outcome: { value: T } | { error: unknown };
  try {
    outcome = { value: await fn() };
  } catch (error) {
    outcome = { error };
  }
  const to = Date.now();
  const [{ renderReport }, snapshot] = await Promise.all([import('../dashboard/report.js'), fetchHistory(rpc)]);
  await writeFile(path, renderReport(sliceHistory(snapshot, from, to), options));
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}
