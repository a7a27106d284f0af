// The join planner without a cluster: plans in, the strategy and the tasks out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planTasks } from '../../dataframe/plan/lower.js';
import type { JoinHow, PlanNode, Schema } from '../../dataframe/plan/nodes.js';
import type { JoinParams, PlannedTask, SplitParams } from '../../dataframe/plan/tasks.js';
import { BROADCAST_MAX_BYTES, joinStrategy } from '../../dataframe/plan/join-strategy.js';
import { joinStrategyOf, partitionCount } from '../../dataframe/plan/partitions.js';
import { explainPlan } from '../../dataframe/plan/explain.js';
import { rowBytes, STRING_BYTES } from '../../dataframe/plan/size.js';
import { PlanError } from '../../dataframe/plan/errors.js';

const FLIGHTS: Schema = [{ name: 'origin', dtype: 'String' }, { name: 'delay', dtype: 'Int64' }];
const AIRPORTS: Schema = [{ name: 'iata', dtype: 'String' }, { name: 'state', dtype: 'String' }];

/** A Parquet scan of `parts` partitions of `rows` rows each. */
function scan(schema: Schema, parts: number, rows: number): PlanNode {
  return { kind: 'scan', format: 'parquet', schema, columns: null, predicate: null, parts: Array.from({ length: parts }, (_, i) => ({ path: 'f.parquet', offset: i * rows, rows })) };
}

/** Partitions on the cluster of unknown size (persisted). */
function data(schema: Schema, parts: number): PlanNode {
  return { kind: 'data', keys: Array.from({ length: parts }, (_, i) => `d${parts}-${i}`), schema, rows: null, bytes: null };
}

function joinOf(left: PlanNode, right: PlanNode, how: JoinHow = 'inner', leftOn = ['origin'], rightOn = ['iata']): Extract<PlanNode, { kind: 'join' }> {
  const rightCols = right.schema.filter((f) => !rightOn.includes(f.name));
  return { kind: 'join', left, right, leftOn, rightOn, how, suffix: '_right', schema: [...left.schema, ...rightCols] };
}

function plan(node: PlanNode): { tasks: PlannedTask[]; outputs: string[]; joins: PlannedTask[] } {
  let n = 0;
  const { tasks, outputs } = planTasks(node, (group) => `${group}-${n++}`);
  return { tasks, outputs, joins: tasks.filter((t) => t.kernel === 'df/join') };
}



test('a small right side is read once and broadcast to every partition of the left', () => {
  const node = joinOf(scan(FLIGHTS, 4, 1_000_000), scan(AIRPORTS, 1, 3376));
  const { tasks, outputs, joins } = plan(node);
  const read = tasks.filter((t) => t.kernel === 'df/stage');
  assert.equal(read.length, 1);
  assert.equal(read[0]!.group, 'read-parquet');
  assert.equal(joins.length, 4);
  assert.equal(tasks.length, 5);
  assert.deepEqual(outputs, joins.map((t) => t.key));
  for (const [i, t] of joins.entries()) {
    const p = t.params as JoinParams;
    // The left partition's read fuses into its join task; the small side is its one input.
    assert.deepEqual(t.inputs, [read[0]!.key]);
    assert.equal(p.left.inputs, 0);
    assert.equal(p.left.source?.part.offset, i * 1_000_000);
    assert.deepEqual(p.right, { inputs: 1, source: null, ops: [] });
    assert.deepEqual(p.join, { leftOn: ['origin'], rightOn: ['iata'], how: 'inner', suffix: '_right' });
  }
  assert.equal(partitionCount(node), 4);
  assert.match(explainPlan(node), /Join inner on \[origin\] = \[iata\]: broadcast right \(about .* KiB by metadata\) to each of 4 partition/);
});

test('a right side of several small partitions is concatenated once before it is broadcast', () => {
  const { tasks, joins } = plan(joinOf(scan(FLIGHTS, 3, 1_000_000), scan(AIRPORTS, 2, 1000), 'left'));
  const concat = tasks.find((t) => t.group === 'join-broadcast')!;
  assert.equal(concat.inputs.length, 2);
  assert.equal(joins.length, 3);
  for (const t of joins) assert.deepEqual(t.inputs, [concat.key]);
  assert.equal(tasks.length, 2 + 1 + 3);
});

