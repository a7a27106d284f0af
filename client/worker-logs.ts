// client.getWorkerLogs(): the public types of workers' recent log lines (hand-written, not the
// generated protobuf ones) and the check of its options.
import { KubedaskError } from '../protocol/errors.js';

export interface WorkerLogLine {
  time: Date;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** The task whose console output this is; absent for the worker's own lines. */
  key?: string;
}

/** One worker's answer: its recent lines, oldest first, or `error` saying why it gave none. */
export interface WorkerLogs {
  /** The worker's name ('' when no connected worker has the address or name asked for). */
  name: string;
  lines: WorkerLogLine[];
  /** Set when the worker gave no lines: it did not answer within the timeout, it failed, or no
   *  connected worker has that address or name. */
  error?: string;
  /** Set when the reply would have been too big (over 32 MiB of lines from all workers): how
   *  many of this worker's oldest lines asked for were left out. Ask for fewer (`n`, `workers`). */
  linesLeftOut?: number;
}

export interface WorkerLogsOptions {
  /** The most recent lines per worker (default 1000; 0: all each worker keeps, up to its
   *  --log-lines, 10 000 by default). */
  n?: number;
  /** Addresses or names of the workers to ask (default: every connected worker). */
  workers?: string[];
  /** How long each worker has to answer, in ms (default 5000). */
  timeoutMs?: number;
}

const MAX_UINT32 = 2 ** 32 - 1;
/** Lines per worker when `n` is not given: enough to read, small enough to ask many workers. */
export const DEFAULT_LOG_LINES_ASKED = 1000;

/** The options as the request carries them (0 meaning "the default"); throws on bad input. */
export function checkWorkerLogsOptions(o: WorkerLogsOptions): { n: number; workers: string[]; timeoutMs: number } {
  const { n = DEFAULT_LOG_LINES_ASKED, workers = [], timeoutMs = 0 } = o;
  if (!Number.isInteger(n) || n < 0 || n > MAX_UINT32) throw new KubedaskError(`getWorkerLogs: n must be an integer >= 0 (lines per worker; 0: all kept), got ${n}`);
  if (o.timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_UINT32)) {
    throw new KubedaskError(`getWorkerLogs: timeoutMs must be a positive integer, got ${timeoutMs}`);
  }
  if (!Array.isArray(workers) || workers.some((w) => typeof w !== 'string' || w === '')) {
    throw new KubedaskError('getWorkerLogs: workers must be an array of worker addresses or names');
  }
  return { n, workers, timeoutMs };
}
