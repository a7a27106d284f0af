// The scheduler's I/O shell around the pure SchedulerState: it turns wire traffic into
// events, and the state's messages into sends on worker and client streams.
import { randomUUID } from 'node:crypto';
import { kubedask } from '../../protocol/generated/kubedask.js';
import { SchedulerState, type SchedulerStateOptions } from '../state/scheduler-state.js';
import { DEFAULT_TARGET_DURATION_MS, type GroupShape } from '../state/adaptive.js';
import { SessionHistory } from '../history/session-history.js';
import type { SchedulerEvent, SchedulerMessage, TaskError } from '../state/types.js';
import { ClientLink, WorkerLink } from './links.js';
import { Retirements } from './retirement.js';
import { Balances } from './balance.js';

type FunctionDef = kubedask.v1.FunctionDef.$Properties;
type TaskSpec = kubedask.v1.TaskSpec.$Properties;
type Payload = kubedask.v1.Payload.$Properties;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type EventWithoutStimulus = DistributiveOmit<SchedulerEvent, 'stimulusId'>;

const KeyState = kubedask.v1.KeyEvent.State;
const clientKeyStates = {
  finished: KeyState.FINISHED,
  erred: KeyState.ERRED,
  cancelled: KeyState.CANCELLED,
  lost: KeyState.LOST,
} as const;

export class SchedulerCore {
  readonly id = `scheduler-${randomUUID().slice(0, 8)}`;
  readonly state: SchedulerState;
  readonly functions = new Map<string, FunctionDef>();
  readonly modules = new Map<string, string>();
  readonly workers = new Map<string, WorkerLink>();
  readonly clients = new Map<string, ClientLink>();
  readonly retirements = new Retirements();
  readonly balances = new Balances();
  /** When the scheduler last had no tasks at all (for idle time), or undefined while busy. */
  idleSince: number | undefined = Date.now();
  /** The target duration and group shapes of the latest WatchMetrics request (the operator's):
   *  the Prometheus gauges use them, so they cover groups at zero and the cluster's target. */
  adaptiveShape: { targetMs: number; groups: GroupShape[] } | undefined;
  /** What the dashboard, reports, traces and Client.History read (see history/types.ts). */
  readonly history: SessionHistory;
  private stimulus = 0;
  /** The value that came with the task-finished event being handled (see finishedWithValue). */
  private arriving: { key: string; value: Payload } | undefined;
  /** Worker names by id until they leave (the state forgets a retired worker before it hangs up). */
  private readonly workerNames = new Map<string, string>();

  constructor(options: SchedulerStateOptions) {
    this.state = new SchedulerState(options);
    this.history = new SessionHistory({
      scheduler: this.id,
      startedAt: Date.now(),
      live: {
        now: () => Date.now(),
        progress: () => this.state.groupProgress(),
        load: (name) => {
          const link = this.workerByName(name);
          return link ? this.state.workerLoad(link.def.workerId) : undefined;
        },
      },
    });
  }

  /**
   * A task's finish and the value its worker sent along (TaskFinished.value): the clients told
   * of the finish get the value with the event, so they need no Gather for it.
   */
  finishedWithValue(event: Extract<EventWithoutStimulus, { type: 'task-finished' }>, value: Payload): void {
    this.arriving = { key: event.key, value };
    try {
      this.handle(event);
    } finally {
      this.arriving = undefined;
    }
  }

  handle(event: EventWithoutStimulus): void {
    this.recordInHistory(event);
    const stimulusId = `${event.type}-${++this.stimulus}`;
    const messages = this.state.handle({ ...event, stimulusId } as SchedulerEvent);
    if (event.type === 'worker-removed') this.recordKilled();
    for (const message of messages) this.dispatch(message);
    this.trackIdle();
    // Only the event's worker and the workers messaged can have gained or lost tasks.
    if ('workerId' in event) this.trackWorkerIdle(event.workerId);
    for (const message of messages) if ('workerId' in message) this.trackWorkerIdle(message.workerId);
    if (event.type === 'worker-removed') this.retirements.left(event.workerId);
  }

  /** A cluster sample for the history's series, when one is due (at most once a second). */
  sampleHistory(): void {
    const now = Date.now();
    if (!this.history.wantsSample(now)) return;
    const c = this.state.counts();
    const shape = this.adaptiveShape;
    const adaptive = this.state.adaptive({ targetDurationMs: shape?.targetMs ?? DEFAULT_TARGET_DURATION_MS, groups: shape?.groups ?? [] });
    const targets: Record<string, number | null> = {};
    for (const g of adaptive.groups) targets[g.name] = g.target;
    this.history.sample(now, { workers: c.workers, processing: c.processing, queued: c.queued + c.noWorker, memory: c.memoryBytes, targets });
  }

