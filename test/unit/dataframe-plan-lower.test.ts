// Lowering plans to tasks, with no cluster and no sockets: plans built by hand go in, tasks
// come out (fusion into one stage per partition, the aggregation tree, top-N), and the
// two-phase decomposition of aggregations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import pl from 'nodejs-polars';
import { decompose } from '../../dataframe/plan/aggregate.js';
import { COMBINE_FAN_IN, planTasks } from '../../dataframe/plan/lower.js';
import type { Expr, Op, PlanNode, Schema, UserAgg } from '../../dataframe/plan/nodes.js';
import { optimize } from '../../dataframe/plan/optimize.js';
import type { PlannedTask, StageParams, TaskPlan } from '../../dataframe/plan/tasks.js';
import { readParquet } from '../../dataframe/sources.js';

const col = (name: string): Expr => ({ Column: name });
const num = (v: number): Expr => ({ Literal: { Scalar: { Float64: v } } });
const binary = (left: Expr, op: string, right: Expr): Expr => ({ BinaryExpr: { left, op, right } });
const json = (e: pl.Expr): Expr => JSON.parse(e.serialize('json').toString()) as Expr;

const FLIGHTS: Schema = [
  { name: 'date', dtype: 'Datetime(Microseconds, None)' }, { name: 'delay', dtype: 'Int64' }, { name: 'distance', dtype: 'Int64' },
  { name: 'origin', dtype: 'String' }, { name: 'destination', dtype: 'String' },
];

function scan(partitions: number): Extract<PlanNode, { kind: 'scan' }> {
  const parts = Array.from({ length: partitions }, (_, i) => ({ path: '/data/flights.parquet', offset: i * 100_000, rows: 100_000 }));
  return { kind: 'scan', format: 'parquet', parts, schema: FLIGHTS, columns: null, predicate: null };
}

/** The tasks for `plan`, after checking keys are unique and each task reads only keys made before it (or `data` keys). */
function lower(plan: PlanNode, dataKeys: string[] = []): TaskPlan {
  let n = 0;
  const out = planTasks(plan, (group) => `${group}-${++n}`);
  const made = new Set<string>(dataKeys);
  for (const task of out.tasks) {
    for (const input of task.inputs) assert.ok(made.has(input), `${task.key} reads ${input}, made before it`);
    assert.ok(!made.has(task.key), `${task.key} is made once`);
    made.add(task.key);
  }
  for (const key of out.outputs) assert.ok(made.has(key));
  return out;
}

const params = (task: PlannedTask) => task.params as StageParams;
const byGroup = (tasks: PlannedTask[], group: string) => tasks.filter((t) => t.group === group);

const FUSED_OPS: Op[] = [
  { op: 'filter', predicate: binary(col('origin'), 'Eq', { Literal: { Scalar: { String: 'SFO' } } }) },
  { op: 'withColumns', exprs: [{ Alias: [binary(col('delay'), 'Multiply', num(60)), 'delay_s'] }] },
  { op: 'select', exprs: [col('date'), col('delay_s')] },
];
const FUSED_SCHEMA: Schema = [{ name: 'date', dtype: FLIGHTS[0]!.dtype }, { name: 'delay_s', dtype: 'Float64' }];

test('filter, withColumns and select over a scan are one stage task per partition, reading its row range', () => {
  const plan: PlanNode = { kind: 'map', input: scan(3), ops: FUSED_OPS, schema: FUSED_SCHEMA };
  const { tasks, outputs } = lower(plan);
  assert.equal(tasks.length, 3);
  assert.deepEqual(outputs, tasks.map((t) => t.key));
  for (const [i, task] of tasks.entries()) {
    assert.equal(task.kernel, 'df/stage');
    assert.deepEqual(task.inputs, []);
    assert.deepEqual(params(task).source, { format: 'parquet', part: scan(3).parts[i], columns: null, predicate: null });
    assert.deepEqual(params(task).ops, FUSED_OPS);
  }
});

test('optimized, the same query reads three columns with the filter in the scan, still one task per partition', () => {
  const plan: PlanNode = { kind: 'map', input: scan(3), ops: FUSED_OPS, schema: FUSED_SCHEMA };
  const { tasks } = lower(optimize(plan));
  assert.equal(tasks.length, 3);
  for (const task of tasks) {
    assert.deepEqual(params(task).source?.columns, ['date', 'delay', 'origin']);
    assert.deepEqual(params(task).source?.predicate, FUSED_OPS[0]!.op === 'filter' ? FUSED_OPS[0]!.predicate : null);
    assert.deepEqual(params(task).ops, FUSED_OPS.slice(1));
  }
});

