// The autoscaler's pure decision: which policy applies, the HPA's windows and rates over
// simulated time, min/max, capacity, the policy's limits and idle actions.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DaskAutoscalingPolicy, DaskAutoscalingPolicySpec } from '../../operator/api/types.js';
import { decide } from '../../operator/autoscaler/decide.js';
import { ScalingHistory } from '../../operator/autoscaler/history.js';
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, resolvePolicy } from '../../operator/autoscaler/policy.js';
import type { DecideInput, Decision, GroupDecision, GroupInput, ResolvedPolicy, ScalingRules } from '../../operator/autoscaler/types.js';

const dap = (name: string, spec: DaskAutoscalingPolicySpec): DaskAutoscalingPolicy =>
  ({ apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskAutoscalingPolicy', metadata: { name }, spec });

const nameOf = (r: ReturnType<typeof resolvePolicy>): string | undefined => ('policy' in r ? r.policy.name : `error: ${r.error}`);

/** No window, no rate limit: isolates the other steps. */
const free: ScalingRules = { stabilizationWindowSeconds: 0, policies: [], selectPolicy: 'Max' };
const policy = (o: Partial<ResolvedPolicy> = {}): ResolvedPolicy => ({ limits: {}, behavior: { scaleUp: free, scaleDown: free }, idle: {}, ...o });
const defaults = (): ResolvedPolicy => policy({ behavior: { scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN } });
const rules = (o: Partial<ScalingRules>): ScalingRules => ({ ...free, ...o });

const group = (o: Partial<GroupInput> = {}): GroupInput => ({
  name: 'default', replicas: 0, minReplicas: 0, gpusPerWorker: 0, recommended: 0, recommendedReason: 'queue',
  ready: 0, pending: 0, unschedulable: 0, external: false, ...o,
});

const input = (groups: GroupInput[], p: ResolvedPolicy, o: Partial<DecideInput> = {}): DecideInput =>
  ({ now: 0, groups, idleSeconds: 0, policy: p, namespaceUsage: { workers: 0, gpus: 0 }, resultsHeld: 0, ...o });

/** One decision, and each change written back as the runner would. */
function step(h: ScalingHistory, i: DecideInput): Decision {
  const d = decide(i, h);
  for (const g of d.groups) if (g.to !== g.from) h.applied(g.name, i.now, g.from, g.to);
  return d;
}

const once = (groups: GroupInput[], p: ResolvedPolicy, o: Partial<DecideInput> = {}): Decision => decide(input(groups, p, o), new ScalingHistory());

describe('autoscaling policy resolution', () => {
  const listed = dap('b-listed', { namespaces: ['team-a'] });
  const selected = dap('m-selected', { namespaceSelector: { matchLabels: { team: 'a' } } });
  const all = dap('z-all', {});
  const labels = { team: 'a' };

  it('prefers a policy listing the namespace, then one selecting it by labels, then one covering all', () => {
    assert.equal(nameOf(resolvePolicy([all, selected, listed], 'team-a', labels)), 'b-listed');
    assert.equal(nameOf(resolvePolicy([all, selected], 'team-a', labels)), 'm-selected');
    assert.equal(nameOf(resolvePolicy([all], 'team-a', labels)), 'z-all');
    assert.equal(nameOf(resolvePolicy([listed, selected], 'other', {})), undefined);
  });

  it('breaks ties by name, alphabetically first', () => {
    assert.equal(nameOf(resolvePolicy([dap('b', {}), dap('a', {}), dap('c', {})], 'ns', {})), 'a');
    assert.equal(nameOf(resolvePolicy([dap('y', { namespaces: ['ns'] }), dap('x', { namespaces: ['ns', 'o'] })], 'ns', {})), 'x');
  });

  it('a policy with both a list and a selector covers by either, ranked by the one that matched', () => {
    const both = dap('a-both', { namespaces: ['other'], namespaceSelector: { matchLabels: { team: 'a' } } });
    assert.equal(nameOf(resolvePolicy([both, all], 'team-a', labels)), 'a-both');
    assert.equal(nameOf(resolvePolicy([both, all], 'other', {})), 'a-both');
    assert.equal(nameOf(resolvePolicy([both, all], 'team-b', { team: 'b' })), 'z-all');
    // By selector it ranks below a listing policy, even one alphabetically later.
    assert.equal(nameOf(resolvePolicy([both, dap('c-list', { namespaces: ['team-a'] })], 'team-a', labels)), 'c-list');
  });

  it('unreadable namespace labels match no selector', () => {
    assert.equal(nameOf(resolvePolicy([selected, all], 'team-a', undefined)), 'z-all');
    assert.deepEqual(resolvePolicy([selected], 'team-a', undefined, 'm-selected'),
      { error: 'DaskAutoscalingPolicy m-selected does not cover namespace team-a (its labels could not be read)' });
  });

  it('an empty selector counts as none', () => {
    assert.equal(nameOf(resolvePolicy([dap('e', { namespaceSelector: {} })], 'x', {})), 'e');
    assert.equal(nameOf(resolvePolicy([dap('e', { namespaces: ['y'], namespaceSelector: { matchLabels: {} } })], 'x', {})), undefined);
  });

  it('a named policy must exist and cover the namespace, and then wins over more specific ones', () => {
    assert.deepEqual(resolvePolicy([all], 'team-a', labels, 'gone'), { error: 'DaskAutoscalingPolicy gone not found' });
    assert.deepEqual(resolvePolicy([listed], 'team-b', {}, 'b-listed'), { error: 'DaskAutoscalingPolicy b-listed does not cover namespace team-b' });
    assert.equal(nameOf(resolvePolicy([all, listed], 'team-a', labels, 'z-all')), 'z-all');
  });

  it('no covering policy gives the built-in defaults', () => {
    assert.deepEqual(resolvePolicy([], 'ns', {}), {
      policy: {
        limits: {}, idle: {},
        behavior: {
          scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }], selectPolicy: 'Max' },
          scaleDown: { stabilizationWindowSeconds: 60, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], selectPolicy: 'Max' },
        },
      },
    });
  });

  it("fills only a user's missing fields from the defaults and copies limits and idle", () => {
    const r = resolvePolicy([dap('p', {
      limits: { maxGpusPerCluster: 4 }, idle: { deleteClusterAfterSeconds: 600 },
      behavior: { scaleUp: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] }, scaleDown: { stabilizationWindowSeconds: 300, policies: [] } },
    })], 'ns', {});
    assert.ok('policy' in r);
    assert.deepEqual(r.policy, {
      name: 'p', limits: { maxGpusPerCluster: 4 }, idle: { deleteClusterAfterSeconds: 600 },
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }], selectPolicy: 'Max' },
        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }], selectPolicy: 'Max' },
      },
    });
    r.policy.behavior.scaleDown.policies[0].value = 1;
    assert.equal(DEFAULT_SCALE_DOWN.policies[0].value, 100);
  });
});

