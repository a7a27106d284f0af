// DataFrame operations checked on the client, with no cluster: what cannot be planned (an
// aggregation of several columns, a per-row expression that looks across rows) fails at the
// call with a DataFrameError that says what to write instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { DataFrameError } from '../../dataframe/errors.js';
import { fromPolars } from '../../dataframe/sources.js';

const df = fromPolars(pl.DataFrame({ k: ['x', 'y'], v: [1, 2], w: [3, 4] }), { partitions: 2 });

test('an aggregation that gives several columns is refused: one expression per output column', () => {
  const several = /agg: .*'v', 'w'.*\.sum\(\) gives 2 columns \(v, w\); write one aggregation per column/;
  assert.throws(() => df.groupBy('k').agg(pl.col(['v', 'w']).sum()), (err: Error) => err instanceof DataFrameError && several.test(err.message));
  assert.throws(() => df.select(pl.col(['v', 'w']).sum()), (err: Error) => err instanceof DataFrameError && several.test(err.message));
});

test('one column per aggregation is planned, named as Polars names it', () => {
  const out = df.groupBy('k').agg(pl.col('v').sum(), pl.col('w').max().alias('top'));
  assert.deepEqual(Object.keys(out.schema), ['k', 'v', 'top']);
});

test('an expression that changes the number of rows or reads their order is refused in withColumns, select and filter', () => {
  const v = pl.col('v');
  for (const [e, part] of [[v.filter(v.gt(1)), 'Filter'], [v.explode(), 'Explode'], [v.argSort(), 'ArgSort'], [v.gatherEvery(2), 'GatherEvery']] as const) {
    const refused = (err: Error) => err instanceof DataFrameError && err.message.includes(`${part} looks across rows`);
    assert.throws(() => df.withColumns(e.alias('x')), refused, part);
    assert.throws(() => df.select(e.alias('x')), refused, part);
    assert.throws(() => df.filter(e.gt(0)), refused, part);
  }
});
