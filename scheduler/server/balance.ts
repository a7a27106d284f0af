// Client.Rebalance's waiting and timing: the pure state plans and tracks the moves (see
// state/balance.ts) and ends each request with `balance-data-done`; here a call waits for
// that, and abandons what is still copying at its deadline.
import { randomUUID } from 'node:crypto';
import type { SchedulerCore } from './core.js';

export interface BalanceOutcome { moved: number; bytes: number; dropped: number; abandoned: number }

export const DEFAULT_REBALANCE_TIMEOUT_MS = 60_000;
/** The longest a Node.js timer can wait (a longer one fires at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Who waits on which request. */
export class Balances {
  private readonly waiting = new Map<string, (o: BalanceOutcome) => void>();

  /** Register before the event that may settle it at once. */
  outcome(requestId: string): Promise<BalanceOutcome> {
    return new Promise((resolve) => this.waiting.set(requestId, resolve));
  }

  settle(requestId: string, outcome: BalanceOutcome): void {
    const resolve = this.waiting.get(requestId);
    this.waiting.delete(requestId);
    resolve?.(outcome);
  }
}

/** Moves these keys (every key in memory when empty) toward an even spread; resolves when done or at the deadline. */
export async function rebalance(core: SchedulerCore, keys: readonly string[], timeoutMs: number): Promise<BalanceOutcome> {
  const requestId = randomUUID();
  const outcome = core.balances.outcome(requestId);
  core.handle({ type: 'balance-data', requestId, keys: keys.length > 0 ? [...keys] : null });
  const ms = timeoutMs > 0 ? Math.min(timeoutMs, MAX_TIMER_MS) : DEFAULT_REBALANCE_TIMEOUT_MS;
  const deadline = setTimeout(() => core.handle({ type: 'balance-data-expired', requestId }), ms);
  deadline.unref();
  try {
    return await outcome;
  } finally {
    clearTimeout(deadline);
  }
}