describe('autoscaler decision: per-group steps', () => {
  it('clamps to maxReplicas and rates the step, saying so in one line', () => {
    const d = once([group({ replicas: 2, maxReplicas: 8, recommended: 14, recommendedReason: '2000 tasks, 400s of work / 30s: 14 workers' })], defaults());
    assert.deepEqual(d.groups, [{
      name: 'default', from: 2, to: 6, recommended: 14, limitedBy: ['maxReplicas', 'scaleUpRate'],
      reason: 'scheduler: 2000 tasks, 400s of work / 30s: 14 workers; capped at maxReplicas 8; +4 pods per 15s',
    }]);
    assert.equal(d.idleToZero, false);
    assert.equal(d.deleteCluster, undefined);
  });

  it('raises to minReplicas; no change still gives a decision with its reason', () => {
    assert.deepEqual(once([group({ replicas: 2, minReplicas: 2, recommended: 0 })], policy()).groups[0],
      { name: 'default', from: 2, to: 2, recommended: 0, limitedBy: ['minReplicas'], reason: 'scheduler: queue; raised to minReplicas 2' });
    assert.deepEqual(once([group({ replicas: 3, recommended: 3, recommendedReason: '' })], policy()).groups[0],
      { name: 'default', from: 3, to: 3, recommended: 3, limitedBy: [], reason: 'scheduler: 3 workers' });
  });

  it('does not ask for more while pods cannot be scheduled, but still scales down', () => {
    const held = once([group({ replicas: 3, recommended: 6, pending: 2, unschedulable: 2 })], policy()).groups[0];
    assert.equal(held.to, 3);
    assert.deepEqual(held.limitedBy, ['unschedulable']);
    assert.equal(held.reason, 'scheduler: queue; 2 worker pods cannot be scheduled: not asking for more');
    const down = once([group({ replicas: 3, recommended: 1, pending: 2, unschedulable: 2 })], policy()).groups[0];
    assert.equal(down.to, 1);
    assert.deepEqual(down.limitedBy, []);
  });

  it('an externally driven group is left alone but counts toward the limits', () => {
    const d = once([
      group({ name: 'ext', replicas: 5, recommended: 0, external: true }),
      group({ name: 'auto', replicas: 0, recommended: 4 }),
    ], policy({ limits: { maxWorkersPerNamespace: 8 } }), { namespaceUsage: { workers: 2, gpus: 0 } });
    assert.deepEqual(d.groups, [
      { name: 'ext', from: 5, to: 5, recommended: 0, limitedBy: [], reason: 'driven externally (kubectl scale, HPA or KEDA): autoscaler stands aside' },
      { name: 'auto', from: 0, to: 1, recommended: 4, limitedBy: ['maxWorkersPerNamespace'], reason: 'scheduler: queue; held at 1 by maxWorkersPerNamespace 8 (2 workers used by other clusters)' },
    ]);
  });

  it('a group handed back by an external driver starts a fresh history', () => {
    const h = new ScalingHistory();
    const at = (t: number, external: boolean): GroupDecision => decide(input([group({ replicas: 5, recommended: 2, external })], defaults(), { now: t }), h).groups[0];
    assert.equal(at(0, false).to, 5);
    assert.equal(at(10_000, true).to, 5);
    // Back at 20 s: its 5 counts as seen then, so the window ends at 80 s, not 60 s.
    assert.equal(at(20_000, false).to, 5);
    assert.equal(at(70_000, false).to, 5);
    assert.equal(at(80_000, false).to, 2);
  });

  it('forgets the groups the cluster no longer has', () => {
    const h = new ScalingHistory();
    decide(input([group({ name: 'a', replicas: 1 }), group({ name: 'b', replicas: 1 })], defaults()), h);
    assert.deepEqual([h.has('a'), h.has('b')], [true, true]);
    decide(input([group({ name: 'a', replicas: 1 })], defaults(), { now: 1000 }), h);
    assert.deepEqual([h.has('a'), h.has('b')], [true, false]);
  });

  it('idle scale-to-zero ignores minReplicas, only once idle long enough', () => {
    const p = policy({ idle: { scaleToZeroAfterSeconds: 300 } });
    const g = group({ replicas: 2, minReplicas: 2, recommended: 3 });
    const d = once([g], p, { idleSeconds: 300.7 });
    assert.equal(d.idleToZero, true);
    assert.deepEqual(d.groups[0], { name: 'default', from: 2, to: 0, recommended: 3, limitedBy: [], reason: 'scheduler: queue; idle for 300s >= scaleToZeroAfterSeconds 300' });
    const busy = once([g], p, { idleSeconds: 299 });
    assert.equal(busy.idleToZero, false);
    assert.equal(busy.groups[0].to, 3);
    // A threshold of 0 still waits for the scheduler to be idle at all.
    const zero = policy({ idle: { scaleToZeroAfterSeconds: 0, deleteClusterAfterSeconds: 0 } });
    assert.deepEqual([once([g], zero).idleToZero, once([g], zero).deleteCluster], [false, undefined]);
    assert.deepEqual([once([g], zero, { idleSeconds: 1 }).idleToZero, once([g], zero, { idleSeconds: 1 }).deleteCluster],
      [true, 'idle for 1s >= deleteClusterAfterSeconds 0']);
  });

  it('asks for the cluster to be deleted once idle past deleteClusterAfterSeconds', () => {
    const p = policy({ idle: { deleteClusterAfterSeconds: 3600 } });
    assert.equal(once([group()], p, { idleSeconds: 3600 }).deleteCluster, 'idle for 3600s >= deleteClusterAfterSeconds 3600');
    assert.equal(once([group()], p, { idleSeconds: 3599 }).deleteCluster, undefined);
    const held = once([group()], p, { idleSeconds: 3600, resultsHeld: 2 });
    assert.equal(held.deleteCluster, undefined, 'not while a client holds results');
    assert.match(held.deleteWaiting ?? '', /2 results are held for clients/);
  });

  it('gives the same decision for the same inputs', () => {
    const i = input([group({ replicas: 1, recommended: 9, maxReplicas: 5 })], defaults());
    assert.deepEqual(decide(i, new ScalingHistory()), decide(i, new ScalingHistory()));
  });
});