/** mean(delay) as m, std(delay) as s, len() as n by origin over `partitions` partitions. */
function aggregatePlan(partitions: number): PlanNode {
  const aggs: UserAgg[] = [
    { expr: json(pl.col('delay').mean().alias('m')), name: 'm' },
    { expr: json(pl.col('delay').std().alias('s')), name: 's' },
    { expr: json(pl.len().alias('n')), name: 'n' },
  ];
  const schema: Schema = [{ name: 'origin', dtype: 'String' }, { name: 'm', dtype: 'Float64' }, { name: 's', dtype: 'Float64' }, { name: 'n', dtype: 'UInt32' }];
  return { kind: 'aggregate', input: scan(partitions), keys: ['origin'], aggs, splitOut: 1, schema };
}

test('a decomposable group-by over 30 partitions: 30 partials, 4 combines of at most 8, one final task that finalizes', () => {
  assert.equal(COMBINE_FAN_IN, 8);
  const { tasks, outputs } = lower(aggregatePlan(30));
  const partials = byGroup(tasks, 'partial-agg');
  const combines = byGroup(tasks, 'combine-aggregate');
  assert.equal(partials.length, 30);
  assert.equal(combines.length, 4);
  assert.equal(tasks.length, 35);
  // Each partial reads its row range and aggregates it, in the same task.
  for (const task of partials) {
    assert.deepEqual(task.inputs, []);
    assert.ok(params(task).source);
    const ops = params(task).ops;
    assert.equal(ops.length, 1);
    assert.equal(ops[0]!.op, 'aggregate');
  }
  assert.deepEqual(combines.map((t) => t.inputs.length), [8, 8, 8, 6]);
  assert.deepEqual(combines.flatMap((t) => t.inputs), partials.map((t) => t.key));
  const final = tasks.at(-1)!;
  assert.deepEqual(outputs, [final.key]);
  assert.deepEqual(final.inputs, combines.map((t) => t.key));
  assert.deepEqual(params(final).ops.map((o) => o.op), ['aggregate', 'finalize']);
  const finalize = params(final).ops[1] as Extract<Op, { op: 'finalize' }>;
  assert.deepEqual(finalize.keys, ['origin']);
  assert.deepEqual(finalize.outputs.map((o) => [o.as, o.kind, o.dtype]), [['m', 'col', 'Float64'], ['s', 'std', 'Float64'], ['n', 'col', 'UInt32']]);
});

test('through the DataFrame API: flights-3m in 30 partitions, grouped, is 30 partial tasks reading two columns', () => {
  const flights = join(dirname(createRequire(import.meta.url).resolve('vega-datasets')), '..', 'data', 'flights-3m.parquet');
  const df = readParquet(flights, { partitionRows: 100_000 }).groupBy('origin').agg(pl.col('delay').mean().alias('m'), pl.len().alias('n'));
  assert.equal(df.npartitions, 1);
  const { tasks } = lower(optimize(df.plan));
  const partials = byGroup(tasks, 'partial-agg');
  assert.equal(partials.length, 30);
  assert.equal(byGroup(tasks, 'combine-aggregate').length, 4);
  assert.equal(tasks.length, 35);
  assert.deepEqual(new Set(partials.map((t) => params(t).source?.part.offset)).size, 30);
  for (const task of partials) assert.deepEqual(params(task).source?.columns, ['delay', 'origin']);
});

test('the combine tree: none under the fan-in, two levels over its square', () => {
  const eight = lower(aggregatePlan(8));
  assert.equal(byGroup(eight.tasks, 'combine-aggregate').length, 0);
  assert.equal(eight.tasks.at(-1)!.inputs.length, 8);
  const hundred = lower(aggregatePlan(100));
  const combines = byGroup(hundred.tasks, 'combine-aggregate');
  assert.equal(combines.length, 13 + 2); // 100 -> 13 -> 2 -> the final task
  assert.equal(hundred.tasks.at(-1)!.inputs.length, 2);
  assert.ok(combines.every((t) => t.inputs.length <= COMBINE_FAN_IN));
});

