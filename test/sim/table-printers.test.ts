// The pieces behind `kubectl get` on kube-sim, checked directly: apimachinery's HumanDuration,
// the pod STATUS and RESTARTS wording, and CRD columns.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration } from '../../sim/server/printers.js';
import { builtinTypes, type ResourceType } from '../../sim/server/resource-types.js';
import { toTable } from '../../sim/server/table.js';
import type { KubeObject } from '../../sim/server/types.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const podType = builtinTypes().find((t) => t.kind === 'Pod')!;
const cells = (t: ResourceType, obj: Record<string, unknown>, version = 'v1') =>
  (toTable(t, version, [obj as unknown as KubeObject], {}) as { rows: { cells: unknown[] }[] }).rows[0]!.cells;

describe('kube-sim tables', () => {
  it('humanDuration words durations as apimachinery does', () => {
    const cases: [number, string][] = [
      [-5 * S, '<invalid>'], [-1 * S, '0s'], [0, '0s'], [119 * S, '119s'], [2 * M, '2m'], [9 * M + 30 * S, '9m30s'],
      [170 * M, '170m'], [3 * H + 10 * M, '3h10m'], [5 * H, '5h'], [30 * H, '30h'], [3 * D + 4 * H, '3d4h'], [20 * D, '20d'],
      [3 * 365 * D + 10 * D, '3y10d'], [10 * 365 * D, '10y'],
    ];
    for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
  });

  it('pod rows: the waiting reason as STATUS, restarts with the time since the last one, Terminating', () => {
    const finishedAt = new Date(Date.now() - 30 * S).toISOString();
    const crashing = {
      metadata: { name: 'p', creationTimestamp: new Date().toISOString() },
      spec: { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n1' },
      status: { phase: 'Running', podIP: '127.0.0.9', containerStatuses: [
        { name: 'a', ready: true, restartCount: 0, state: { running: {} } },
        { name: 'b', ready: false, restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { finishedAt } } },
      ] },
    };
    const [name, ready, status, restarts, , ip, node] = cells(podType, crashing);
    assert.deepEqual([name, ready, status, ip, node], ['p', '1/2', 'CrashLoopBackOff', '127.0.0.9', 'n1']);
    assert.match(String(restarts), /^2 \(3\ds ago\)$/);
    const deleting = { ...crashing, metadata: { ...crashing.metadata, deletionTimestamp: new Date().toISOString() } };
    assert.equal(cells(podType, deleting)[2], 'Terminating');
  });

  it('CRD columns: only those listed (Age when none), typed cells, null for a missing value', () => {
    const crType = (columns: ResourceType['printerColumns']): ResourceType => ({ ...podType, builtin: false, kind: 'Gadget', printerColumns: columns });
    const obj = { metadata: { name: 'g', creationTimestamp: new Date(Date.now() - 5 * M).toISOString() }, spec: { size: 3, labels: { a: 'b' } } };
    const listed = toTable(crType({ v1: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }, { name: 'Labels', type: 'string', jsonPath: '.spec.labels' }, { name: 'Phase', type: 'string', jsonPath: '.status.phase' }] }),
      'v1', [obj as unknown as KubeObject], {}) as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    assert.deepEqual(listed.columnDefinitions.map((c) => c.name), ['Name', 'Size', 'Labels', 'Phase']);
    assert.deepEqual(listed.rows[0]!.cells, ['g', 3, '{"a":"b"}', null]);
    assert.deepEqual(cells(crType({ v1: [] }), obj), ['g', '5m']);
  });

  it('watch tables leave the columns out after the first event', () => {
    const table = toTable(podType, 'v1', [], {}, { noHeaders: true });
    assert.equal('columnDefinitions' in table, false);
  });
});