describe('autoscaler decision: stabilization windows', () => {
  it('scales down only after the recommendation stayed lower for the whole window, then exactly to it', () => {
    const h = new ScalingHistory();
    let replicas = 10;
    const seen: { t: number; to: number; limitedBy: string[] }[] = [];
    for (let t = 0; t <= 80_000; t += 100) {
      const d = step(h, input([group({ replicas, recommended: t < 10_000 ? 10 : 3 })], defaults(), { now: t }));
      seen.push({ t, to: d.groups[0].to, limitedBy: d.groups[0].limitedBy });
      replicas = d.groups[0].to;
    }
    // The last 10 arrived at 9.9 s; it leaves the 60 s window at 69.9 s.
    const first = seen.find((s) => s.to !== 10);
    assert.deepEqual(first, { t: 69_900, to: 3, limitedBy: [] });
    assert.deepEqual(seen.find((s) => s.t === 69_800), { t: 69_800, to: 10, limitedBy: ['stabilizationWindow'] });
    assert.equal(replicas, 3);
  });

  it('a group seen for the first time waits a whole window before scaling down', () => {
    const h = new ScalingHistory();
    const at = (t: number): Decision => decide(input([group({ replicas: 5, recommended: 2 })], defaults(), { now: t }), h);
    assert.equal(at(0).groups[0].to, 5);
    assert.equal(at(59_999).groups[0].reason, 'scheduler: queue; held at 5 by the scale-down stabilization window 60s');
    assert.equal(at(60_000).groups[0].to, 2);
  });

  it('a scale-up window holds at the lowest recommendation within it', () => {
    const h = new ScalingHistory();
    const p = policy({ behavior: { scaleUp: rules({ stabilizationWindowSeconds: 30 }), scaleDown: free } });
    let replicas = 2;
    const at = (t: number, recommended: number): GroupDecision => step(h, input([group({ replicas, recommended })], p, { now: t })).groups[0];
    const run = (t: number, recommended: number): number => (replicas = at(t, recommended).to);
    // First sight: the current 2 counts as seen at 0.
    assert.equal(run(0, 6), 2);
    assert.equal(run(5_000, 4), 2);
    assert.equal(run(10_000, 6), 2);
    assert.equal(run(30_000, 6), 4);
    assert.deepEqual(at(34_999, 6).limitedBy, ['stabilizationWindow']);
    assert.equal(run(35_000, 6), 6);
  });

  it('a bursty recommendation moves the group up once and down once, no more', () => {
    const h = new ScalingHistory();
    let replicas = 2;
    const changes: [number, number, number][] = [];
    for (let t = 0; t < 420_000; t += 100) {
      const recommended = t < 300_000 && t % 200 === 100 ? 8 : 2;
      const g = step(h, input([group({ replicas, recommended })], defaults(), { now: t })).groups[0];
      if (g.to !== g.from) changes.push([t, g.from, g.to]);
      replicas = g.to;
    }
    // Up at once, rate-limited to +4 per 15 s; down 60 s after the last burst (299.9 s).
    assert.deepEqual(changes, [[100, 2, 6], [15_100, 6, 8], [359_900, 8, 2]]);
  });
});

