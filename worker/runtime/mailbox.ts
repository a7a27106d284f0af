// A worker's mailbox for collectives: the tasks of one group, one on each of several workers,
// exchange parts step after step straight from worker to worker (WorkerData.Exchange), not
// through the scheduler (a boosting block: its members' addresses, and failures). A part may arrive before this worker's
// task of its group has started: it waits here, within a byte budget and for a while, then
// goes. A group's task closes it when it ends, and what arrives for it later is dropped.

export interface ExchangePart {
  group: string;
  step: number;
  /** Which part of the step this is (a boosting block: the sender's rank); with `failed`, the sender's rank. */
  rank: number;
  data?: Uint8Array;
  /** The sender's task failed: the group ends (every take rejects with this). */
  failed?: string;
}

export interface MailboxOptions {
  /** Bytes of parts held at most; a part past it is refused (its sender's task fails). */
  maxBytes: number;
  /** A group no task has taken from for this long is dropped with its parts. */
  idleMs: number;
  /** Closed groups remembered, so late parts for them are dropped rather than held. */
  closedKept: number;
}

const DEFAULTS: MailboxOptions = { maxBytes: 512 * 2 ** 20, idleMs: 10 * 60_000, closedKept: 1_000 };

export class ExchangeError extends Error {
  override name = 'ExchangeError';
}

interface Waiter {
  step: number;
  ranks: readonly number[];
  resolve: (parts: Map<number, Uint8Array>) => void;
  reject: (err: Error) => void;
}

interface Group {
  parts: Map<string, Uint8Array>;
  failed?: string;
  waiter?: Waiter;
  touched: number;
}

export class Mailbox {
  private readonly groups = new Map<string, Group>();
  private readonly closed = new Set<string>();
  private bytes = 0;
  private readonly options: MailboxOptions;

  constructor(options: Partial<MailboxOptions> = {}, private readonly now: () => number = Date.now) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Bytes held now. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** A part from a peer. Throws when it would pass the byte budget or repeats one held. */
  deliver(part: ExchangePart): void {
    this.expire();
    if (this.closed.has(part.group)) return;
    const g = this.group(part.group);
    if (part.failed !== undefined) {
      g.failed ??= `the task of rank ${part.rank} failed: ${part.failed}`;
      this.settle(g);
      return;
    }
    const data = part.data ?? new Uint8Array(0);
    const id = `${part.step}/${part.rank}`;
    if (g.parts.has(id)) throw new ExchangeError(`collective ${part.group}: part ${part.rank} of step ${part.step} arrived twice`);
    if (this.bytes + data.byteLength > this.options.maxBytes) {
      throw new ExchangeError(`collective ${part.group}: a ${data.byteLength}-byte part would pass this worker's ${this.options.maxBytes}-byte budget for parts not yet taken`);
    }
    g.parts.set(id, data);
    this.bytes += data.byteLength;
    this.settle(g);
  }

  /**
   * Parts `ranks` of `step`, once all have arrived. Rejects when the group
   * fails (a peer said so), when they have not all come within `timeoutMs`, or on `signal`.
   */
  take(group: string, step: number, ranks: readonly number[], timeoutMs: number, signal?: AbortSignal): Promise<Map<number, Uint8Array>> {
    this.expire();
    const ended = this.ended(group);
    if (ended) return Promise.reject(new ExchangeError(ended));
    const g = this.group(group);
    if (g.waiter) return Promise.reject(new ExchangeError(`collective ${group}: two takes at once`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const missing = ranks.filter((r) => !g.parts.has(`${step}/${r}`));
        end(new ExchangeError(`collective ${group}: part ${missing.join(', ')} of step ${step} did not come within ${timeoutMs} ms`));
      }, timeoutMs);
      const onAbort = (): void => end(signal?.reason instanceof Error ? signal.reason : new ExchangeError(`collective ${group}: interrupted`));
      const end = (err: Error | undefined, parts?: Map<number, Uint8Array>): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (g.waiter === waiter) g.waiter = undefined;
        g.touched = this.now();
        if (err) reject(err);
        else resolve(parts!);
      };
      const waiter: Waiter = { step, ranks, resolve: (parts) => end(undefined, parts), reject: (err) => end(err) };
      g.waiter = waiter;
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.settle(g);
    });
  }

  /** Why the group has ended here (a peer failed, or it was closed), or undefined while it has not. */
  ended(group: string): string | undefined {
    if (this.closed.has(group)) return `collective ${group} is closed`;
    return this.groups.get(group)?.failed;
  }

  /** The group's task ended: what it did not take goes, and later parts are dropped. */
  close(group: string): void {
    const g = this.groups.get(group);
    if (g) {
      for (const data of g.parts.values()) this.bytes -= data.byteLength;
      g.waiter?.reject(new ExchangeError(`collective ${group} is closed`));
      this.groups.delete(group);
    }
    this.closed.add(group);
    if (this.closed.size > this.options.closedKept) this.closed.delete(this.closed.values().next().value!);
  }

  private group(name: string): Group {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { parts: new Map(), touched: this.now() }));
    return g;
  }

  /** Hands a waiting take its parts once all are here, or the group's failure. */
  private settle(g: Group): void {
    const w = g.waiter;
    if (!w) return;
    if (g.failed) return w.reject(new ExchangeError(g.failed));
    const ids = w.ranks.map((r) => `${w.step}/${r}`);
    if (!ids.every((id) => g.parts.has(id))) return;
    const parts = new Map<number, Uint8Array>();
    w.ranks.forEach((r, i) => {
      const data = g.parts.get(ids[i]!)!;
      g.parts.delete(ids[i]!);
      this.bytes -= data.byteLength;
      parts.set(r, data);
    });
    w.resolve(parts);
  }

  /** Drops groups nobody has taken from for idleMs (their task never came, or died). */
  private expire(): void {
    const before = this.now() - this.options.idleMs;
    for (const [name, g] of this.groups) {
      if (g.waiter || g.touched > before) continue;
      this.close(name);
    }
  }
}
