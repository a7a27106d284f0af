// The scheduler's I/O shell feeds its history: worker arrivals and departures, and tasks that
// err on the scheduler (KilledWorker) rather than on a worker. No network: events go straight
// to SchedulerCore.handle, and with no worker streams connected nothing is sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SchedulerCore } from '../../scheduler/server/core.js';
import { task } from './scheduler-harness.js';

test('a task running on a worker that dies erred KilledWorker: a failed task in the history', () => {
  const core = new SchedulerCore({ lostWorkerLimit: 1 });
  core.handle({ type: 'worker-added', worker: { workerId: 'id1', name: 'w1', address: 'h:1', nthreads: 1, memoryLimit: 0, resources: {}, group: '' } });
  core.handle({ type: 'client-connected', clientId: 'c1' });
  core.handle({ type: 'update-graph', clientId: 'c1', tasks: [task('crasher', [], { group: 'crash' }), task('after', ['crasher'], { group: 'next' })], wanted: ['after'] });
  assert.equal(core.state.taskState('crasher'), 'processing');
  core.handle({ type: 'worker-removed', workerId: 'id1', reason: 'stream closed', graceful: false });
  assert.equal(core.state.taskState('after'), 'erred');
  const s = core.history.snapshot();
  assert.deepEqual(s.failed.map((f) => [f.key, f.group, f.worker, f.name]), [['crasher', 'crash', 'w1', 'KilledWorker']]);
  assert.equal(s.stream.key.length, 0, 'it never ran to an end: no entry');
  assert.deepEqual(s.workerEvents.map((e) => [e.worker, e.event, e.reason]), [['w1', 'added', ''], ['w1', 'removed', 'stream closed']]);
  const progress = new Map(s.progress.map((p) => [p.group, [p.total, p.erred]]));
  assert.deepEqual([progress.get('crash'), progress.get('next')], [[1, 1], [1, 1]]);
});

test('a graceful departure errs nothing and records no failure', () => {
  const core = new SchedulerCore({ lostWorkerLimit: 1 });
  core.handle({ type: 'worker-added', worker: { workerId: 'id1', name: 'w1', address: 'h:1', nthreads: 1, memoryLimit: 0, resources: {}, group: '' } });
  core.handle({ type: 'client-connected', clientId: 'c1' });
  core.handle({ type: 'update-graph', clientId: 'c1', tasks: [task('t')], wanted: ['t'] });
  core.handle({ type: 'worker-removed', workerId: 'id1', reason: 'retired', graceful: true });
  assert.equal(core.state.taskState('t'), 'no-worker');
  assert.deepEqual(core.history.snapshot().failed, []);
});

test('only a failure the state takes is reported as erred: a retried attempt and a stale report are not', () => {
  const core = new SchedulerCore({});
  core.handle({ type: 'worker-added', worker: { workerId: 'id1', name: 'w1', address: 'h:1', nthreads: 1, memoryLimit: 0, resources: {}, group: '' } });
  core.handle({ type: 'client-connected', clientId: 'c1' });
  core.handle({ type: 'update-graph', clientId: 'c1', tasks: [task('flaky', [], { retries: 1 })], wanted: ['flaky'] });
  const error = { name: 'Error', message: 'once', stack: '', worker: 'w1' };
  core.handle({ type: 'task-erred', workerId: 'id1', key: 'flaky', durationMs: 1, error });
  assert.deepEqual(core.state.erredByLastEvent(), [], 'retried');
  assert.equal(core.state.taskState('flaky'), 'processing');
  core.handle({ type: 'task-finished', workerId: 'id1', key: 'flaky', nbytes: 1, durationMs: 1 });
  core.handle({ type: 'task-erred', workerId: 'id1', key: 'flaky', durationMs: 1, error });
  assert.deepEqual(core.state.erredByLastEvent(), [], 'a stale report about a finished task');
  assert.equal(core.state.taskState('flaky'), 'memory');
  core.handle({ type: 'update-graph', clientId: 'c1', tasks: [task('bad')], wanted: ['bad'] });
  core.handle({ type: 'task-erred', workerId: 'id1', key: 'bad', durationMs: 1, error: { ...error, message: 'for good' } });
  assert.deepEqual(core.state.erredByLastEvent().map((e) => [e.key, e.error.message]), [['bad', 'for good']]);
});