describe('autoscaler decision: rate policies', () => {
  const up = (r: Partial<ScalingRules>): ResolvedPolicy => policy({ behavior: { scaleUp: rules(r), scaleDown: free } });
  const down = (r: Partial<ScalingRules>): ResolvedPolicy => policy({ behavior: { scaleUp: free, scaleDown: rules(r) } });
  const to = (p: ResolvedPolicy, replicas: number, recommended: number): number => once([group({ replicas, recommended })], p).groups[0].to;

  it('Pods adds at most its value per period, counting what the period already added', () => {
    const h = new ScalingHistory();
    const p = up({ policies: [{ type: 'Pods', value: 3, periodSeconds: 60 }] });
    const at = (t: number, replicas: number): Decision => step(h, input([group({ replicas, recommended: 10 })], p, { now: t }));
    assert.deepEqual(at(0, 0).groups[0], { name: 'default', from: 0, to: 3, recommended: 10, limitedBy: ['scaleUpRate'], reason: 'scheduler: queue; +3 pods per 60s' });
    assert.equal(at(30_000, 3).groups[0].to, 3);
    assert.equal(at(59_999, 3).groups[0].to, 3);
    assert.equal(at(60_000, 3).groups[0].to, 6);
  });

  it('changes earlier in the period never turn a scale-up into a scale-down', () => {
    const h = new ScalingHistory();
    const p = up({ policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] });
    h.applied('default', 0, 0, 6);
    // Since then something else took the group down to 5: the period's start reads as -1.
    const g = step(h, input([group({ replicas: 5, recommended: 10 })], p, { now: 1000 })).groups[0];
    assert.deepEqual([g.to, g.limitedBy], [5, ['scaleUpRate']]);
  });

  it('Percent grows by its share, at least one pod so a group at zero can start', () => {
    const p = (value: number): ResolvedPolicy => up({ policies: [{ type: 'Percent', value, periodSeconds: 60 }] });
    assert.equal(to(p(100), 0, 10), 1);
    assert.equal(to(p(100), 3, 10), 6);
    assert.equal(to(p(10), 10, 20), 11);
    assert.equal(to(p(10), 3, 20), 4);
  });

  it('Max takes the policy allowing the most change, Min the least, Disabled none', () => {
    const policies: ScalingRules['policies'] = [{ type: 'Pods', value: 4, periodSeconds: 60 }, { type: 'Percent', value: 50, periodSeconds: 60 }];
    assert.equal(to(up({ policies, selectPolicy: 'Max' }), 10, 30), 15);
    assert.equal(to(up({ policies, selectPolicy: 'Min' }), 10, 30), 14);
    assert.equal(to(up({ policies, selectPolicy: 'Max' }), 0, 30), 4);
    assert.equal(to(up({ policies, selectPolicy: 'Min' }), 0, 30), 1);
    const disabled = once([group({ replicas: 10, recommended: 30 })], up({ policies, selectPolicy: 'Disabled' })).groups[0];
    assert.deepEqual([disabled.to, disabled.limitedBy, disabled.reason], [10, ['scaleUpDisabled'], 'scheduler: queue; scale-up disabled']);

    const dpol: ScalingRules['policies'] = [{ type: 'Pods', value: 3, periodSeconds: 60 }, { type: 'Percent', value: 50, periodSeconds: 60 }];
    assert.equal(to(down({ policies: dpol, selectPolicy: 'Max' }), 10, 0), 5);
    assert.equal(to(down({ policies: dpol, selectPolicy: 'Min' }), 10, 0), 7);
    assert.equal(to(down({ policies: dpol, selectPolicy: 'Disabled' }), 10, 0), 10);
    assert.equal(to(down({ policies: [{ type: 'Pods', value: 20, periodSeconds: 60 }] }), 10, 0), 0);
  });

  it('scale-down counts what the period already removed', () => {
    const h = new ScalingHistory();
    const p = down({ policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] });
    const at = (t: number, replicas: number): Decision => step(h, input([group({ replicas, recommended: 0 })], p, { now: t }));
    assert.equal(at(0, 10).groups[0].to, 5);
    const held = at(10_000, 5).groups[0];
    assert.deepEqual([held.to, held.limitedBy, held.reason], [5, ['scaleDownRate'], 'scheduler: queue; -50% per 60s']);
    assert.equal(at(60_000, 5).groups[0].to, 2);
  });
});

