// Leader election on a coordination.k8s.io/v1 Lease (client-go's leaderelection): writes
// carry the resourceVersion read, so two electors never both win; expiry is judged by when
// *this* process saw the record change (no trust in other clocks); a leader that cannot renew
// within renewDeadline steps down before any rival can take over (renewDeadline < leaseDuration).
import type { ILease } from 'kubernetes-models/coordination.k8s.io/v1/Lease';
import { isAlreadyExists, isConflict, type KubeApi, type KubeObject } from './kube-api.js';
import { R } from './resources.js';
import { sleep } from './sleep.js';

export interface LeaderElectorOptions {
  api: KubeApi;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number; // default 15
  renewDeadlineMs?: number; // default 10_000
  retryPeriodMs?: number; // default 2_000
  onStartedLeading: () => void;
  /** Called when leadership is lost or given up; called before stop() releases the Lease. */
  onStoppedLeading: () => void;
  /** Failed attempts other than a lost race (conflicts and "held by another" are normal). */
  onError?: (err: unknown) => void;
}

type Lease = KubeObject & Pick<ILease, 'spec'>;

/** MicroTime as Kubernetes writes it: RFC 3339 with microseconds. */
const microTime = (ms = Date.now()): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  private leading = false;
  private running?: Promise<void>;
  private stopper = new AbortController();
  private deadline?: NodeJS.Timeout;
  /** The record last read, and when (monotonic) it was first seen: the basis of expiry. */
  private observed = '';
  private observedAt = 0;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(private readonly o: LeaderElectorOptions) {
    this.leaseMs = (o.leaseDurationSeconds ?? 15) * 1000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = o.retryPeriodMs ?? 2_000;
    if (!(this.renewDeadlineMs < this.leaseMs)) throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
    if (!(this.retryPeriodMs < this.renewDeadlineMs)) throw new Error('leader election: retryPeriod must be shorter than renewDeadline');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.running) return;
    this.stopper = new AbortController();
    this.running = this.loop();
  }

  /** Stops campaigning; a leader steps down and clears the Lease so a successor takes over at once. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await this.running;
    this.running = undefined;
    const wasLeading = this.leading;
    this.stepDown();
    if (wasLeading) await this.release().catch((err) => this.o.onError?.(err));
  }

  private async loop(): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted) {
      const sent = performance.now();
      const held = await this.tryAcquireOrRenew().catch((err) => {
        this.o.onError?.(err);
        return undefined;
      });
      if (signal.aborted) break;
      if (held === true) this.renewed(sent);
      else if (held === false) this.stepDown(); // someone else holds it: we certainly do not lead
      await sleep(this.retryPeriodMs, signal);
    }
  }

  /** Counts from when the write was sent, so this leader's term never outlasts what rivals see. */
  private renewed(sentAt: number): void {
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.stepDown(), Math.max(0, sentAt + this.renewDeadlineMs - performance.now()));
    if (!this.leading) {
      this.leading = true;
      this.o.onStartedLeading();
    }
  }

  private stepDown(): void {
    clearTimeout(this.deadline);
    if (!this.leading) return;
    this.leading = false;
    this.o.onStoppedLeading();
  }

  /** true: we hold the Lease now; false: another holder does; throws on API errors. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name, identity } = this.o;
    const leaseDurationSeconds = this.leaseMs / 1000;
    const lease = await api.get<Lease>(R.leases, namespace, name);
    const now = microTime();
    if (!lease) {
      const body: Lease = {
        apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace },
        spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
      };
      try {
        this.observe(await api.create<Lease>(R.leases, namespace, body));
        return true;
      } catch (err) {
        if (isAlreadyExists(err)) return false;
        throw err;
      }
    }
    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const expiresAt = this.observedAt + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (holder && holder !== identity && performance.now() < expiresAt) return false;
    const next: Lease = {
      ...lease,
      spec: {
        ...spec, holderIdentity: identity, leaseDurationSeconds, renewTime: now,
        ...(holder === identity ? {} : { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      this.observe(await api.replace<Lease>(R.leases, namespace, name, next));
      return true;
    } catch (err) {
      if (isConflict(err)) return false; // a rival wrote first
      throw err;
    }
  }

  private observe(lease: Lease): void {
    const record = `${lease.metadata.resourceVersion}|${lease.spec?.holderIdentity ?? ''}|${lease.spec?.renewTime ?? ''}`;
    if (record !== this.observed) {
      this.observed = record;
      this.observedAt = performance.now();
    }
  }

  /** Clears the holder (and shortens the term) if it is still us, as client-go's ReleaseOnCancel. */
  private async release(): Promise<void> {
    const { api, namespace, name, identity } = this.o;
    const lease = await api.get<Lease>(R.leases, namespace, name);
    if (!lease || lease.spec?.holderIdentity !== identity) return;
    const now = microTime();
    const spec = { ...lease.spec, leaseDurationSeconds: 1, renewTime: now, acquireTime: now };
    delete spec.holderIdentity;
    await api.replace<Lease>(R.leases, namespace, name, { ...lease, spec });
  }
}
