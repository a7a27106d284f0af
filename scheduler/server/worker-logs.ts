// Scheduler.WorkerLogs: asks workers for their recent log lines (WorkerData.Logs), all at once,
// each within the timeout. Every worker asked has an entry in the reply: its lines, or why there
// are none (it did not answer in time, it failed, no connected worker has that name), so a
// silent worker is reported, never just missing.
import * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { DEFAULT_LOGS_TIMEOUT_MS, type PeerClients } from '../../protocol/data-client.js';
import type { SchedulerCore } from './core.js';
import type { WorkerLink } from './links.js';

type Request = kubedask.v1.WorkerLogsRequest;
type Reply = kubedask.v1.WorkerLogsReply.$Properties;
type Entry = kubedask.v1.WorkerLogs.$Properties;

export function workerLogsHandler(core: SchedulerCore, peers: PeerClients) {
  return (call: grpc.ServerUnaryCall<Request, Reply>, cb: grpc.sendUnaryData<Reply>): void => {
    const { n, workers, timeoutMs } = call.request;
    void collectWorkerLogs(core, peers, n, workers, timeoutMs || DEFAULT_LOGS_TIMEOUT_MS).then((entries) => cb(null, { workers: entries }));
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

function whyNoLogs(err: grpc.ServiceError, timeoutMs: number): string {
  switch (err.code) {
    case grpc.status.DEADLINE_EXCEEDED: return `the worker did not answer within ${timeoutMs} ms`;
    case grpc.status.UNIMPLEMENTED: return 'the worker does not serve its logs (an older kubedask version)';
    default: return `asking the worker failed: ${err.details || err.message}`;
  }
}
