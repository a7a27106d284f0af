// The worker's end of WorkerStream.Connect: registers first, coalesces the events produced in
// one event-loop turn into one WorkerBatch, and reconnects with backoff when the stream breaks.
// A break means the scheduler has written this worker off (it reschedules its tasks), so the
// owner resets its state and the link registers afresh; after `reconnectTimeoutMs` without a
// scheduler the link gives up: with SchedulerLostError if the scheduler ever answered, else
// with SchedulerUnreachableError saying what is at the address (nothing, no such host, HTTP).
// A TLS mismatch (this worker plain and the scheduler TLS, or the other way) will not mend by
// retrying, so the link gives up as soon as a probe after a failed attempt finds one.
import * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { SchedulerUnreachableError } from '../../protocol/errors.js';
import { whyUnreachable } from '../../protocol/reachability.js';
import { InlineBudget, WorkerStreamClient, channelOptions } from '../../protocol/services.js';
import { SchedulerLostError } from './errors.js';

type WorkerEvent = kubedask.v1.WorkerEvent.$Properties;
type SchedulerCommand = kubedask.v1.SchedulerCommand.$Properties;
type Stream = grpc.ClientDuplexStream<kubedask.v1.WorkerBatch.$Properties, kubedask.v1.SchedulerBatch>;

export interface SchedulerLinkOptions {
  address: string;
  register: () => kubedask.v1.Register.$Properties;
  onCommands: (commands: SchedulerCommand[]) => void;
  /** The stream broke; a new registration follows if the scheduler comes back. */
  onDisconnected: (err: Error) => void;
  /** No scheduler for reconnectTimeoutMs (SchedulerLostError, or SchedulerUnreachableError when
   *  it never answered), or it refused this worker. */
  onGiveUp: (err: Error) => void;
  reconnectTimeoutMs: number;
  credentials?: grpc.ChannelCredentials;
  /** Whether `credentials` are TLS ones (to name a TLS mismatch). */
  tls?: boolean;
}

/** Statuses that retrying will not change. (A refused registration, e.g. a name still taken by
 * this worker's stale stream, is retried: the old registration goes away.) */
const FATAL = new Set([grpc.status.PERMISSION_DENIED, grpc.status.UNAUTHENTICATED, grpc.status.UNIMPLEMENTED]);
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2_000;

export class SchedulerLink {
  private readonly client: grpc.Client & { connect(): Stream };
  private call: Stream | undefined;
  private queue: WorkerEvent[] = [];
  private readonly inline = new InlineBudget();
  private flushScheduled = false;
  private closing = false;
  private lostSince: number | undefined;
  private backoffMs = BACKOFF_MIN_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  /** True once the scheduler answered on the current stream. */
  connected = false;
  /** True once the scheduler answered on any stream: giving up is then losing it. */
  private reached = false;
  private probing = false;
  private gaveUp = false;

  constructor(private readonly options: SchedulerLinkOptions) {
    this.client = new WorkerStreamClient(options.address, options.credentials ?? grpc.credentials.createInsecure(), channelOptions) as unknown as grpc.Client & { connect(): Stream };
  }

  start(): void {
    this.lostSince = Date.now();
    this.open();
  }

  /** Queues an event for the next batch (dropped while disconnected: state is reset anyway). */
  send(event: WorkerEvent): void {
    if (!this.call || this.closing) return;
    // A value past the batch's budget stays behind: the client gathers it.
    const value = event.finished?.value;
    if (value && !this.inline.take(value.data?.byteLength ?? 0)) event = { ...event, finished: { ...event.finished, value: null } };
    this.queue.push(event);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Sends what is queued, ends the stream and waits (briefly) for the scheduler to end it too. */
  async close(graceMs = 1_000): Promise<void> {
    this.flush();
    this.closing = true;
    clearTimeout(this.retryTimer);
    const call = this.call;
    if (call) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          call.cancel();
          resolve();
        }, graceMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        call.once('status', done);
        call.once('error', done);
        call.end();
      });
    }
    this.client.close();
  }

  private open(): void {
    const call = this.client.connect();
    this.call = call;
    this.connected = false;
    const alive = (): void => {
      this.connected = true;
      this.reached = true;
      this.lostSince = undefined;
      this.backoffMs = BACKOFF_MIN_MS;
    };
    // Headers mean the scheduler took the call, even before it answers the registration.
    call.on('metadata', () => {
      if (this.call === call) alive();
    });
    call.on('data', (batch: kubedask.v1.SchedulerBatch) => {
      if (this.call !== call) return;
      alive();
      this.options.onCommands(batch.commands);
    });
    let ended = false;
    const broke = (err: Error): void => {
      if (ended) return;
      ended = true;
      this.onBreak(call, err);
    };
    call.on('error', broke);
    call.on('end', () => broke(new Error('the scheduler ended the stream')));
    this.queue = [];
    call.write({ events: [{ register: this.options.register() }] });
  }

  private flush(): void {
    this.flushScheduled = false;
    this.inline.reset();
    if (this.queue.length === 0 || !this.call) return;
    const events = this.queue;
    this.queue = [];
    this.call.write({ events });
  }

  private onBreak(call: Stream, err: Error): void {
    if (this.call !== call || this.closing) return;
    this.call = undefined;
    this.queue = [];
    const wasConnected = this.connected;
    this.connected = false;
    call.cancel();
    const code = (err as Partial<grpc.ServiceError>).code;
    if (code !== undefined && FATAL.has(code)) {
      this.giveUpWith(new SchedulerLostError(this.options.address, 0, { cause: err }));
      return;
    }
    if (!this.reached) this.lookForTlsMismatch(err);
    this.lostSince ??= Date.now();
    if (wasConnected) this.options.onDisconnected(err);
    const waited = Date.now() - this.lostSince;
    if (waited >= this.options.reconnectTimeoutMs) {
      void this.giveUp(waited, err);
      return;
    }
    const delay = Math.min(this.backoffMs, this.options.reconnectTimeoutMs - waited);
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    this.retryTimer = setTimeout(() => {
      if (!this.closing) this.open();
    }, delay);
  }

  /** Probes the address once at a time; a TLS mismatch ends the retrying at once. */
  private lookForTlsMismatch(err: Error): void {
    if (this.probing) return;
    this.probing = true;
    void whyUnreachable(this.options.address, { tls: this.options.tls }).then((why) => {
      this.probing = false;
      if (why?.reason !== 'tls-mismatch' || this.closing || this.reached) return;
      clearTimeout(this.retryTimer);
      this.giveUpWith(new SchedulerUnreachableError(this.options.address, why.reason, why.detail, { cause: err }));
    });
  }

  private giveUpWith(err: Error): void {
    if (this.gaveUp) return;
    this.gaveUp = true;
    this.options.onGiveUp(err);
  }

  private async giveUp(waited: number, err: Error): Promise<void> {
    const address = this.options.address;
    if (this.reached) {
      this.giveUpWith(new SchedulerLostError(address, waited, { cause: err }));
      return;
    }
    const why = await whyUnreachable(address, { tls: this.options.tls });
    if (this.closing) return;
    const seconds = Math.round(waited / 1000);
    this.giveUpWith(why
      ? new SchedulerUnreachableError(address, why.reason, `${why.detail}; gave up after ${seconds} s`, { cause: err })
      : new SchedulerUnreachableError(address, 'timeout', `no answer within ${seconds} s (last error: ${err.message})`, { cause: err }));
  }
}