describe('autoscaler decision: policy limits', () => {
  const gpuA = (o: Partial<GroupInput>): GroupInput => group({ name: 'gpu-a', gpusPerWorker: 2, ...o });
  const gpuB = (o: Partial<GroupInput>): GroupInput => group({ name: 'gpu-b', gpusPerWorker: 1, ...o });
  const cpu = (o: Partial<GroupInput>): GroupInput => group({ name: 'cpu', ...o });
  const summary = (d: Decision): [string, number, string[]][] => d.groups.map((g) => [g.name, g.to, g.limitedBy]);

  it('caps GPUs per cluster, granting increases in group order', () => {
    const d = once([gpuA({ recommended: 3 }), gpuB({ recommended: 3 }), cpu({ recommended: 5 })], policy({ limits: { maxGpusPerCluster: 4 } }));
    assert.deepEqual(summary(d), [['gpu-a', 2, ['maxGpusPerCluster']], ['gpu-b', 0, ['maxGpusPerCluster']], ['cpu', 5, []]]);
    assert.equal(d.groups[0].reason, 'scheduler: queue; held at 2 by maxGpusPerCluster 4');
  });

  it('caps GPUs per namespace, counting the other clusters', () => {
    const d = once([gpuA({ replicas: 1, recommended: 4 }), gpuB({ recommended: 3 }), cpu({ replicas: 2, recommended: 6 })],
      policy({ limits: { maxGpusPerCluster: 8, maxGpusPerNamespace: 10, maxWorkersPerCluster: 20 } }), { namespaceUsage: { workers: 3, gpus: 4 } });
    assert.deepEqual(summary(d), [['gpu-a', 3, ['maxGpusPerNamespace']], ['gpu-b', 0, ['maxGpusPerNamespace']], ['cpu', 6, []]]);
    assert.equal(d.groups[0].reason, 'scheduler: queue; held at 3 by maxGpusPerNamespace 10 (4 GPUs used by other clusters)');
    const brief = once([gpuB({ recommended: 5 })], policy({ limits: { maxGpusPerNamespace: 4 } }), { namespaceUsage: { workers: 2, gpus: 2 } });
    assert.equal(brief.groups[0].reason, 'scheduler: queue; held at 2 by maxGpusPerNamespace 4 (2 GPUs used by other clusters)');
  });

  it("never cuts a group's current workers to make room for another's increase", () => {
    const d = once([gpuB({ name: 'first', recommended: 5 }), gpuB({ name: 'second', replicas: 2, recommended: 2 })], policy({ limits: { maxGpusPerCluster: 2 } }));
    assert.deepEqual(summary(d), [['first', 0, ['maxGpusPerCluster']], ['second', 2, []]]);
  });

  it('cuts down to fit a tightened limit, GPU groups for GPU limits, last groups first', () => {
    const d = once([gpuA({ replicas: 3, recommended: 3 }), gpuB({ replicas: 2, recommended: 2 }), cpu({ replicas: 4, recommended: 4 })],
      policy({ limits: { maxGpusPerCluster: 5 } }));
    // gpu-b goes first (0), then gpu-a loses one 2-GPU worker; the GPU that frees goes back to gpu-b.
    assert.deepEqual(summary(d), [['gpu-a', 2, ['maxGpusPerCluster']], ['gpu-b', 1, ['maxGpusPerCluster']], ['cpu', 4, []]]);
    assert.equal(d.groups[0].reason, 'scheduler: queue; cut to 2 by maxGpusPerCluster 5');
    assert.equal(d.groups[1].reason, 'scheduler: queue; cut to 1 by maxGpusPerCluster 5');
    const workers = once([cpu({ name: 'a', replicas: 4, recommended: 4 }), cpu({ name: 'b', replicas: 3, recommended: 3 })],
      policy({ limits: { maxWorkersPerCluster: 5 } }));
    assert.deepEqual(summary(workers), [['a', 4, []], ['b', 1, ['maxWorkersPerCluster']]]);
  });

  it('names the first of equally tight limits', () => {
    const d = once([cpu({ recommended: 5 })], policy({ limits: { maxWorkersPerCluster: 2, maxWorkersPerNamespace: 3 } }), { namespaceUsage: { workers: 1, gpus: 0 } });
    assert.deepEqual(summary(d), [['cpu', 2, ['maxWorkersPerCluster']]]);
  });

  it('limits win over minReplicas', () => {
    const d = once([cpu({ replicas: 0, minReplicas: 3 })], policy({ limits: { maxWorkersPerCluster: 2 } }));
    assert.deepEqual(summary(d), [['cpu', 2, ['minReplicas', 'maxWorkersPerCluster']]]);
    assert.equal(d.groups[0].reason, 'scheduler: queue; raised to minReplicas 3; held at 2 by maxWorkersPerCluster 2');
  });
});

