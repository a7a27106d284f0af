// Scheduler.WorkerLogs: asks workers for their recent log lines (WorkerData.Logs), all at once,
// each within the timeout. Every worker asked has an entry in the reply: its lines, or why there
// are none (it did not answer in time, it failed, no connected worker has that name), so a
// silent worker is reported, never just missing. The reply is one gRPC message, so it is capped
// (MAX_LOGS_REPLY_BYTES): past it, the workers with the most lines lose their oldest ones, and
// their entries say how many.
import * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { DEFAULT_LOGS_TIMEOUT_MS, type PeerClients } from '../../protocol/data-client.js';
import { MAX_MESSAGE_BYTES } from '../../protocol/services.js';
import type { SchedulerCore } from './core.js';
import type { WorkerLink } from './links.js';

type Request = kubedask.v1.WorkerLogsRequest;
type Reply = kubedask.v1.WorkerLogsReply.$Properties;
type Entry = kubedask.v1.WorkerLogs.$Properties;
type Line = kubedask.v1.LogLine.$Properties;

/** Bytes of all lines in one reply, at most: half the message limit, leaving room for framing. */
export const MAX_LOGS_REPLY_BYTES = MAX_MESSAGE_BYTES / 2;
/** An upper bound of a line's encoded size besides its strings (time, tags, lengths). */
const LINE_FRAMING_BYTES = 24;

export function workerLogsHandler(core: SchedulerCore, peers: PeerClients, maxReplyBytes = MAX_LOGS_REPLY_BYTES) {
  return (call: grpc.ServerUnaryCall<Request, Reply>, cb: grpc.sendUnaryData<Reply>): void => {
    const { n, workers, timeoutMs } = call.request;
    void collectWorkerLogs(core, peers, n, workers, timeoutMs || DEFAULT_LOGS_TIMEOUT_MS)
      .then((entries) => cb(null, { workers: capWorkerLogs(entries, maxReplyBytes) }));
  };
}

async function collectWorkerLogs(core: SchedulerCore, peers: PeerClients, n: number, asked: string[], timeoutMs: number): Promise<Entry[]> {
  const links = [...core.workers.values()];
  const targets: Array<WorkerLink | string> = asked.length === 0
    ? links
    : [...new Set(asked)].map((w) => links.find((l) => l.def.address === w || l.def.name === w) ?? w);
  return Promise.all(targets.map(async (target): Promise<Entry> => {
    if (typeof target === 'string') return { address: target, name: '', lines: [], error: `no connected worker has the address or name "${target}"` };
    const { address, name } = target.def;
    try {
      return { address, name, lines: await peers.logs(address, n, timeoutMs) };
    } catch (err) {
      return { address, name, lines: [], error: whyNoLogs(err as grpc.ServiceError, timeoutMs) };
    }
  }));
}

/**
 * The entries with at most `maxBytes` of lines in all. Each worker may keep up to an equal
 * share, and what a smaller worker does not use is shared among the others; a worker over its
 * share loses its oldest lines, counted in linesLeftOut.
 */
export function capWorkerLogs(entries: Entry[], maxBytes: number): Entry[] {
  const sizes = entries.map((e) => (e.lines ?? []).map(encodedBytes));
  const totals = sizes.map((s) => s.reduce((a, b) => a + b, 0));
  if (totals.reduce((a, b) => a + b, 0) <= maxBytes) return entries;
  const share = fairShare(totals, maxBytes);
  return entries.map((entry, i) => {
    if (totals[i]! <= share) return entry;
    const lines = entry.lines ?? [];
    let kept = 0;
    let bytes = 0;
    while (kept < lines.length && bytes + sizes[i]![lines.length - 1 - kept]! <= share) bytes += sizes[i]![lines.length - 1 - kept++]!;
    return { ...entry, lines: lines.slice(lines.length - kept), linesLeftOut: lines.length - kept };
  });
}

/** The largest per-entry allowance s with sum(min(total, s)) <= budget (water-filling). */
function fairShare(totals: number[], budget: number): number {
  const ascending = [...totals].sort((a, b) => a - b);
  let left = budget;
  for (let i = 0; i < ascending.length; i++) {
    const even = Math.floor(left / (ascending.length - i));
    if (ascending[i]! > even) return even;
    left -= ascending[i]!;
  }
  return left;
}

function encodedBytes(line: Line): number {
  return Buffer.byteLength(line.message ?? '') + Buffer.byteLength(line.key ?? '') + Buffer.byteLength(line.level ?? '') + LINE_FRAMING_BYTES;
}

function whyNoLogs(err: grpc.ServiceError, timeoutMs: number): string {
  switch (err.code) {
    case grpc.status.DEADLINE_EXCEEDED: return `the worker did not answer within ${timeoutMs} ms`;
    case grpc.status.UNIMPLEMENTED: return 'the worker does not serve its logs (an older kubedask version)';
    default: return `asking the worker failed: ${err.details || err.message}`;
  }
}