test('the ops after a join run in its task: filter and the partial aggregation fuse, then a tree combines', () => {
  const joined = joinOf(scan(FLIGHTS, 4, 1_000_000), scan(AIRPORTS, 1, 3376));
  const filter = { op: 'filter' as const, predicate: { Column: 'delay' } };
  const node: PlanNode = {
    kind: 'aggregate', keys: ['state'], splitOut: 1, schema: [{ name: 'state', dtype: 'String' }, { name: 'n', dtype: 'UInt32' }],
    aggs: [{ expr: 'Len', name: 'n' }],
    input: { kind: 'map', input: joined, ops: [filter], schema: joined.schema },
  };
  const { tasks, joins } = plan(node);
  assert.equal(joins.length, 4);
  for (const t of joins) {
    assert.equal(t.group, 'partial-agg');
    assert.deepEqual((t.params as JoinParams).ops.map((o) => o.op), ['filter', 'aggregate']);
  }
  // 1 read + 4 joins + 1 combine.
  assert.equal(tasks.length, 6);
});

test('two sides of unknown size are hash-shuffled into the larger partition count, bucket j with bucket j', () => {
  const node = joinOf(data(FLIGHTS, 3), data(AIRPORTS, 5), 'left');
  const { tasks, outputs, joins } = plan(node);
  const leftSplits = tasks.filter((t) => t.group === 'join-left-split');
  const rightSplits = tasks.filter((t) => t.group === 'join-right-split');
  assert.equal(leftSplits.length, 3);
  assert.equal(rightSplits.length, 5);
  assert.equal(joins.length, 5);
  assert.equal(tasks.length, 3 + 5 + 2 + 5);
  const [leftBarrier, rightBarrier] = ['join-left-barrier', 'join-right-barrier'].map((g) => tasks.find((t) => t.group === g)!);
  assert.deepEqual(leftBarrier!.inputs, leftSplits.map((s) => s.key));
  assert.deepEqual(rightBarrier!.inputs, rightSplits.map((s) => s.key));
  assert.equal(outputs.length, 5);
  for (const s of leftSplits) assert.deepEqual((s.params as SplitParams).how, { kind: 'hash', by: ['origin'] });
  for (const s of rightSplits) assert.deepEqual((s.params as SplitParams).how, { kind: 'hash', by: ['iata'] });
  for (const [j, t] of joins.entries()) {
    const p = t.params as JoinParams;
    assert.deepEqual(t.inputs, [leftBarrier!.key, rightBarrier!.key], 'each side read through its barrier');
    assert.deepEqual(p.left.take, { bucket: j, partitions: 5 });
    assert.deepEqual(p.right.take, { bucket: j, partitions: 5 });
    assert.equal(p.left.inputs, 1);
    assert.equal(p.right.inputs, 1);
  }
  assert.equal(partitionCount(node), 5);
  assert.match(explainPlan(node), /shuffle both sides by the keys into 5 partition/);
});

test('a right side over the size threshold is shuffled, one just under it broadcast', () => {
  const width = rowBytes(AIRPORTS);
  assert.equal(width, 2 * STRING_BYTES);
  const under = Math.floor(BROADCAST_MAX_BYTES / width);
  assert.equal(joinStrategyOf(joinOf(scan(FLIGHTS, 4, 1_000_000), scan(AIRPORTS, 1, under))).kind, 'broadcast');
  assert.equal(joinStrategyOf(joinOf(scan(FLIGHTS, 4, 1_000_000), scan(AIRPORTS, 1, under + 1))).kind, 'shuffle');
});

