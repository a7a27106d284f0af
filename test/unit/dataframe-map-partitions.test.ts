// mapPartitions lowered to tasks, with no cluster: each partition made whole, then one task of
// the user's function per partition, whose output the next stage checks before its own ops.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planTasks } from '../../dataframe/plan/lower.js';
import type { Op, PlanNode, Schema } from '../../dataframe/plan/nodes.js';

const schema: Schema = [{ name: 'id', dtype: 'Int64' }, { name: 'value', dtype: 'Float64' }];
const fn = { id: 'polars:src:abc', name: 'addRank' };
const filter: Op = { op: 'filter', predicate: { Column: 'id' } };

function keys(): (group: string) => string {
  let n = 0;
  return (group) => `${group}-${++n}`;
}

describe('mapPartitions lowering', () => {
  it('runs the function on each scanned partition, and fuses what follows after its check', () => {
    const scan: PlanNode = {
      kind: 'scan', format: 'parquet', schema, columns: null, predicate: null,
      parts: [{ path: '/d/a.parquet', offset: 0, rows: 10 }, { path: '/d/a.parquet', offset: 10, rows: 5 }],
    };
    const input: PlanNode = { kind: 'map', input: scan, ops: [filter], schema };
    const plan: PlanNode = { kind: 'map', input: { kind: 'mapPartitions', input, fn, schema }, ops: [filter], schema };
    const { tasks, outputs } = planTasks(plan, keys());
    assert.deepEqual(tasks.map((t) => [t.key, t.kernel, t.inputs]), [
      ['read-parquet-1', 'df/stage', []], ['map-partitions-2', 'fn', ['read-parquet-1']],
      ['read-parquet-3', 'df/stage', []], ['map-partitions-4', 'fn', ['read-parquet-3']],
      ['stage-5', 'df/stage', ['map-partitions-2']], ['stage-6', 'df/stage', ['map-partitions-4']],
    ]);
    assert.deepEqual(outputs, ['stage-5', 'stage-6']);
    const [read, call, , , after] = tasks;
    assert.deepEqual(read!.params, { source: { format: 'parquet', part: scan.parts[0], columns: null, predicate: null }, ops: [filter] });
    assert.deepEqual(call!.fn, fn);
    assert.deepEqual(after!.params, { source: null, ops: [{ op: 'expectSchema', schema, what: 'mapPartitions function addRank' }, filter] });
  });

  it('hands partitions already on the cluster to the function as they are', () => {
    const data: PlanNode = { kind: 'data', keys: ['data-1', 'data-2'], schema, rows: null, bytes: null };
    const { tasks } = planTasks({ kind: 'mapPartitions', input: data, fn, schema }, keys());
    assert.deepEqual(tasks.filter((t) => t.kernel === 'fn').map((t) => t.inputs), [['data-1'], ['data-2']]);
    assert.equal(tasks.filter((t) => t.kernel === 'df/stage').length, 2); // the checks
  });
});