  /** Worker arrivals and departures and the scheduler's own retirements, before the state
   *  forgets what they name. */
  private recordInHistory(event: EventWithoutStimulus): void {
    const now = Date.now();
    if (event.type === 'worker-added') {
      const w = event.worker;
      this.workerNames.set(w.workerId, w.name);
      this.history.workerAdded(now, { name: w.name, address: w.address, group: w.group, nthreads: w.nthreads, memoryLimit: w.memoryLimit });
    } else if (event.type === 'worker-removed') {
      const name = this.workerNames.get(event.workerId);
      this.workerNames.delete(event.workerId);
      if (name !== undefined) this.history.workerRemoved(now, name, event.reason);
    } else if (event.type === 'retire-workers') {
      const byGroup = new Map<string, string[]>();
      for (const id of event.workerIds) {
        const link = this.workers.get(id);
        if (link) byGroup.set(link.def.group, [...(byGroup.get(link.def.group) ?? []), link.def.name]);
      }
      for (const [group, names] of byGroup) {
        let from = 0;
        for (const link of this.workers.values()) if (link.def.group === group && !this.state.retiring(link.def.workerId)) from++;
        this.history.recordDecision({ t: now, source: 'scheduler', group, from, to: Math.max(0, from - names.length), reason: `retire ${names.join(', ')}` });
      }
    }
  }

  /** Tasks that erred with KilledWorker (on the scheduler, not on a worker) go to the history's failed tasks. */
  private recordKilled(): void {
    const now = Date.now();
    for (const { key, group, error } of this.state.erredByLastEvent()) {
      this.history.taskErred(now, {
        worker: error.worker, key, group, thread: -1, startMs: 0, durationMs: 0,
        error: { name: error.name, message: error.message, stack: error.stack },
      });
    }
  }

  workerByName(name: string): WorkerLink | undefined {
    for (const link of this.workers.values()) if (link.def.name === name) return link;
    return undefined;
  }

  broadcastModule(name: string, source: string): void {
    this.modules.set(name, source);
    for (const link of this.workers.values()) link.send({ module: { name, source } });
  }

  private dispatch(message: SchedulerMessage): void {
    switch (message.type) {
      case 'compute':
        return this.sendCompute(message.workerId, message.key, message.whoHas, message.reportValue);
      case 'free-keys':
        this.workers.get(message.workerId)?.send({ free: { keys: message.keys } });
        return;
      case 'cancel-compute':
        this.workers.get(message.workerId)?.send({ cancel: { key: message.key } });
        return;
      case 'steal':
        this.workers.get(message.workerId)?.send({ steal: { key: message.key } });
        return;
      case 'replicate':
        this.workers.get(message.workerId)?.send({ replicate: { whoHas: [{ key: message.key, addresses: message.from }] } });
        return;
      case 'worker-retired': {
        const link = this.workers.get(message.workerId);
        if (link) {
          link.retiring = true; // its stream ending is a clean exit
          link.send({ close: { reason: 'retired' } });
        }
        this.retirements.settle(message.workerId, { retired: true });
        return;
      }
      case 'retire-refused':
        this.retirements.settle(message.workerId, { retired: false, reason: message.reason });
        return;
      case 'balance-data-done':
        this.balances.settle(message.requestId, { moved: message.moved, bytes: message.bytes, dropped: message.dropped, abandoned: message.abandoned });
        return;
      case 'client-key':
        this.clients.get(message.clientId)?.send({
          key: message.key,
          state: clientKeyStates[message.state],
          nbytes: message.nbytes ?? 0,
          error: message.error ? toRemoteError(message.key, message.error) : null,
          value: message.state === 'finished' && this.arriving?.key === message.key ? this.arriving.value : null,
        });
        return;
    }
  }

  private sendCompute(workerId: string, key: string, whoHas: Record<string, string[]>, reportValue: boolean): void {
    const link = this.workers.get(workerId);
    if (!link) return;
    const task = this.state.taskSpec(key) as TaskSpec;
    const functions: FunctionDef[] = [];
    const fnId = task.functionId ?? '';
    if (!link.sentFunctions.has(fnId)) {
      const fn = this.functions.get(fnId);
      if (fn) functions.push(fn);
      link.sentFunctions.add(fnId);
    }
    link.send({
      compute: {
        task,
        whoHas: Object.entries(whoHas).map(([k, addresses]) => ({ key: k, addresses })),
        functions,
        reportValue,
      },
    });
  }

  private trackWorkerIdle(workerId: string): void {
    const link = this.workers.get(workerId);
    if (!link) return;
    const busy = (this.state.workerSummary(workerId)?.processing ?? 0) > 0;
    if (busy) link.idleSince = undefined;
    else link.idleSince ??= Date.now();
  }

  private trackIdle(): void {
    const c = this.state.counts();
    const busy = c.waiting + c.queued + c.noWorker + c.processing > 0;
    if (busy) this.idleSince = undefined;
    else if (this.idleSince === undefined) this.idleSince = Date.now();
  }
}

function toRemoteError(key: string, e: TaskError): kubedask.v1.RemoteError.$Properties {
  return { key, name: e.name, message: e.message, stack: e.stack, worker: e.worker };
}
