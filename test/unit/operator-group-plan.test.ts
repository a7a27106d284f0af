// The worker group's pure plan: scale up and down, rolling replacement without losing
// availability, and what may be drained versus deleted outright.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planGroup, type PlanInput, type PlanPod } from '../../operator/reconcile/group-plan.js';

const pod = (name: string, o: Partial<PlanPod> = {}): PlanPod =>
  ({ name, current: true, ready: true, connected: true, keysHeld: 0, idleSeconds: 0, draining: false, finished: false, ...o });

const input = (desired: number, pods: PlanPod[], o: Partial<PlanInput> = {}): PlanInput => ({
  desired, pods, namesInUse: new Set(pods.map((p) => p.name)), namePrefix: 'c-default', schedulerReachable: true, force: false, ...o,
});

describe('worker group plan', () => {
  it('creates the missing pods under the lowest free names', () => {
    const plan = planGroup(input(3, [pod('c-default-1')]));
    assert.deepEqual(plan.create, ['c-default-0', 'c-default-2']);
    assert.deepEqual(plan.remove, []);
  });

  it('does not reuse a name still held by a terminating pod', () => {
    const plan = planGroup(input(1, [], { namesInUse: new Set(['c-default-0']) }));
    assert.deepEqual(plan.create, ['c-default-1']);
  });

  it('scales down by removing pending pods first, then draining the idle workers holding least data', () => {
    const plan = planGroup(input(1, [
      pod('a', { keysHeld: 5 }), pod('b', { keysHeld: 1, idleSeconds: 9 }), pod('p', { ready: false, connected: false }), pod('c', { keysHeld: 1 }),
    ]));
    assert.deepEqual(plan.remove, [{ name: 'p', drain: false }, { name: 'b', drain: true }, { name: 'c', drain: true }]);
    assert.deepEqual(plan.create, []);
  });

  it('on an autoscaled cluster, the scheduler\'s retirement order comes first among ready workers', () => {
    const plan = planGroup(input(1, [
      pod('a', { keysHeld: 0, retireRank: 2 }), pod('b', { keysHeld: 9, retireRank: 0 }), pod('c', { keysHeld: 1, retireRank: 1 }), pod('p', { ready: false, connected: false }),
    ]));
    assert.deepEqual(plan.remove, [{ name: 'p', drain: false }, { name: 'b', drain: true }, { name: 'c', drain: true }]);
  });

  it('a ready pod whose worker never registered is deleted without a drain', () => {
    const plan = planGroup(input(0, [pod('x', { connected: false })]));
    assert.deepEqual(plan.remove, [{ name: 'x', drain: false }]);
  });

  it('never removes a ready worker while the scheduler is unreachable (it could not be drained)', () => {
    const plan = planGroup(input(0, [pod('x')], { schedulerReachable: false }));
    assert.deepEqual(plan.remove, []);
    assert.match(plan.waiting ?? '', /unreachable/);
  });

  it('suspend and deletion remove every pod without draining', () => {
    const plan = planGroup(input(0, [pod('a'), pod('b', { ready: false }), pod('o', { current: false })], { force: true, schedulerReachable: false }));
    assert.deepEqual(plan.remove.map((r) => r.drain), [false, false, false]);
    assert.deepEqual(plan.remove.map((r) => r.name).sort(), ['a', 'b', 'o']);
  });

  it('rolls outdated workers with a surge and keeps every ready worker until a replacement is ready', () => {
    const outdated = [pod('o1', { current: false }), pod('o2', { current: false })];
    // Step 1: one new pod (surge), nothing removed.
    let plan = planGroup(input(2, outdated));
    assert.deepEqual(plan.create, ['c-default-0']);
    assert.deepEqual(plan.remove, []);
    // Step 2: the new pod is not ready yet: still nothing removed, nothing more created.
    plan = planGroup(input(2, [...outdated, pod('c-default-0', { ready: false, connected: false })]));
    assert.deepEqual(plan.create, []);
    assert.deepEqual(plan.remove, []);
    assert.match(plan.waiting ?? '', /replacement/);
    // Step 3: ready: one outdated worker is drained.
    plan = planGroup(input(2, [...outdated, pod('c-default-0')]));
    assert.equal(plan.remove.length, 1);
    assert.ok(plan.remove[0]!.name.startsWith('o') && plan.remove[0]!.drain);
    // Step 4: with that one draining, the next replacement is created.
    plan = planGroup(input(2, [pod('o1', { current: false, draining: true }), outdated[1]!, pod('c-default-0')]));
    assert.deepEqual(plan.create, ['c-default-1']);
    assert.deepEqual(plan.remove, []);
  });

  it('replaces outdated pods that cannot start without waiting for them', () => {
    const plan = planGroup(input(1, [pod('o', { current: false, ready: false, connected: false }), pod('c-default-0', { ready: false, connected: false })]));
    assert.deepEqual(plan.remove, [{ name: 'o', drain: false }]);
  });

  it('deletes finished pods and replaces them', () => {
    const plan = planGroup(input(1, [pod('done', { finished: true, ready: false, connected: false })]));
    assert.deepEqual(plan.deleteFinished, ['done']);
    assert.deepEqual(plan.create, ['c-default-0']);
  });

  it('does nothing when the group matches its spec', () => {
    const plan = planGroup(input(2, [pod('a'), pod('b')]));
    assert.deepEqual([plan.create, plan.remove, plan.deleteFinished, plan.waiting], [[], [], [], undefined]);
  });
});

describe('worker group plan: refused retirements', () => {
  it('a worker the scheduler refused to retire stays and still counts, so no extra pod is made', () => {
    const plan = planGroup(input(1, [pod('kept', { blocked: true, keysHeld: 3 }), pod('other', { keysHeld: 9 })]));
    assert.deepEqual(plan.remove, [{ name: 'other', drain: true }]);
    assert.deepEqual(plan.create, []);
    const rolling = planGroup(input(1, [pod('kept', { current: false, blocked: true }), pod('c-default-0')]));
    assert.deepEqual([rolling.create, rolling.remove], [[], []]);
  });
});

describe('worker group plan: draining', () => {
  it('a registered worker whose probe fails is drained, not deleted; unregistered pods go first', () => {
    const plan = planGroup(input(1, [pod('busy', { ready: false, keysHeld: 100 }), pod('ghost', { ready: false, connected: false }), pod('ok')]));
    assert.deepEqual(plan.remove, [{ name: 'ghost', drain: false }, { name: 'busy', drain: true }]);
  });
});
