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

const schemaOf = (df: pl.DataFrame): Schema => Object.entries(df.schema).map(([name, dtype]) => ({ name, dtype: String(dtype) }));

/** groupBy(keys).agg(exprs) of `parts` run as the planner lowers it, and as one process runs it. */
async function aggregateBoth(parts: pl.DataFrame[], keys: string[], exprs: pl.Expr[]): Promise<{ got: pl.DataFrame; want: pl.DataFrame }> {
  const whole = pl.concat(parts);
  const want = keys.length ? whole.groupBy(keys).agg(...exprs) : whole.select(...exprs);
  const input: PlanNode = { kind: 'data', keys: parts.map((_, i) => `data-${i}`), schema: schemaOf(whole), rows: null, bytes: null };
  const aggs = exprs.map((e, i) => ({ expr: JSON.parse(e.serialize('json').toString()) as unknown, name: want.columns[keys.length + i]! }));
  let n = 0;
  const plan = planTasks({ kind: 'aggregate', input, keys, aggs, splitOut: 1, schema: schemaOf(want) }, (group) => `${group}-${++n}`);
  const store = new Map<string, StoredValue>(parts.map((df, i) => [`data-${i}`, { encoding: Encoding.ENCODING_ARROW_IPC, native: df }]));
  for (const t of plan.tasks) {
    const out = await kernels[t.kernel]!(t.params, t.inputs.map((k) => store.get(k)!), { key: t.key, nthreads: 1 });
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
