// The autoscaler in process (reconcilers against the API emulator, a scripted scheduler): each
// scaling it writes is counted by direction and cause, the scheduler's target per group is a
// gauge, and the decision is told to the scheduler (Control.RecordDecision) best-effort: a
// scheduler that never answers, refuses, or throws neither delays nor fails the scaling.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import type { DaskCluster, DaskWorkerGroup } from '../../operator/api/types.js';
import { R } from '../../operator/k8s/resources.js';
import { Autoscaler } from '../../operator/autoscaler/runner.js';
import type { MetricsUpdate, ScalingDecisionReport } from '../../operator/control/scheduler-control.js';
import { operatorMetrics } from '../../operator/runtime/metrics.js';
import { exposition } from '../../protocol/prometheus.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { waitUntil } from '../helpers/wait.js';
import { NS, startReconcileEnv, type ReconcileEnv } from './reconcile-env.js';

const ADDRESS = 'scaled-scheduler.default.svc:8786';

function update(target: number): MetricsUpdate {
  return {
    cluster: { workers: 0, tasksQueued: 40, tasksNoWorker: 0, tasksProcessing: 0, tasksWaiting: 0, tasksInMemory: 0, memoryUsed: 0, idleSeconds: 0, workerMetrics: [] },
    groups: [{ name: 'default', workers: 0, tasksQueued: 40, tasksNoWorker: 0, tasksProcessing: 0, memoryUsed: 0, memoryLimit: 0, workSeconds: 40,
      target, reason: `${target} workers to finish 40s of work in 10s`, removeFirst: [], idleSeconds: 0 }],
    tasksUnplaceable: 0,
  };
}

describe('autoscaler decisions', () => {
  let env: ReconcileEnv;
  before(async () => { env = await startReconcileEnv(); });
  after(async () => env?.close());

  // One cluster per case, each with its own Autoscaler and registry.
  const scaled = async (name: string, answer: (d: ScalingDecisionReport) => Promise<boolean>) => {
    await env.api.create(R.daskClusters, NS, {
      apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name },
      spec: { image: 'kubedask:1', workerGroups: [{ name: 'default', replicas: 1, threads: 1 }], autoscaling: { enabled: true, targetDuration: '10s' } },
    } as never);
    assert.equal((await env.cluster(name)).error, undefined);
    await env.settle();
    const registry = new Registry();
    const autoscaler = new Autoscaler(env.ctx, operatorMetrics(registry, { queueDepth: () => 0 }).autoscaler);
    env.control.answerDecision = answer;
    const cluster = (await env.get<DaskCluster>(R.daskClusters, name))!;
    autoscaler.sync(cluster, ADDRESS, true, undefined);
    const watch = env.control.watches.at(-1)!;
    assert.equal(watch.address, ADDRESS);
    const replicas = async () => (await env.get<DaskWorkerGroup>(R.daskWorkerGroups, `${name}-default`))?.spec.replicas;
    const scrape = async () => parsePrometheus((await exposition(registry)).text);
    return { autoscaler, watch, replicas, scrape, key: `${NS}/${name}` };
  };

  it('counts a scale-up by direction and cause, gauges the target, and tells the scheduler', async () => {
    const s = await scaled('told', () => Promise.resolve(true));
    const seen = env.control.decisions.length;
    s.watch.handlers.update(update(3));
    await waitUntil(async () => (await s.replicas()) === 3, 'the group to be scaled to 3');
    await waitUntil(() => env.control.decisions.length > seen, 'the decision to reach the scheduler');
    const told = env.control.decisions.at(-1)!;
    assert.deepEqual({ ...told, timeMs: 0 }, { group: 'default', from: 1, to: 3, reason: 'scheduler: 3 workers to finish 40s of work in 10s', timeMs: 0 });
    assert.equal(told.timeMs, env.ctx.now());
    const f = await waitUntil(async () => {
      const m = await s.scrape();
      return sampleValue(m, 'kubedask_autoscaler_decision_reports_total', { outcome: 'recorded' }) === 1 && m;
    }, 'the report to be counted');
    assert.equal(sampleValue(f, 'kubedask_autoscaler_decisions_total', { cluster: s.key, group: 'default', direction: 'up', reason: 'schedulerTarget' }), 1);
    assert.equal(sampleValue(f, 'kubedask_autoscaler_recommended_workers', { cluster: s.key, group: 'default' }), 3);
    assert.equal(sampleValue(f, 'kubedask_autoscaler_desired_workers', { cluster: s.key, group: 'default' }), 3);
    s.autoscaler.close();
  });

  it('scales as usual when the scheduler never answers, refuses, or the call throws', async () => {
    const never = await scaled('silent', () => new Promise<boolean>(() => undefined));
    never.watch.handlers.update(update(2));
    await waitUntil(async () => (await never.replicas()) === 2, 'scaling while RecordDecision hangs');
    // The next pass is not held up by the unanswered call either: a cap from maxReplicas is
    // counted with that cause.
    await env.api.patch(R.daskWorkerGroups, NS, 'silent-default', { spec: { maxReplicas: 4 } }, { type: 'merge' });
    await env.settle();
    env.advance(20_000); // past the scale-up rate's period
    never.watch.handlers.update(update(9));
    await waitUntil(async () => (await never.replicas()) === 4, 'a second scaling while the first report hangs');
    const capped = await never.scrape();
    assert.equal(sampleValue(capped, 'kubedask_autoscaler_decisions_total', { cluster: never.key, group: 'default', direction: 'up', reason: 'maxReplicas' }), 1);
    assert.equal(sampleValue(capped, 'kubedask_autoscaler_decision_reports_total', { outcome: 'failed' }), undefined, 'still waiting, not failed');
    never.autoscaler.close();

    const refused = await scaled('refused', () => Promise.reject(new Error('UNIMPLEMENTED')));
    refused.watch.handlers.update(update(2));
    await waitUntil(async () => (await refused.replicas()) === 2, 'scaling when RecordDecision fails');
    await waitUntil(async () => sampleValue(await refused.scrape(), 'kubedask_autoscaler_decision_reports_total', { outcome: 'failed' }) === 1, 'the failure to be counted');
    refused.autoscaler.close();

    const throwing = await scaled('throwing', () => { throw new Error('no channel'); });
    throwing.watch.handlers.update(update(2));
    await waitUntil(async () => (await throwing.replicas()) === 2, 'scaling when RecordDecision throws');
    // The pass went on after the throw: its decision is the status's last one, not a ScaleFailed.
    const cluster = (await env.get<DaskCluster>(R.daskClusters, 'throwing'))!;
    const state = await waitUntil(() => {
      const st = throwing.autoscaler.sync(cluster, ADDRESS, true, undefined);
      return st?.last?.to === 2 && st;
    }, 'the pass to record its decision');
    assert.equal(state.condition.reason, 'Active', state.condition.message);
    assert.equal(sampleValue(await throwing.scrape(), 'kubedask_autoscaler_decision_reports_total', { outcome: 'failed' }), 1);
    throwing.autoscaler.close();
  });
});
