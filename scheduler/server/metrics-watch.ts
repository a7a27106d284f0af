// Control.WatchMetrics: cluster metrics and the adaptive figures per group, checked every
// 100 ms and pushed to a watcher when they changed (idle times aside, which change always) or
// when its interval passed. Watchers asking the same thing share one computation per tick, and
// the tick runs only while anyone watches.
import type * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { ConnectionLostError, ProtocolError } from '../../protocol/errors.js';
import { toServiceError } from '../../protocol/wire-errors.js';
import { DEFAULT_TARGET_DURATION_MS, type GroupShape } from '../state/adaptive.js';
import type { SchedulerCore } from './core.js';
import { adaptiveMetrics, clusterMetrics } from './metrics.js';

type Call = grpc.ServerWritableStream<kubedask.v1.WatchMetricsRequest, kubedask.v1.MetricsUpdate.$Properties>;
type Update = kubedask.v1.MetricsUpdate.$Properties;

const TICK_MS = 100;
const DEFAULT_INTERVAL_S = 1;
const MIN_INTERVAL_S = 0.1;

interface Watcher { readonly call: Call; readonly intervalMs: number; lastSentAt: number; lastSignature: string }
/** Watchers of the same target and groups. */
interface Topic { readonly targetMs: number; readonly groups: GroupShape[]; readonly watchers: Set<Watcher> }

function parse(r: kubedask.v1.WatchMetricsRequest): { targetMs: number; intervalMs: number; groups: GroupShape[] } {
  const seconds = (what: string, v: number): number => {
    if (!(v >= 0) || !Number.isFinite(v)) throw new ProtocolError(`${what} must be a finite number >= 0, got ${v}`);
    return v;
  };
  const targetMs = seconds('target_duration_seconds', r.targetDurationSeconds ?? 0) * 1000 || DEFAULT_TARGET_DURATION_MS;
  const interval = Math.max(MIN_INTERVAL_S, seconds('interval_seconds', r.intervalSeconds ?? 0) || DEFAULT_INTERVAL_S);
  const names = new Set<string>();
  const groups = (r.groups ?? []).map((g): GroupShape => {
    const name = g.name ?? '';
    if (names.has(name)) throw new ProtocolError(`group "${name}" is listed twice`);
    names.add(name);
    const resources = Object.fromEntries(Object.entries(g.resources ?? {}).filter(([, n]) => n !== 0));
    for (const [k, n] of Object.entries(resources)) {
      if (!(n > 0) || !Number.isFinite(n)) throw new ProtocolError(`group "${name}": resource ${k} must be a finite number >= 0, got ${n}`);
    }
    return { name, resources, threads: g.threads ?? 0, memoryLimit: Number(g.memoryLimit ?? 0) };
  });
  return { targetMs, intervalMs: interval * 1000, groups };
}

/** The update without the fields that change with time alone. */
function signature(u: Update): string {
  const cluster = u.cluster!;
  return JSON.stringify([
    { ...cluster, idleSeconds: 0, workerMetrics: cluster.workerMetrics!.map((w) => ({ ...w, idleSeconds: 0 })) },
    u.groups!.map((g) => ({ ...g, idleSeconds: 0 })),
    u.tasksUnplaceable,
  ]);
}

export class MetricsWatches {
  private readonly topics = new Map<string, Topic>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly core: SchedulerCore) {}

  /** The WatchMetrics handler: the first update goes at once. */
  readonly watch = (call: Call): void => {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(call.request);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      call.emit('error', toServiceError(new ProtocolError(`WatchMetrics: ${err.message}`)));
      return;
    }
    this.core.adaptiveShape = { targetMs: parsed.targetMs, groups: parsed.groups };
    const key = JSON.stringify([parsed.targetMs, parsed.groups]);
    let topic = this.topics.get(key);
    if (!topic) {
      topic = { targetMs: parsed.targetMs, groups: parsed.groups, watchers: new Set() };
      this.topics.set(key, topic);
    }
    const w: Watcher = { call, intervalMs: parsed.intervalMs, lastSentAt: 0, lastSignature: '' };
    topic.watchers.add(w);
    const t = topic;
    call.on('cancelled', () => this.drop(key, t, w));
    call.on('error', () => this.drop(key, t, w));
    const update = this.compute(topic);
    this.send(w, update, signature(update), Date.now());
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  };

  /** Ends every watch with UNAVAILABLE (the scheduler is going away) and stops the tick. */
  close(): void {
    for (const [key, topic] of this.topics) {
      for (const w of topic.watchers) {
        this.drop(key, topic, w);
        w.call.emit('error', toServiceError(new ConnectionLostError('scheduler shutting down')));
      }
    }
  }

  private compute(topic: Topic): Update {
    const adaptive = adaptiveMetrics(this.core, topic.targetMs, topic.groups);
    return { cluster: clusterMetrics(this.core), groups: adaptive.groups, tasksUnplaceable: adaptive.tasksUnplaceable };
  }

  private tick(): void {
    const now = Date.now();
    for (const topic of this.topics.values()) {
      const update = this.compute(topic);
      const sig = signature(update);
      for (const w of topic.watchers) {
        if (sig !== w.lastSignature || now - w.lastSentAt >= w.intervalMs) this.send(w, update, sig, now);
      }
    }
  }

  private send(w: Watcher, update: Update, sig: string, now: number): void {
    if (w.call.cancelled || w.call.writableEnded || w.call.destroyed) return;
    w.call.write(update);
    w.lastSentAt = now;
    w.lastSignature = sig;
  }

  private drop(key: string, topic: Topic, w: Watcher): void {
    topic.watchers.delete(w);
    if (topic.watchers.size === 0 && this.topics.get(key) === topic) this.topics.delete(key);
    if (this.topics.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
