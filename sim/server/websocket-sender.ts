// Sending on a WebSocket with backpressure, which `ws` leaves to its user: send() says whether the
// caller may go on, onceDrained() waits until it may. A producer (a pod connection, a command's
// output) pauses on false and resumes on drain, so a slow client never makes the sim buffer
// without limit.
import type { WebSocket } from 'ws';

/** Pause a producer while this much is queued towards the client. */
export const HIGH_WATER = 1 << 20;

export class WebSocketSender {
  private waiters: (() => void)[] = [];

  constructor(private readonly ws: WebSocket) {}

  /** Queues a message; false when the caller should wait for onceDrained before sending more. */
  send(data: Buffer | string): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return true; // nothing will queue up: nothing to wait for
    this.ws.send(data, () => this.wake());
    return this.ws.bufferedAmount < HIGH_WATER;
  }

  /** Calls `cb` once the queue is below the mark (at once if it is now, or when the socket goes). */
  onceDrained(cb: () => void): void {
    if (this.ws.readyState !== this.ws.OPEN || this.ws.bufferedAmount < HIGH_WATER) return cb();
    this.waiters.push(cb);
  }

  /** A send went out (or failed, the socket going): wake the waiters once below the mark. */
  private wake(): void {
    if (this.ws.readyState === this.ws.OPEN && this.ws.bufferedAmount >= HIGH_WATER) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const cb of waiters) cb();
  }
}
