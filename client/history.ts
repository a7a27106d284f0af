// The session's history as the client reads it (Client.history) and the Chrome trace written
// from it (Client.traceEvents).
import { writeFile } from 'node:fs/promises';
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

export async function fetchHistory(rpc: SchedulerRpc, request?: DeltaRequest): Promise<HistorySnapshot | HistoryDelta> {
  if (request !== undefined) checkDeltaRequest(request);
  return await rpc.history(request) as HistorySnapshot | HistoryDelta;
}

/** Writes the history (or the window asked for) as a Chrome trace; returns the events written. */
export async function writeTraceEvents(rpc: SchedulerRpc, path: string, options: TraceEventsOptions = {}): Promise<number> {
  if (typeof path !== 'string' || path === '') throw new TypeError('traceEvents needs a file path');
  let snapshot = await fetchHistory(rpc) as HistorySnapshot;
  if (options.fromMs !== undefined || options.toMs !== undefined) {
    snapshot = sliceHistory(snapshot, options.fromMs ?? -Infinity, options.toMs ?? Infinity);
  }
  const trace = toChromeTrace(snapshot);
  await writeFile(path, JSON.stringify(trace));
  return trace.traceEvents.length;
}
