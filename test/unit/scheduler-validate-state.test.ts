// validateState catches a broken index: a state with a task in every state, a steal pending
// and a worker retiring is corrupted one index at a time, and each corruption must be named.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Core, TaskRecord, WorkerRecord } from '../../scheduler/state/core.js';
import { StateInvariantError, type StateIndex } from '../../scheduler/state/index.js';
import { validateState } from '../../scheduler/state/validate-state.js';
import { computed, Harness, of, task } from './scheduler-harness.js';

/** The pure state's records, which only the scheduler itself may change: here, to break them. */
const coreOf = (h: Harness): Core => (h.s as unknown as { core: Core }).core;

function taskOf(c: Core, key: string): TaskRecord {
  const ts = c.tasks.get(key);
  assert.ok(ts, `task ${key}`);
  return ts;
}

function workerOf(c: Core, id: string): WorkerRecord {
  const ws = c.workers.get(id);
  assert.ok(ws, `worker ${id}`);
  return ws;
}

/**
 * w1 (retiring, its key "a" being copied to w2), w2 (GPU) and w3 (two steals pending for it);
 * tasks memory (a), erred (m0), processing (m1..m5, r0..r2, gpu1), queued (r3..r7, gpu2),
 * no-worker (tpu) and waiting (w).
 */
function richState(): Harness {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.addWorker('w2', 1, { GPU: 1 });
  h.submit([task('a')]);
  h.finish('w1', 'a', 1000);
  h.submit(Array.from({ length: 6 }, (_, i) => task(`m${i}`, ['a'])));
  h.addWorker('w3', 2);
  assert.equal(of(h.ev({ type: 'rebalance' }), 'steal').length, 2);
  h.submit(Array.from({ length: 8 }, (_, i) => task(`r${i}`)), undefined, 'c2');
  h.submit([
    task('gpu1', ['a'], { resources: { GPU: 1 } }), task('gpu2', ['a'], { resources: { GPU: 1 } }),
    task('tpu', [], { resources: { TPU: 1 } }), task('w', ['m5']),
  ]);
  assert.deepEqual(computed(h.fail('w1', 'm0')), []);
  assert.equal(of(h.ev({ type: 'retire-workers', workerIds: ['w1'] }), 'replicate').length, 1);
  const states = ['a', 'm0', 'm1', 'r3', 'gpu2', 'tpu', 'w'].map((k) => h.s.taskState(k));
  assert.deepEqual(states, ['memory', 'erred', 'processing', 'queued', 'queued', 'no-worker', 'waiting']);
  return h;
}

type Corruption = [subject: string, breakIt: (c: Core) => void];

/** Typed by StateIndex: an index added without a corruption here fails to compile. */
const CORRUPTIONS: Record<StateIndex, Corruption[]> = {
  tasks: [['task "a"', (c) => c.tasks.set('alias', taskOf(c, 'a'))]],
  'state-counts': [['state queued', (c) => { (c as unknown as { perState: Record<string, number> }).perState.queued++; }]],
  'memory-bytes': [['state', (c) => { taskOf(c, 'a').nbytes += 5; }]],
  dependencies: [['task "w"', (c) => taskOf(c, 'w').dependencies.delete(taskOf(c, 'm5'))]],
  dependents: [['task "a"', (c) => taskOf(c, 'a').dependents.delete(taskOf(c, 'm1'))]],
  waiters: [['task "m5"', (c) => taskOf(c, 'm5').waiters.delete(taskOf(c, 'w'))]],
  'waiting-on': [['task "w"', (c) => taskOf(c, 'w').waitingOn.clear()]],
  'who-has': [['task "a"', (c) => taskOf(c, 'a').whoHas.delete(workerOf(c, 'w1'))]],
  'has-what': [['worker "w1"', (c) => workerOf(c, 'w1').hasWhat.delete(taskOf(c, 'a'))]],
  processing: [
    ['worker "w2"', (c) => workerOf(c, 'w2').processing.delete(taskOf(c, 'm1'))],
    ['task "m2"', (c) => { taskOf(c, 'm2').processingOn = undefined; }],
  ],
  'work-ms': [['worker "w3"', (c) => { workerOf(c, 'w3').workMs += 250; }]],
  'used-resources': [['worker "w2"', (c) => { workerOf(c, 'w2').used.GPU = 0; }]],
  'steal-buckets': [['task "m1"', (c) => workerOf(c, 'w2').stealable.get('|0')?.heap.remove(taskOf(c, 'm1'))]],
  steals: [
    ['worker "w3"', (c) => workerOf(c, 'w3').stealsIn.delete(taskOf(c, 'm4'))],
    ['worker "w1"', (c) => { workerOf(c, 'w1').stealsOut = 0; }],
  ],
  'ready-queues': [
    ['task "r5"', (c) => c.queues.remove(taskOf(c, 'r5'), taskOf(c, 'r5').lane)],
    // The heap's order: the last queued task suddenly outranks the ones above it.
    ['lane "|root"', (c) => { (taskOf(c, 'r7') as { priority: number }).priority = 99; }],
    // Given back while queued: filed with the tasks nobody gave back.
    ['lane "|root"', (c) => { taskOf(c, 'r6').rejectedBy = new Set(['w3']); }],
  ],
  'no-worker': [['task "tpu"', (c) => c.noWorker.delete(taskOf(c, 'tpu'))]],
  'pending-counts': [['bucket "/g"', (c) => { const n = c.pending.get('')?.groups.get('g'); if (n) n.queued++; }]],
  clients: [['client "c2"', (c) => c.clients.get('c2')?.delete(taskOf(c, 'r3'))]],
  retiring: [['worker "w1"', (c) => c.retiring.delete(workerOf(c, 'w1'))]],
  replicating: [['task "m0"', (c) => c.replicating.set(taskOf(c, 'm0'), workerOf(c, 'w3'))]],
  moves: [
    ['task "m0"', (c) => c.moves.set(taskOf(c, 'm0'), { from: workerOf(c, 'w2'), to: workerOf(c, 'w3'), requestId: 'r' })],
    ['request "r"', (c) => c.balances.set('r', { pending: 1, moved: 0, bytes: 0, dropped: 0, abandoned: 0 })],
  ],
  'capable-cache': [['resources "GPU=1"', (c) => c.capableCache.set('GPU=1', false)]],
  'life-cycle': [
    ['task "m0"', (c) => { taskOf(c, 'm0').error = undefined; }],
    ['task "r4"', (c) => { taskOf(c, 'r4').wantedBy.clear(); c.clients.get('c2')?.delete(taskOf(c, 'r4')); }],
  ],
  settled: [['state', (c) => c.dirty.add(workerOf(c, 'w3'))]],
  'group-progress': [
    // A processing task whose move to memory was not counted.
    ['group "g"', (c) => { (c.progress as unknown as { groups: Map<string, { processing: number; done: number }> }).groups.get('g')!.done++; }],
  ],
  // No barrier in memory holds "a": a count of one is a lie.
  held: [['task "a"', (c) => { taskOf(c, 'a').heldBy++; }]],
};

