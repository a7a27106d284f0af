// WorkerStream.Connect: one bidirectional stream per worker. Its end means the worker left.
import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { ProtocolError } from '../../protocol/errors.js';
import { toServiceError } from '../../protocol/wire-errors.js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import type { SchedulerCore } from './core.js';
import { WorkerLink } from './links.js';
import type { Logger } from '../../protocol/log.js';

type WorkerCall = grpc.ServerDuplexStream<kubedask.v1.WorkerBatch, kubedask.v1.SchedulerBatch.$Properties>;
type WorkerEvent = kubedask.v1.WorkerEvent.$Properties;

export function workerStreamHandlers(core: SchedulerCore, log: Logger) {
  return {
    connect(call: WorkerCall): void {
      let link: WorkerLink | undefined;
      let gone = false;
      const leave = (reason: string) => {
        if (gone) return;
        gone = true;
        if (!link) return;
        core.workers.delete(link.def.workerId);
        log.info('worker left', { worker: link.def.name, reason });
        core.handle({ type: 'worker-removed', workerId: link.def.workerId, reason, graceful: link.retiring });
        link.end();
      };
      call.on('data', (batch: kubedask.v1.WorkerBatch) => {
        if (gone) return;
        try {
          for (const event of batch.events) {
            if (!link) {
              link = register(core, call, event, log);
              if (!link) {
                call.emit('error', toServiceError(new ProtocolError('the first message of a worker stream must be register')));
                return;
              }
              continue;
            }
            onWorkerEvent(core, link, event);
          }
        } catch (err) {
          log.error('bad message from worker', { worker: link?.def.name, error: String(err) });
          call.emit('error', toServiceError(new ProtocolError(`bad message: ${(err as Error).message}`, { cause: err })));
        }
      });
      call.on('end', () => leave('stream closed'));
      call.on('error', (err) => leave(`stream error: ${err.message}`));
      call.on('cancelled', () => leave('stream cancelled'));
      call.on('close', () => leave('connection closed'));
    },
  };
}

function register(core: SchedulerCore, call: WorkerCall, event: WorkerEvent, log: Logger): WorkerLink | undefined {
  const r = event.register;
  if (event.kind !== 'register' || !r) return undefined;
  if (!r.address) throw new ProtocolError('register without a data address');
  const workerId = `worker-${randomUUID().slice(0, 8)}`;
  const name = r.name || workerId;
  if (core.workerByName(name)) throw new ProtocolError(`a worker named ${name} is already connected`);
  const def = {
    workerId,
    name,
    address: r.address,
    nthreads: Math.max(1, r.nthreads || 1),
    memoryLimit: Number(r.memoryLimit ?? 0),
    resources: { ...(r.resources ?? {}) },
    group: r.group ?? '',
  };
  const link = new WorkerLink(def, r.pid ?? 0, call, Date.now());
  core.workers.set(workerId, link);
  link.send({ registered: { workerId, schedulerId: core.id } });
  for (const [name, source] of core.modules) link.send({ module: { name, source } });
  log.info('worker joined', { worker: name, address: def.address, nthreads: def.nthreads, resources: def.resources });
  core.handle({ type: 'worker-added', worker: def });
  core.handle({ type: 'rebalance' }); // it may join idle while others hold work sent ahead
  return link;
}

function onWorkerEvent(core: SchedulerCore, link: WorkerLink, event: WorkerEvent): void {
  const workerId = link.def.workerId;
  link.lastSeen = Date.now();
  switch (event.kind) {
    case 'heartbeat': {
      link.memoryUsed = Number(event.heartbeat?.memoryUsed ?? 0);
      link.spilledBytes = Number(event.heartbeat?.spilledBytes ?? 0);
      link.executing = event.heartbeat?.executing ?? 0;
      link.ready = event.heartbeat?.ready ?? 0;
      core.history.heartbeat(link.lastSeen, link.def.name, {
        managed: link.memoryUsed, rss: Number(event.heartbeat?.rss ?? 0), spilled: link.spilledBytes, executing: link.executing,
      });
      core.handle({ type: 'heartbeat', workerId, memoryUsed: link.memoryUsed });
      return;
    }
    case 'finished': {
      const f = event.finished!;
      recordFinished(core, link, f);
      const finished = { type: 'task-finished', workerId, key: f.key ?? '', nbytes: Number(f.nbytes ?? 0), durationMs: f.durationMs ?? 0 } as const;
      if (f.value) core.finishedWithValue(finished, f.value);
      else core.handle(finished);
      // A thread came free with nothing sent ahead: steal for it now, not at the next tick.
      const processing = core.state.workerSummary(workerId)?.processing ?? Infinity;
      if (processing < link.def.nthreads && core.workers.size > 1) core.handle({ type: 'rebalance' });
      return;
    }
    case 'erred': {
      const e = event.erred!;
      const err = e.error;
      const key = e.key ?? '';
      const group = core.state.taskGroup(key) ?? ''; // read first: the state may forget the key
      core.handle({
        type: 'task-erred', workerId, key, durationMs: e.durationMs ?? 0,
        error: { name: err?.name || 'Error', message: err?.message ?? '', stack: err?.stack ?? '', worker: link.def.name },
      });
      // Only a failure the state took (no retry left, not a stale report) is a failed task.
      if (core.state.erredByLastEvent().some((x) => x.key === key)) {
        core.history.taskErred(link.lastSeen, {
          worker: link.def.name, key, group, thread: e.thread ?? 0, startMs: e.startMs ?? 0, durationMs: e.durationMs ?? 0,
          error: { name: err?.name || 'Error', message: err?.message ?? '', stack: err?.stack ?? '' },
        });
      }
      return;
    }
    case 'added': {
      const a = event.added!;
      core.handle({ type: 'keys-added', workerId, keys: a.keys ?? [], nbytes: (a.nbytes ?? []).map(Number) });
      return;
    }
    case 'missing': {
      const m = event.missing!;
      core.handle({ type: 'missing-data', workerId, key: m.key ?? '', missing: m.missing ?? [] });
      return;
    }
    case 'rejected': {
      const r = event.rejected!;
      core.handle({ type: 'task-rejected', workerId, key: r.key ?? '', reason: r.reason ?? '' });
      return;
    }
    case 'register':
      throw new Error('worker registered twice on one stream');
    default:
      throw new Error('empty worker event');
  }
}

/** The task's run and the transfers made for it, into the task stream (before the state may
 *  forget the keys, and with them their groups). */
function recordFinished(core: SchedulerCore, link: WorkerLink, f: kubedask.v1.ITaskFinished): void {
  const key = f.key ?? '';
  const group = core.state.taskGroup(key) ?? '';
  core.history.taskFinished({
    worker: link.def.name, key, group, thread: f.thread ?? -1, startMs: f.startMs ?? 0, durationMs: f.durationMs ?? 0,
    nbytes: Number(f.nbytes ?? 0),
    transfers: (f.transfers ?? []).map((t) => ({
      key: t.key ?? '', group: core.state.taskGroup(t.key ?? '') ?? group, startMs: t.startMs ?? 0,
      durationMs: t.durationMs ?? 0, nbytes: Number(t.nbytes ?? 0),
    })),
  });
}