test('only a side whose unmatched rows are dropped is broadcast', () => {
  const big = scan(FLIGHTS, 4, 1_000_000);
  const small = scan(AIRPORTS, 1, 100);
  for (const how of ['inner', 'left', 'semi', 'anti'] as const) {
    assert.deepEqual(joinStrategyOf(joinOf(big, small, how)), { kind: 'broadcast', side: 'right', partitions: 4, why: 'about 4.7 KiB by metadata' }, how);
  }
  assert.equal(joinStrategyOf(joinOf(big, small, 'outer')).kind, 'shuffle');
  // A small left: broadcast for inner only.
  const swapped = (how: JoinHow) => joinOf(small, big, how, ['iata'], ['origin']);
  assert.deepEqual(joinStrategyOf(swapped('inner')), { kind: 'broadcast', side: 'left', partitions: 4, why: 'about 4.7 KiB by metadata' });
  for (const how of ['left', 'semi', 'anti', 'outer'] as const) assert.equal(joinStrategyOf(swapped(how)).kind, 'shuffle', how);
  // Two one-partition sides: one task, whatever the join.
  assert.deepEqual(joinStrategy(joinOf(data(FLIGHTS, 1), data(AIRPORTS, 1), 'outer'), 1, 1), { kind: 'broadcast', side: 'right', partitions: 1, why: 'both sides are one partition' });
});

test('a broadcast left side keeps its place: left inputs first, the right partition read in the task', () => {
  const node = joinOf(scan(AIRPORTS, 1, 100), scan(FLIGHTS, 3, 1_000_000), 'inner', ['iata'], ['origin']);
  const { tasks, joins } = plan(node);
  assert.equal(joins.length, 3);
  const small = tasks.find((t) => t.kernel === 'df/stage')!;
  for (const t of joins) {
    const p = t.params as JoinParams;
    assert.deepEqual(t.inputs, [small.key]);
    assert.equal(p.left.inputs, 1);
    assert.equal(p.right.source?.format, 'parquet');
  }
  assert.equal(partitionCount(node), 3);
});

test('two one-partition sides are one join task with both reads fused in', () => {
  const { tasks, joins } = plan(joinOf(scan(FLIGHTS, 1, 10), scan(AIRPORTS, 1, 10), 'outer'));
  assert.equal(tasks.length, 1);
  assert.equal((joins[0]!.params as JoinParams).join.how, 'full');
  assert.equal((joins[0]!.params as JoinParams).right.source?.format, 'parquet');
});

test('an aggregation into one partition is broadcast; one into several partitions is shuffled', () => {
  const agg = (splitOut: number): PlanNode => ({
    kind: 'aggregate', input: scan(AIRPORTS, 8, 1_000_000), keys: ['iata'], splitOut,
    aggs: [{ expr: 'Len', name: 'n' }], schema: [{ name: 'iata', dtype: 'String' }, { name: 'n', dtype: 'UInt32' }],
  });
  const one = joinStrategyOf(joinOf(scan(FLIGHTS, 4, 1_000_000), agg(1)));
  assert.deepEqual(one, { kind: 'broadcast', side: 'right', partitions: 4, why: 'an aggregation into one partition' });
  assert.deepEqual(joinStrategyOf(joinOf(scan(FLIGHTS, 4, 1_000_000), agg(6))), { kind: 'shuffle', partitions: 6 });
});

test('keys of different integer dtypes are cast alike for hashing only, on the side that differs', () => {
  const left = data([{ name: 'k', dtype: 'Int32' }, { name: 'u', dtype: 'UInt8' }, { name: 'x', dtype: 'Float64' }], 2);
  const right = data([{ name: 'k', dtype: 'Int64' }, { name: 'u', dtype: 'UInt32' }, { name: 'x', dtype: 'Int16' }], 3);
  const { tasks } = plan(joinOf(left, right, 'inner', ['k', 'u', 'x'], ['k', 'u', 'x']));
  const hows = (group: string) => tasks.filter((t) => t.group === group).map((t) => (t.params as SplitParams).how);
  for (const how of hows('join-left-split')) assert.deepEqual(how, { kind: 'hash', by: ['k', 'u', 'x'], cast: { k: 'Int64', u: 'UInt64' } });
  for (const how of hows('join-right-split')) assert.deepEqual(how, { kind: 'hash', by: ['k', 'u', 'x'], cast: { u: 'UInt64', x: 'Float64' } });
  // Signed with unsigned: both as Float64.
  const mixed = plan(joinOf(data([{ name: 'k', dtype: 'Int64' }], 2), data([{ name: 'k', dtype: 'UInt64' }], 2), 'inner', ['k'], ['k']));
  assert.deepEqual((mixed.tasks[0]!.params as SplitParams).how, { kind: 'hash', by: ['k'], cast: { k: 'Float64' } });
});

