// The sort planner, pure: plans in, tasks out (no Polars, no sockets).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planTasks } from '../../dataframe/plan/lower.js';
import type { Op, PlanNode, Schema } from '../../dataframe/plan/nodes.js';
import { partitionCount } from '../../dataframe/plan/partitions.js';
import { explainPlan } from '../../dataframe/plan/explain.js';
import { SAMPLE_ROWS, type BoundariesParams, type SampleParams } from '../../dataframe/plan/sort.js';
import type { PlannedTask, SplitParams, StageParams, TakeParams } from '../../dataframe/plan/tasks.js';

const schema: Schema = [{ name: 'a', dtype: 'Int64' }, { name: 'b', dtype: 'String' }];

function data(n: number): PlanNode {
  return { kind: 'data', keys: Array.from({ length: n }, (_, i) => `data-${i}`), schema, rows: null, bytes: null };
}

function sortOf(input: PlanNode, by = ['a', 'b'], descending = [true, false]): PlanNode {
  return { kind: 'sort', input, by, descending, schema };
}

function plan(node: PlanNode) {
  let seq = 0;
  return planTasks(node, (group) => `${group}-${seq++}`);
}

const byKernel = (tasks: PlannedTask[], kernel: string) => tasks.filter((t) => t.kernel === kernel);

describe('sort planning', () => {
  it('samples each partition, picks boundaries once, range-splits and sorts each output partition', () => {
    const { tasks, outputs } = plan(sortOf(data(4)));
    assert.deepEqual(tasks.map((t) => t.kernel).sort(), [
      'df/barrier', 'df/boundaries', 'df/sample', 'df/sample', 'df/sample', 'df/sample',
      'df/split', 'df/split', 'df/split', 'df/split', 'df/take', 'df/take', 'df/take', 'df/take',
    ]);
    const samples = byKernel(tasks, 'df/sample');
    assert.deepEqual(samples.map((t) => t.inputs), [['data-0'], ['data-1'], ['data-2'], ['data-3']]);
    assert.deepEqual(samples.map((t) => t.params as SampleParams), samples.map(() => ({ by: ['a', 'b'], rows: SAMPLE_ROWS })));
    assert.ok(samples.every((t) => t.group === 'sort-sample'));

    const [boundaries] = byKernel(tasks, 'df/boundaries');
    assert.deepEqual(boundaries!.inputs, samples.map((t) => t.key));
    assert.deepEqual(boundaries!.params as BoundariesParams, { by: ['a', 'b'], descending: [true, false], partitions: 4 });

    const splits = byKernel(tasks, 'df/split');
    // Each split reads its partition, then the boundaries last.
    assert.deepEqual(splits.map((t) => t.inputs), [0, 1, 2, 3].map((i) => [`data-${i}`, boundaries!.key]));
    for (const s of splits) {
      const p = s.params as SplitParams;
      assert.deepEqual(p.how, { kind: 'range', by: ['a', 'b'], descending: [true, false] });
      assert.equal(p.partitions, 4);
      assert.deepEqual(p.stage, { source: null, ops: [] } satisfies StageParams);
    }

    const takes = byKernel(tasks, 'df/take');
    const sort: Op = { op: 'sort', by: ['a', 'b'], descending: [true, false] };
    assert.deepEqual(takes.map((t) => t.params as TakeParams), [0, 1, 2, 3].map((bucket) => ({ bucket, partitions: 4, ops: [sort] })));
    // Every take reads the splits through the one barrier over them (P + Q edges).
    const [barrier] = byKernel(tasks, 'df/barrier');
    assert.equal(barrier!.barrier, true);
    assert.deepEqual(barrier!.inputs, splits.map((s) => s.key));
    assert.ok(takes.every((t) => t.inputs.join() === barrier!.key));
    // The output partitions are the takes, in bucket order: concatenated, the sorted result.
    assert.deepEqual(outputs, takes.map((t) => t.key));
    assert.equal(partitionCount(sortOf(data(4))), 4);
  });

  it('makes a partition with pending work once, read by both its sample and its split', () => {
    const filtered: PlanNode = { kind: 'map', input: data(2), ops: [{ op: 'filter', predicate: { Column: 'a' } }], schema };
    const { tasks } = plan(sortOf(filtered));
    const stages = byKernel(tasks, 'df/stage');
    assert.equal(stages.length, 2);
    assert.deepEqual(stages.map((t) => (t.params as StageParams).ops), [[{ op: 'filter', predicate: { Column: 'a' } }], [{ op: 'filter', predicate: { Column: 'a' } }]]);
    const [b] = byKernel(tasks, 'df/boundaries');
    assert.deepEqual(byKernel(tasks, 'df/sample').map((t) => t.inputs), stages.map((s) => [s.key]));
    assert.deepEqual(byKernel(tasks, 'df/split').map((t) => t.inputs), stages.map((s) => [s.key, b!.key]));
  });

  it('sorts a single partition in place, with no shuffle', () => {
    const { tasks, outputs } = plan(sortOf(data(1), ['a'], [false]));
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]!.kernel, 'df/stage');
    assert.deepEqual(tasks[0]!.params, { source: null, ops: [{ op: 'sort', by: ['a'], descending: [false] }] });
    assert.deepEqual(outputs, [tasks[0]!.key]);
  });

  it('keeps sort then head a top-N: no samples, no shuffle', () => {
    const { tasks, outputs } = plan({ kind: 'head', input: sortOf(data(3)), n: 10, schema });
    assert.deepEqual(tasks.map((t) => t.kernel), ['df/stage', 'df/stage', 'df/stage', 'df/stage']);
    assert.equal(outputs.length, 1);
    const topN: Op[] = [{ op: 'topN', by: ['a', 'b'], descending: [true, false], n: 10 }];
    assert.ok(tasks.every((t) => JSON.stringify((t.params as StageParams).ops) === JSON.stringify(topN)));
  });

  it('explains the sort with its directions', () => {
    const text = explainPlan(sortOf(data(2)));
    assert.match(text.split('\n')[0]!, /^Sort by \[a desc, b\], nulls first/);
    assert.match(explainPlan({ kind: 'head', input: sortOf(data(2)), n: 5, schema }).split('\n')[0]!, /^Head 5 \(top-N/);
  });
});
