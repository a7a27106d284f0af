// Waiting on conditions with a deadline, never sleeping for a fixed time. The one wait helper of
// the tests: every poll goes through waitUntil.
import { AssertionError } from 'node:assert';

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls `probe` until it returns a truthy value, and returns that value. A probe that throws
 *  has not succeeded yet (the object may not exist yet); at the deadline the error names what was
 *  awaited and the last value or error the probe gave, which is also its `cause`. A failed
 *  assertion inside the probe is a verdict, not a state to wait out: it fails at once. */
export async function waitUntil<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: string;
    let cause: unknown;
    try {
      const value = await probe();
      if (value) return value as Truthy<T>;
      last = `value ${shortly(value)}`;
    } catch (e) {
      if (e instanceof AssertionError) throw e;
      cause = e;
      last = `error ${e instanceof Error ? `${e.name}: ${e.message}` : shortly(e)}`;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last ${last}`, { cause });
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `promise`, or at the deadline an error naming what was awaited and, when given, what
 *  `explain()` says about why it has not come (the state of the cluster, say). */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = 30_000, explain?: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${explain ? `; ${explain()}` : ''}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function shortly(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