test('keys of different non-numeric dtypes that must be shuffled are refused, named', () => {
  const left = data([{ name: 'd', dtype: 'Datetime(Milliseconds, None)' }], 2);
  const right = data([{ name: 'd', dtype: 'Datetime(Microseconds, None)' }], 2);
  assert.throws(() => plan(joinOf(left, right, 'inner', ['d'], ['d'])), (err: unknown) => err instanceof PlanError && /key "d" \(Datetime\(Milliseconds, None\)\) and key "d" \(Datetime\(Microseconds, None\)\)/.test(err.message));
});

test('a join of joins: the inner join partitions are made by their own tasks first', () => {
  const inner = joinOf(data(FLIGHTS, 2), data(AIRPORTS, 2));
  const outer = joinOf(inner, scan([{ name: 'state', dtype: 'String' }, { name: 'region', dtype: 'String' }], 1, 50), 'left', ['state'], ['state']);
  const { tasks, outputs, joins } = plan(outer);
  // 2 + 2 splits, 2 barriers, 2 inner joins, 1 small read, 2 outer joins.
  assert.equal(tasks.length, 11);
  assert.equal(joins.length, 4);
  const inners = joins.filter((t) => !outputs.includes(t.key));
  assert.equal(inners.length, 2);
  for (const [j, key] of outputs.entries()) {
    const t = joins.find((x) => x.key === key)!;
    assert.deepEqual(t.inputs, [inners[j]!.key, tasks.find((x) => x.kernel === 'df/stage')!.key]);
    assert.deepEqual((t.params as JoinParams).left, { inputs: 1, source: null, ops: [] });
  }
});

test('a join shuffled again (a non-decomposable aggregation after it) is made by its join task first', () => {
  const joined = joinOf(data(FLIGHTS, 2), data(AIRPORTS, 2));
  const node: PlanNode = {
    kind: 'aggregate', input: joined, keys: ['state'], splitOut: 2, aggs: [{ expr: { Agg: { NUnique: { Column: 'origin' } } }, name: 'n' }],
    schema: [{ name: 'state', dtype: 'String' }, { name: 'n', dtype: 'UInt32' }],
  };
  const { tasks, joins } = plan(node);
  const splits = tasks.filter((t) => t.group === 'aggregate-split');
  assert.equal(splits.length, 2);
  for (const [j, s] of splits.entries()) assert.deepEqual(s.inputs, [joins[j]!.key]);
});

test('a short head is small; a long one of a big input is not', () => {
  const head = (n: number): PlanNode => ({ kind: 'head', input: scan(AIRPORTS, 8, 1_000_000), n, schema: AIRPORTS });
  assert.equal(joinStrategyOf(joinOf(scan(FLIGHTS, 4, 1_000_000), head(1000), 'left')).kind, 'broadcast');
  assert.equal(joinStrategyOf(joinOf(scan(FLIGHTS, 4, 1_000_000), head(5_000_000), 'left')).kind, 'shuffle');
});

test('row widths follow the dtypes (a Datetime is not a Date)', () => {
  const schema: Schema = ['Date', 'Datetime(Microseconds, None)', 'Int8', 'Boolean', 'UInt16', 'Float32', 'String', 'List(Int64)']
    .map((dtype, i) => ({ name: `c${i}`, dtype }));
  assert.equal(rowBytes(schema), 4 + 8 + 1 + 1 + 2 + 4 + STRING_BYTES + 16);
});
