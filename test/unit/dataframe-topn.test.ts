// The topN op (sort then head, sorting only the rows that can make the cut) against
// single-process Polars: nulls in the first key (more and fewer than n), ties at the cut,
// fewer non-null values than n, both directions, a second key in the other direction.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pl from 'nodejs-polars';
import { applyOps } from '../../dataframe/kernels/ops.js';

function frame(a: Array<number | null>): pl.DataFrame {
  // b is unique, so (a, b) orders every row and results compare exactly.
  return pl.DataFrame([pl.Series('a', a, pl.Float64), pl.Series('b', a.map((_, i) => i), pl.Int64)]);
}

function expected(df: pl.DataFrame, descending: boolean[], n: number): unknown[] {
  return df.select(pl.all().sortBy(['a', 'b'], descending)).head(n).getColumn('b').toArray();
}

describe('topN op', () => {
  const cases: Array<[string, Array<number | null>]> = [
    ['ties at the cut', [5, 3, 9, 9, 9, 1, 7, 3, 3, 8]],
    ['a few nulls', [5, null, 3, 9, null, 1, 7, 2, 6, 4]],
    ['more nulls than n', [null, 1, null, null, 2, null, 3, null]],
    ['fewer non-null values than n', [null, 4, null, 2]],
    ['all null', [null, null, null]],
    ['empty', []],
  ];
  for (const [name, values] of cases) {
    for (const descending of [[true, false], [false, true], [true, true], [false, false]]) {
      it(`${name}, descending ${descending.join('/')}`, () => {
        const df = frame(values);
        for (const n of [1, 3, 5]) {
          const ours = applyOps(df.lazy(), [{ op: 'topN', by: ['a', 'b'], descending, n }]).collectSync();
          assert.deepEqual(ours.getColumn('b').toArray(), expected(df, descending, n), `n = ${n}`);
        }
      });
    }
  }
});
