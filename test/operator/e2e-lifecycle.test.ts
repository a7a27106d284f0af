// Life cycle beyond create/scale/delete: suspend and resume, the idle timeout, the operator's
// metrics and a clean stop on SIGTERM; leader election and namespace-limited operators.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startKubeEnv, type KubeEnv, type OperatorProcess } from './kube-env.js';
import type { DaskCluster } from '../../operator/api/types.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';

const clusterYaml = (name: string, extra = '', namespace = 'default') => `apiVersion: kubedask.io/v1alpha1
kind: DaskCluster
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  scheduler: {resources: {requests: {cpu: 100m, memory: 128Mi}}}
  workerGroups: [{name: default, replicas: 1, resources: {requests: {cpu: 100m, memory: 128Mi}}}]
${extra}`;

const isReady = (c: DaskCluster | undefined) => c?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') === true;

/** The port an operator logged for its metrics. */
async function metricsPort(env: KubeEnv, op: OperatorProcess): Promise<number> {
  let port = 0;
  await env.waitFor(() => {
    const line = op.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; metricsPort?: number })
      .find((l) => l.msg === 'serving probes and metrics');
    port = line?.metricsPort ?? 0;
    return port > 0;
  }, 'the operator to log its metrics port');
  return port;
}


describe('operator life cycle', { timeout: 300_000 }, () => {
  let env: KubeEnv;
  let operator: OperatorProcess;
  before(async () => {
    env = await startKubeEnv();
    operator = env.startOperator();
  });
  after(async () => env?.close());
  const cluster = (name: string) => env.get<DaskCluster>('daskcluster', name);
  const pods = (name: string) => env.list<{ metadata: { deletionTimestamp?: string } }>('pods', 'default', `kubedask.io/cluster=${name}`);

  it('suspend removes every pod and keeps the resource; resuming brings the cluster back', async () => {
    await env.apply(clusterYaml('sleepy'));
    await env.waitFor(async () => isReady(await cluster('sleepy')), 'sleepy Ready', 90_000);
    await env.kubectlOk('patch', 'dc', 'sleepy', '--type', 'merge', '-p', '{"spec":{"suspend":true}}');
    await env.waitFor(async () => (await pods('sleepy')).length === 0 && (await cluster('sleepy'))?.status?.phase === 'Suspended', 'no pods, phase Suspended', 60_000);
    const c = (await cluster('sleepy'))!;
    assert.equal(c.status?.conditions?.find((x) => x.type === 'Ready')?.reason, 'Suspended');
    assert.equal((await env.list('daskworkergroups', 'default', 'kubedask.io/cluster=sleepy')).length, 1, 'the group is kept');
    await env.kubectlOk('patch', 'dc', 'sleepy', '--type', 'merge', '-p', '{"spec":{"suspend":false}}');
    await env.waitFor(async () => isReady(await cluster('sleepy')), 'sleepy Ready again', 90_000);
    assert.equal((await cluster('sleepy'))?.status?.readyWorkers, 1);
    await env.kubectlOk('delete', 'dc', 'sleepy', '--wait=true', '--timeout=60s');
  });

  it('idleTimeout deletes a cluster whose scheduler stayed idle that long', async () => {
    await env.apply(clusterYaml('idle', '  idleTimeout: 3s\n'));
    await env.waitFor(async () => (await cluster('idle')) === undefined, 'the idle cluster to be deleted', 120_000);
    const events = await env.kubectlOk('get', 'events', '--field-selector', 'involvedObject.name=idle', '-o', 'json');
    assert.match(events, /IdleTimeout/);
    await env.waitFor(async () => (await pods('idle')).length === 0, 'its pods gone', 60_000);
  });

  it('serves Prometheus metrics about its reconciles and stops cleanly on SIGTERM', async () => {
    const text = await (await fetch(`http://127.0.0.1:${await metricsPort(env, operator)}/metrics`)).text();
    const scraped = parsePrometheus(text);
    assert.ok((sampleValue(scraped, 'kubedask_operator_reconciles_total', { kind: 'cluster', outcome: 'requeue' }) ?? 0) > 0, text.slice(0, 2000));
    assert.ok((sampleValue(scraped, 'kubedask_operator_reconcile_duration_seconds_bucket', { kind: 'group', le: '+Inf' }) ?? 0) > 0);
    assert.ok((sampleValue(scraped, 'kubedask_operator_workqueue_depth') ?? -1) >= 0);
    assert.equal(sampleValue(scraped, 'kubedask_operator_leader'), 1);
    assert.ok(scraped.get('kubedask_operator_api_requests_total')!.samples.some((x) => x.labels.resource === 'pods' && /^2\d\d$/.test(x.labels.code!) && /^[a-z]+$/.test(x.labels.verb!)));
    assert.ok((sampleValue(scraped, 'process_resident_memory_bytes') ?? 0) > 0);
    assert.equal(await operator.stop('SIGTERM'), 0);
    assert.match(operator.output(), /"msg":"stopping"/);
  });
});

describe('operator replicas and namespaces', { timeout: 300_000 }, () => {
  let env: KubeEnv;
  before(async () => {
    env = await startKubeEnv();
    await env.kubectlOk('create', 'namespace', 'team-a');
    await env.kubectlOk('create', 'namespace', 'team-b');
  });
  after(async () => env?.close());

  it('with leader election only one replica reconciles, and a successor takes over when it stops', async () => {
    const args = ['--leader-elect', '--leader-election-namespace', 'default', '--namespace', 'team-a'];
    const first = env.startOperator(args);
    const second = env.startOperator(args);
    await env.waitFor(() => /became leader/.test(first.output()) || /became leader/.test(second.output()), 'a leader');
    const [leader, standby] = /became leader/.test(first.output()) ? [first, second] : [second, first];
    await env.apply(clusterYaml('led', '', 'team-a'));
    await env.waitFor(async () => isReady(await env.get<DaskCluster>('daskcluster', 'led', 'team-a')), 'led Ready', 90_000);
    assert.doesNotMatch(standby.output(), /became leader/);
    assert.equal(await leader.stop('SIGTERM'), 0);
    await env.waitFor(() => /became leader/.test(standby.output()), 'the standby to lead', 30_000);
    await env.kubectlOk('scale', '-n', 'team-a', 'dwg/led-default', '--replicas', '2');
    await env.waitFor(async () => (await env.get<DaskCluster>('daskcluster', 'led', 'team-a'))?.status?.readyWorkers === 2, 'the new leader to scale', 90_000);
  });

  it('an operator limited to some namespaces leaves other namespaces alone', async () => {
    await env.apply(clusterYaml('outside', '', 'team-b'));
    // A change in team-a made after it is reconciled; by then an operator that watched team-b
    // would have reconciled `outside` too.
    await env.kubectlOk('scale', '-n', 'team-a', 'dwg/led-default', '--replicas', '1');
    await env.waitFor(async () => (await env.get<DaskCluster>('daskcluster', 'led', 'team-a'))?.status?.workers === '1/1', 'team-a still served', 90_000);
    assert.equal((await env.get<DaskCluster>('daskcluster', 'outside', 'team-b'))?.status, undefined);
    assert.equal((await env.list('pods', 'team-b')).length, 0);
    assert.equal((await env.list('deployments', 'team-b')).length, 0);
  });
});
