// A Future names a key on the cluster. Its value is gathered on demand; when the last
// Future for a key is dropped (garbage collected or released), the key is released.
//
// A Future is awaitable, as in Dask: `await future` is `await future.result()`. JavaScript
// unwraps every thenable it resolves a promise with, so nothing in the client may resolve a
// promise with a bare Future (submit, map, scatter, compute and persist return them
// synchronously; asCompleted yields them inside a record). The same holds for user code:
// `Promise.all(futures)` and an async function that returns a Future give the value.
import type { KeyStatus } from './key-tracker.js';

export interface FutureOwner {
  statusOf(key: string): KeyStatus;
  waitFor(key: string): Promise<void>;
  resultOf(key: string): Promise<unknown>;
  retain(future: Future): void;
  release(future: Future): void;
}

export class Future<T = unknown> implements PromiseLike<T> {
  private released = false;

  constructor(readonly key: string, private readonly owner: FutureOwner) {
    owner.retain(this);
  }

  /** 'pending' | 'finished' | 'error' | 'cancelled' | 'lost' */
  get status(): KeyStatus {
    return this.owner.statusOf(this.key);
  }

  done(): boolean {
    return this.status !== 'pending';
  }

  // Both keep this Future reachable until they settle (an async frame holds `this`): otherwise
  // `client.submit(...).result()` could see its Future collected, and its key released, mid-wait.

  /** Resolves once the key is finished; rejects with the remote error if it erred. */
  async wait(): Promise<void> {
    await this.owner.waitFor(this.key);
    keepAlive(this);
  }

  /** The key's value, fetched from the cluster. Rejects with the remote error if the task erred. */
  async result(): Promise<T> {
    const value = await this.owner.resultOf(this.key);
    keepAlive(this);
    return value as T;
  }

  /** Makes `await future` fetch the value, as `await future.result()` does. */
  then<Fulfilled = T, Rejected = never>(
    onfulfilled?: ((value: T) => Fulfilled | PromiseLike<Fulfilled>) | null,
    onrejected?: ((reason: unknown) => Rejected | PromiseLike<Rejected>) | null,
  ): Promise<Fulfilled | Rejected> {
    return this.result().then(onfulfilled, onrejected);
  }

  /** Lets the cluster forget the key once no other Future holds it. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.owner.release(this);
  }

  toString(): string {
    return `<Future ${this.key} ${this.status}>`;
  }
}

// A use of the Future after the await, so the engine cannot drop it while waiting.
function keepAlive(_future: Future): void {}
