// A task that records each run, and what the autoscale bench and its end-to-end tests read
// from such runs.
import { readFileSync } from 'node:fs';

/** How often the direction of scaling changed (up then down counts one). */
export function directionChanges(ds: { from: number; to: number }[]): number {
  let changes = 0;
  let last = 0;
  for (const d of ds) {
    const dir = Math.sign(d.to - d.from);
    if (dir !== 0 && last !== 0 && dir !== last) changes++;
    if (dir !== 0) last = dir;
  }
  return changes;
}

/** A task that appends its number to `log` (so a second run shows), sleeps `ms`, and returns 2i. */
export const recordedSleep = async (a: { i: number; log: string; ms: number }): Promise<number> => {
  const fs = await import('node:fs');
  fs.appendFileSync(a.log, `${a.i}\n`);
  await new Promise((resolve) => setTimeout(resolve, a.ms));
  return a.i * 2;
};

/** How many times each task number ran, from its log. */
export function runCounts(log: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line) counts.set(Number(line), (counts.get(Number(line)) ?? 0) + 1);
  }
  return counts;
}
