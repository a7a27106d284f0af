// The reference data and scikit-learn's fits written by test/fixtures/ml/linear_reference.py,
// and LocalShards cut from the data the way partitions are (an empty one included).
import { readFileSync } from 'node:fs';
import { LocalShards } from '../../ml/core/shards.js';
import type { Shard } from '../../ml/core/matrix.js';

const path = new URL('../../../test/fixtures/ml/linear_reference.json', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const reference: any = JSON.parse(readFileSync(path, 'utf8'));

export interface Data { X: number[][]; y: number[] }

/** One Shard per row range [start, end); y mapped through `classes` to class indices when given. */
export function shardsOf(data: { X: number[][]; y?: number[] }, cuts: number[], classes?: number[]): LocalShards {
  const bounds = [0, ...cuts, data.X.length];
  const shards: Shard[] = [];
  for (let s = 0; s + 1 < bounds.length; s++) shards.push(shard(data, bounds[s]!, bounds[s + 1]!, classes));
  return new LocalShards(shards);
}

export function shard(data: { X: number[][]; y?: number[] }, start: number, end: number, classes?: number[]): Shard {
  const cols = data.X[0]!.length;
  const rows = data.X.slice(start, end);
  const x = { rows: rows.length, cols, data: Float64Array.from(rows.flat()) };
  if (!data.y) return { x };
  const y = Float64Array.from(data.y.slice(start, end), (v) => (classes ? classes.indexOf(v) : v));
  return { x, y };
}

export function distinct(values: number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

export function features(p: number): string[] {
  return Array.from({ length: p }, (_, j) => `x${j}`);
}

/** |a - b| <= rel * max(|b|, floor) elementwise, with a message naming the first that is not. */
export function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, floor: number, what: string): void {
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (!(Math.abs(a - b) <= rel * Math.max(Math.abs(b), floor))) throw new Error(`${what}[${i}]: ${a} vs expected ${b} (relative tolerance ${rel})`);
  }
}