test('head after a sort is a top-N: each partition sorts and keeps n, combined the same way', () => {
  const sorted: PlanNode = { kind: 'sort', input: scan(20), by: ['delay', 'date'], descending: [true, false], schema: FLIGHTS };
  const { tasks, outputs } = lower({ kind: 'head', input: sorted, n: 10, schema: FLIGHTS });
  const topN: Op[] = [{ op: 'topN', by: ['delay', 'date'], descending: [true, false], n: 10 }];
  const firsts = tasks.filter((t) => t.inputs.length === 0);
  assert.equal(firsts.length, 20);
  for (const task of firsts) assert.deepEqual(params(task).ops, topN);
  const combines = byGroup(tasks, 'combine-head');
  assert.deepEqual(combines.map((t) => t.inputs.length), [8, 8, 4]);
  for (const task of combines) assert.deepEqual(params(task).ops, topN);
  const final = tasks.at(-1)!;
  assert.deepEqual(outputs, [final.key]);
  assert.deepEqual(final.inputs, combines.map((t) => t.key));
  assert.deepEqual(params(final).ops, topN);
  const plain = lower({ kind: 'head', input: scan(2), n: 5, schema: FLIGHTS });
  assert.deepEqual(plain.tasks.map((t) => params(t).ops), [[{ op: 'head', n: 5 }], [{ op: 'head', n: 5 }], [{ op: 'head', n: 5 }]]);
});

test('partitions already on the cluster are outputs as they are: no task', () => {
  const { tasks, outputs } = lower({ kind: 'data', keys: ['d-1', 'd-2'], schema: FLIGHTS, rows: null, bytes: null }, ['d-1', 'd-2']);
  assert.deepEqual(tasks, []);
  assert.deepEqual(outputs, ['d-1', 'd-2']);
});

const agg = (e: pl.Expr, name: string): UserAgg => ({ expr: json(e.alias(name)), name });

test('decompose: each decomposable aggregation as partial, combine and finalize', () => {
  const d = decompose([
    agg(pl.col('a').sum(), 'sum'), agg(pl.col('a').min(), 'min'), agg(pl.col('a').max(), 'max'), agg(pl.col('a').first(), 'first'),
    agg(pl.col('a').last(), 'last'), agg(pl.col('a').count(), 'count'), agg(pl.len(), 'len'),
  ], {})!;
  assert.ok(d);
  assert.deepEqual(d.pre, []);
  assert.deepEqual(d.partial.map((a) => a.fn), ['sum', 'min', 'max', 'first', 'last', 'count', 'len']);
  // A count's partials add up; the others combine with their own function.
  assert.deepEqual(d.combine.map((a) => a.fn), ['sum', 'min', 'max', 'first', 'last', 'sum', 'sum']);
  assert.deepEqual(d.finalize.map((f) => [f.as, f.kind]), [['sum', 'col'], ['min', 'col'], ['max', 'col'], ['first', 'col'], ['last', 'col'], ['count', 'col'], ['len', 'col']]);
});

test('decompose: mean travels as (n, mean), var and std as (n, mean, m2) with their ddof', () => {
  const d = decompose([agg(pl.col('a').mean(), 'm'), agg(pl.col('a').var(), 'v'), agg(pl.col('a').std(), 's')], { m: 'Float64', v: 'Float64', s: 'Float64' })!;
  assert.deepEqual(d.partial.map((a) => a.fn), ['count', 'mean', 'count', 'mean', 'devsq', 'count', 'mean', 'devsq']);
  assert.deepEqual(d.combine.map((a) => a.fn), ['sum', 'wmean', 'sum', 'wmean', 'm2', 'sum', 'wmean', 'm2']);
  assert.deepEqual(d.finalize.map((f) => [f.as, f.kind, 'ddof' in f ? f.ddof : null, f.dtype]), [['m', 'col', null, 'Float64'], ['v', 'var', 1, 'Float64'], ['s', 'std', 1, 'Float64']]);
  // Each combine reads what the partials (and itself) output: it can combine its own output.
  const partialNames = new Set(d.partial.map((a) => a.as));
  assert.deepEqual(new Set(d.combine.map((a) => a.as)), partialNames);
});

test('decompose: an aggregation of an expression computes its input first', () => {
  const d = decompose([agg(pl.col('a').mul(2).sum(), 'twice')], {})!;
  assert.equal(d.pre.length, 1);
  const [partial] = d.partial;
  assert.ok(partial && 'col' in partial);
  assert.deepEqual(d.pre[0], { Alias: [json(pl.col('a').mul(2)), partial.col] });
});

test('decompose: n_unique, median and expressions over aggregations are not decomposable', () => {
  // An input that looks across rows (a filter, an inner mean) would see the partition, not the group.
  for (const e of [pl.col('a').nUnique(), pl.col('a').median(), pl.col('a').sum().add(pl.col('b').sum()), pl.col('a').quantile(0.5),
    pl.col('a').filter(pl.col('b').gt(0)).sum(), pl.col('a').sub(pl.col('a').mean()).pow(2).sum()]) {
    assert.equal(decompose([agg(pl.col('a').sum(), 'ok'), agg(e, 'x')], {}), undefined, JSON.stringify(json(e)));
  }
});
