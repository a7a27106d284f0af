// wait(futures, { returnWhen }): block until all, the first, or the first failed of some futures
// settle, as dask.distributed.wait does; the futures are split into done and not done.
import { WaitTimeoutError } from './errors.js';
import { Future } from './future.js';

export type ReturnWhen = 'ALL_COMPLETED' | 'FIRST_COMPLETED' | 'FIRST_EXCEPTION';

export interface WaitOptions {
  /** ALL_COMPLETED (default), FIRST_COMPLETED, or FIRST_EXCEPTION (all, unless one fails first). */
  returnWhen?: ReturnWhen;
  /** Reject with WaitTimeoutError when this long passes first; the futures keep running. */
  timeoutMs?: number;
}

export interface WaitResult<F extends Future = Future> {
  /** Finished, failed, cancelled or lost. */
  done: F[];
  notDone: F[];
}

/** Waits on the futures without fetching their values; a failed future counts as done. */
export async function wait<F extends Future>(futures: F | Iterable<F>, options: WaitOptions = {}): Promise<WaitResult<F>> {
  const list = futures instanceof Future ? [futures] : [...futures];
  const returnWhen = options.returnWhen ?? 'ALL_COMPLETED';
  if (!['ALL_COMPLETED', 'FIRST_COMPLETED', 'FIRST_EXCEPTION'].includes(returnWhen)) {
    throw new TypeError(`wait: returnWhen must be ALL_COMPLETED, FIRST_COMPLETED or FIRST_EXCEPTION, got ${String(returnWhen)}`);
  }
  const settled = list.map((f) => f.wait().then(() => false, () => true));
  const all = Promise.all(settled).then(() => undefined);
  const enough = list.length === 0 ? Promise.resolve()
    : returnWhen === 'FIRST_COMPLETED' ? Promise.race(settled).then(() => undefined)
      : returnWhen === 'FIRST_EXCEPTION' ? Promise.race([all, ...settled.map((s) => s.then((failed) => (failed ? undefined : all)))])
        : all;
  await withTimeout(enough, options.timeoutMs, () => new WaitTimeoutError(list.filter((f) => !f.done()).length, list.length, options.timeoutMs!));
  return { done: list.filter((f) => f.done()), notDone: list.filter((f) => !f.done()) };
}

async function withTimeout(p: Promise<void>, ms: number | undefined, error: () => Error): Promise<void> {
  if (ms === undefined) return p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(error()), ms); });
  try {
    await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
