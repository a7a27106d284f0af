// Outgoing traffic to workers and clients, coalesced: everything queued in one event-loop
// turn leaves as one batch message per stream.
import type * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import type { WorkerDef } from '../state/types.js';
import { InlineBudget } from '../../protocol/services.js';

type SchedulerCommand = kubedask.v1.SchedulerCommand.$Properties;
type KeyEvent = kubedask.v1.KeyEvent.$Properties;
type WorkerCall = grpc.ServerDuplexStream<kubedask.v1.WorkerBatch, kubedask.v1.SchedulerBatch.$Properties>;
type ClientCall = grpc.ServerDuplexStream<kubedask.v1.ClientRequest, kubedask.v1.ClientEvent.$Properties>;

class Outbox<T> {
  private pending: T[] = [];
  private scheduled = false;

  constructor(private readonly send: (items: T[]) => void) {}

  push(item: T): void {
    this.pending.push(item);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const items = this.pending;
    this.pending = [];
    this.send(items);
  }
}

export class WorkerLink {
  /** Functions already sent to this worker, so each source travels once. */
  readonly sentFunctions = new Set<string>();
  lastSeen: number;
  memoryUsed = 0;
  spilledBytes = 0;
  /** What the worker last said it was doing (heartbeat), for the dashboard. */
  executing = 0;
  ready = 0;
  /** Told to close (retired) or leaving cleanly: its stream ending is not a failure. */
  retiring = false;
  /** Since when the scheduler has had no task processing on it; undefined while it has. */
  idleSince: number | undefined;
  private readonly outbox: Outbox<SchedulerCommand>;

  constructor(readonly def: WorkerDef, readonly pid: number, private readonly call: WorkerCall, now: number) {
    this.lastSeen = now;
    this.idleSince = now;
    this.outbox = new Outbox((commands) => {
      if (!this.call.writableEnded && !this.call.destroyed) this.call.write({ commands });
    });
  }

  send(command: SchedulerCommand): void {
    this.outbox.push(command);
  }

  /** Ends the stream; the worker treats this as "go away". */
  end(): void {
    this.outbox.flush();
    if (!this.call.writableEnded) this.call.end();
  }
}

type SubmitAck = kubedask.v1.SubmitAck.$Properties;

export class ClientLink {
  private readonly outbox: Outbox<{ event: KeyEvent } | { ack: SubmitAck }>;
  private readonly inline = new InlineBudget();

  constructor(readonly clientId: string, private readonly call: ClientCall) {
    this.outbox = new Outbox((items) => {
      this.inline.reset();
      // In the order they happened: a finish that came before a graph's ack must not reach the
      // client after it. Each run of events, and of acks, is one message.
      for (let i = 0; i < items.length;) {
        const kind = 'ack' in items[i]! ? 'ack' : 'event';
        let j = i;
        while (j < items.length && ('ack' in items[j]! ? 'ack' : 'event') === kind) j++;
        const run = items.slice(i, j);
        if (!this.call.writableEnded && !this.call.destroyed) {
          this.call.write(kind === 'ack' ? { acks: run.map((x) => (x as { ack: SubmitAck }).ack) } : { events: run.map((x) => (x as { event: KeyEvent }).event) });
        }
        i = j;
      }
    });
  }

  send(event: KeyEvent): void {
    // A value past the batch's budget stays behind: the client gathers it.
    if (event.value && !this.inline.take(event.value.data?.byteLength ?? 0)) event = { ...event, value: null };
    this.outbox.push({ event });
  }

  /** Answers a graph the client sent on its session. */
  ack(ack: SubmitAck): void {
    this.outbox.push({ ack });
  }

  end(): void {
    this.outbox.flush();
    if (!this.call.writableEnded) this.call.end();
  }
}