test('the intact state passes', () => {
  const h = richState();
  assert.doesNotThrow(() => h.s.validate());
  assert.doesNotThrow(() => validateState(coreOf(h)));
});

for (const [index, corruptions] of Object.entries(CORRUPTIONS) as Array<[StateIndex, Corruption[]]>) {
  for (const [subject, breakIt] of corruptions) {
    test(`a broken ${index} index is caught, naming ${subject}`, () => {
      const h = richState();
      breakIt(coreOf(h));
      let caught: unknown;
      try {
        h.s.validate();
      } catch (e) {
        caught = e;
      }
      assert.ok(caught instanceof StateInvariantError, `expected StateInvariantError, got ${String(caught)}`);
      const found = caught.violations.map((v) => `[${v.index}] ${v.subject}`);
      assert.ok(found.includes(`[${index}] ${subject}`), `expected [${index}] ${subject} among:\n${found.join('\n')}`);
      assert.ok(caught.message.includes(`[${index}] ${subject}: `), caught.message);
    });
  }
}

test('a long list of violations is cut short in the message but fully counted', () => {
  const h = richState();
  const c = coreOf(h);
  for (const ws of c.workers.values()) ws.workMs += 1;
  for (const ts of c.tasks.values()) ts.story.push(...Array.from({ length: 60 }, () => ts.story[0] as TaskRecord['story'][number]));
  assert.throws(() => h.s.validate(), (e: unknown) => {
    assert.ok(e instanceof StateInvariantError);
    assert.equal(e.violations.length, 20);
    assert.match(e.message, /^scheduler state is inconsistent \(2\d problems\)/);
    assert.match(e.message, /\.\.\. and \d+ more$/);
    return true;
  });
});

test('settled: a worker with free slots beside a queued task, behind any number it gave back, is caught', () => {
  const h = new Harness();
  h.addWorker('w1', 1);
  h.addWorker('w2', 1);
  h.submit(Array.from({ length: 300 }, (_, i) => task(`r${i}`)));
  const c = coreOf(h);
  const queued = [...c.tasks.values()].filter((ts) => ts.state === 'queued'); // in run order
  assert.equal(queued.length, 296);
  const giveBack = (ts: TaskRecord): void => { // as if stolen from w1
    c.queues.remove(ts, ts.lane);
    ts.rejectedBy = new Set(['w1']);
    c.queues.push(ts, ts.lane, ts.resources, true, ts.rejectedBy);
  };
  // w1 gave back the first 200 queued tasks, and has slots free for more.
  queued.slice(0, 200).forEach(giveBack);
  (workerOf(c, 'w1').def as { nthreads: number }).nthreads = 10;
  assert.throws(() => validateState(c), (e: unknown) => {
    assert.ok(e instanceof StateInvariantError);
    assert.deepEqual(e.violations.map((v) => `[${v.index}] ${v.subject}`), ['[settled] worker "w1"']);
    assert.match(e.message, /could take queued "r204" now \(2 processing\)/);
    return true;
  });
  // Had it given back every queued task, waiting for another worker is right.
  queued.slice(200).forEach(giveBack);
  assert.doesNotThrow(() => validateState(c));
});
