// Aggregations planned and run through the kernels in this process (no cluster): each task of
// the plan runs in order on native frames, and the result must equal single-process Polars on
// all partitions concatenated, including the edge cases two-phase aggregation gets wrong
// (empty partitions, inputs that are not row-wise).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { kernels } from '../../dataframe/kernels/index.js';
import type { PlanNode, Schema } from '../../dataframe/plan/nodes.js';
import { planTasks } from '../../dataframe/plan/lower.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import { Encoding } from '../../protocol/value-codec.js';
import { kernelContext } from '../helpers/kernel-context.js';

const schemaOf = (df: pl.DataFrame): Schema => Object.entries(df.schema).map(([name, dtype]) => ({ name, dtype: String(dtype) }));

/** groupBy(keys).agg(exprs) of `parts` run as the planner lowers it, and as one process runs it. */
async function aggregateBoth(parts: pl.DataFrame[], keys: string[], exprs: pl.Expr[], splitOut = 1): Promise<{ got: pl.DataFrame; want: pl.DataFrame }> {
  const whole = pl.concat(parts);
  const want = keys.length ? whole.groupBy(keys).agg(...exprs) : whole.select(...exprs);
  const input: PlanNode = { kind: 'data', keys: parts.map((_, i) => `data-${i}`), schema: schemaOf(whole), rows: null, bytes: null };
  const aggs = exprs.map((e, i) => ({ expr: JSON.parse(e.serialize('json').toString()) as unknown, name: want.columns[keys.length + i]! }));
  let n = 0;
  const plan = planTasks({ kind: 'aggregate', input, keys, aggs, splitOut, schema: schemaOf(want) }, (group) => `${group}-${++n}`);
  const store = new Map<string, StoredValue>(parts.map((df, i) => [`data-${i}`, { encoding: Encoding.ENCODING_ARROW_IPC, native: df }]));
  for (const t of plan.tasks) {
    const out = await kernels[t.kernel]!(t.params, t.barrier ? [] : t.inputs.map((k) => store.get(k)!), kernelContext(t.key, store, t));
    if (t.barrier) {
      store.set(t.key, out as StoredValue); // the receipts, as JSON
      continue;
    }
    assert.ok('native' in out, `${t.key} keeps its frame native`);
    store.set(t.key, { encoding: out.encoding, native: out.native });
  }
  const got = pl.concat(plan.outputs.map((k) => (store.get(k) as { native: pl.DataFrame }).native));
  return { got, want };
}

function assertSameRows(got: pl.DataFrame, want: pl.DataFrame): void {
  assert.deepEqual(got.schema, want.schema);
  const sorted = (df: pl.DataFrame) => (df.height ? df.sort(df.columns) : df).toRecords();
  assert.deepEqual(sorted(got), sorted(want));
}

const frame = pl.DataFrame({ k: ['x', 'y', 'x'], v: [1, 2, 7] });

test('first and last of the whole frame skip empty partitions (they have no first row)', async () => {
  const empty = frame.head(0);
  const exprs = [pl.col('v').first().alias('f'), pl.col('v').last().alias('l'), pl.col('v').sum().alias('s'), pl.col('v').std().alias('sd'), pl.len().alias('n')];
  const { got, want } = await aggregateBoth([empty, frame, empty], [], exprs);
  assertSameRows(got, want);
});

test('an aggregation of every partition empty is the one row Polars gives for an empty frame', async () => {
  const empty = frame.head(0);
  const exprs = [pl.col('v').first().alias('f'), pl.col('v').sum().alias('s'), pl.col('v').mean().alias('m'), pl.col('v').var().alias('var'), pl.len().alias('n')];
  const { got, want } = await aggregateBoth([empty, empty], [], exprs);
  assertSameRows(got, want);
});

test('an aggregation whose input looks across rows (a filter, an inner mean) runs as written, per group', async () => {
  const other = pl.DataFrame({ k: ['x', 'y'], v: [5, 9] });
  for (const e of [pl.col('v').filter(pl.col('v').gt(1)).sum(), pl.col('v').sub(pl.col('v').mean()).pow(2).sum(), pl.col('v').sort().first()]) {
    const { got, want } = await aggregateBoth([frame, other], ['k'], [e.alias('a')]);
    assertSameRows(got, want);
  }
});

test('aggregations equal Polars, into one partition or several: null keys, all-null groups, one-row groups, dtypes', async () => {
  const part = (k: (string | null)[], v: (number | null)[], b: (boolean | null)[]) => pl.DataFrame({
    k: pl.Series('k', k, pl.String), v: pl.Series('v', v, pl.Int32), f: pl.Series('f', v.map((x) => (x === null ? null : x / 4)), pl.Float64), b: pl.Series('b', b, pl.Bool),
  });
  const parts = [
    part(['x', null, 'y', 'z'], [1, 2, null, 5], [true, null, false, true]),
    part([], [], []),
    part([null, 'y', 'x', 'w'], [4, null, 3, 8], [false, true, null, null]),
    part(['x', 'y'], [null, null], [true, true]),
  ];
  const v = pl.col('v');
  const exprs = [
    v.sum().alias('sum'), v.min().alias('min'), v.max().alias('max'), v.first().alias('first'), v.last().alias('last'),
    v.count().alias('count'), pl.len().alias('len'), v.mean().alias('mean'), v.var().alias('var'), v.std().alias('std'),
    pl.col('f').mean().alias('fmean'), pl.col('f').sum().alias('fsum'), pl.col('b').sum().alias('bsum'), pl.col('b').first().alias('bfirst'),
    v.mul(2).add(pl.col('f')).max().alias('derived'),
  ];
  for (const [keys, splitOut] of [[['k'], 1], [['k'], 3], [[], 1]] as const) {
    const { got, want } = await aggregateBoth(parts, [...keys], exprs, splitOut);
    assertSameRows(got, want);
  }
  // Not decomposable: the groups meet by a shuffle of the keys and run as written.
  for (const splitOut of [1, 3]) {
    const { got, want } = await aggregateBoth(parts, ['k'], [v.nUnique().alias('distinct'), v.median().alias('median')], splitOut);
    assertSameRows(got, want);
  }
});

test('means and spreads of Float32 are computed in Float64, as Polars does; of dates, by whole groups', async () => {
  const days = (d: number[]) => pl.Series('d', d.map((x) => new Date(x * 86_400_000)), pl.Datetime('ms'));
  const part = (k: string[], d: number[], f: number[]) => pl.DataFrame({ k, d: days(d), f: pl.Series('f', f, pl.Float32) });
  const parts = [part(['x', 'y', 'x'], [1, 2, 4], [0.1, 0.7, 0.25]), part(['x', 'x'], [5, 9], [1 / 3, 2.2])];
  const exprs = [pl.col('f').mean().alias('fmean'), pl.col('f').std().alias('fstd'), pl.col('f').var().alias('fvar'), pl.col('d').mean().alias('dmean'), pl.col('d').min().alias('dmin')];
  for (const keys of [['k'], []]) {
    const { got, want } = await aggregateBoth(parts, keys, exprs);
    assertSameRows(got, want);
  }
});