describe('scaling history', () => {
  it('gives exactly the window minimum and maximum of a random stream', () => {
    const h = new ScalingHistory(defaults().behavior);
    h.retain({ scaleUp: rules({ stabilizationWindowSeconds: 7 }), scaleDown: rules({ stabilizationWindowSeconds: 30 }) });
    const all: { t: number; v: number }[] = [];
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const t = i * 100;
      const v = seed % 13;
      all.push({ t, v });
      const got = h.record('g', t, v);
      const inWindow = (w: number): number[] => all.filter((s) => t - s.t < w || s.t === t).map((s) => s.v);
      assert.deepEqual(got, { min: Math.min(...inWindow(7000)), max: Math.max(...inWindow(30_000)) }, `at ${t}`);
    }
  });

  it('stays bounded after 100k recommendations and events at 10 per second', () => {
    const h = new ScalingHistory(defaults().behavior);
    for (let i = 0; i < 100_000; i++) {
      h.record('rising', i * 100, i % 1000);
      h.record('steady', i * 100, 4);
      h.applied('flapping', i * 100, i % 2, 1 - (i % 2));
    }
    // Default windows: the 0 s scale-up window keeps only the current sample, and a rising
    // stream's newest sample is the 60 s scale-down window's maximum.
    assert.equal(h.size('rising'), 2);
    assert.equal(h.size('steady'), 2);
    // Events of the longest period (15 s) only.
    assert.equal(h.size('flapping'), 150);
    assert.deepEqual(h.changes('flapping', 99_999 * 100, 15), { added: 75, removed: 75 });

    const long = new ScalingHistory({ scaleUp: rules({ stabilizationWindowSeconds: 60 }), scaleDown: rules({ stabilizationWindowSeconds: 60 }) });
    for (let i = 0; i < 100_000; i++) {
      long.record('rising', i * 100, i % 1000);
      long.record('steady', i * 100, 4);
    }
    assert.equal(long.size('steady'), 2);
    // Increasing values within the 60 s window are each a future minimum: 600, and one maximum.
    assert.equal(long.size('rising'), 601);
    long.forgetGroup('rising');
    assert.equal(long.size('rising'), 0);
  });
});
