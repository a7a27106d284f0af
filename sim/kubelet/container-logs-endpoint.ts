// The kubelet's GET /containerLogs/{ns}/{pod}/{container}: which run of the container a request
// means, with the real kubelet's messages when there is none, and the output streamed
// (follow, tailLines, limitBytes) until that run ends.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { LogInstance } from './container-log.js';
import { readRun, tailOffset } from './container-log-reader.js';
import type { ContainerLogView } from './pod-runner.js';

export interface LogRequest {
  follow: boolean;
  timestamps: boolean;
  tailLines?: number;
  limitBytes?: number;
  /** Only output written at or after this time (ms since the epoch): sinceSeconds / sinceTime. */
  sinceMs?: number;
}

/** The run whose output is asked for, or the kubelet's error message (it answers 400 with it). */
export function pickInstance(view: ContainerLogView, container: string, pod: string, previous: boolean): LogInstance | string {
  const { state, lastState, log } = view;
  const waiting = state.waiting as { reason?: string } | undefined;
  // The run lastState describes: the latest file while the container waits to restart, else the one before.
  const lastRun = lastState.terminated ? (waiting ? log.current : log.previous) : undefined;
  const named = `container "${container}" in pod "${pod}"`;
  if (previous) return lastRun ?? `previous terminated ${named} not found`;
  if (state.running || state.terminated) return log.current ?? `${named} is terminated`;
  if (lastRun) return lastRun;
  const reason = waiting?.reason;
  switch (reason) {
    case undefined: return `${named} is waiting to start - no logs yet`;
    case 'ErrImagePull': return `${named} is waiting to start: image can't be pulled`;
    case 'ImagePullBackOff': return `${named} is waiting to start: trying and failing to pull image`;
    default: return `${named} is waiting to start: ${reason}`;
  }
}

/** Streams the run's output as asked, pulling more from the file only as the client takes it. */
export async function streamLog(run: LogInstance, req: LogRequest, res: ServerResponse): Promise<void> {
  let budget = req.limitBytes ?? Infinity;
  // A timestamp starts each line, not each piece of one (as the kubelet's log writer does).
  let lineStart = true;
  const gone = new AbortController();
  res.once('close', () => gone.abort());
  const from = req.tailLines === undefined ? 0 : await tailOffset(run, req.tailLines);
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  for await (const entries of readRun(run, from, req.follow, gone.signal)) {
    const since = req.sinceMs;
    const text = entries.filter((r) => since === undefined || Date.parse(r.time) >= since).map((r) => {
      const prefix = req.timestamps && lineStart ? `${r.time} ` : '';
      lineStart = !r.partial;
      return `${prefix}${r.text}${r.partial ? '' : '\n'}`;
    }).join('');
    const bytes = Buffer.from(text);
    const piece = bytes.subarray(0, Math.min(bytes.length, budget));
    budget -= piece.length;
    if (piece.length > 0 && !res.write(piece)) await once(res, 'drain', { signal: gone.signal }).catch(() => undefined);
    if (budget <= 0 || gone.signal.aborted) break;
  }
  res.end();
}
