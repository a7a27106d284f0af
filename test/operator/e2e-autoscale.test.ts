// End to end: the built-in autoscaler on kube-sim with the process kubelet, the real operator
// process and real scheduler and worker processes. A burst scales a cluster up and back to its
// minimum with every result right and no task run twice; a bursty trace does not flap.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pl from 'nodejs-polars';
import { Client, ml, readParquet, type Future } from '../../index.js';
import { startKubeEnv, type KubeEnv, type OperatorProcess } from './kube-env.js';
import { applyCluster, applyPolicy, createNamespace, decisions } from './autoscale-env.js';
import { directionChanges, recordedSleep, runCounts } from '../../bench/autoscale-trace.js';
import type { DaskCluster, DaskWorkerGroup } from '../../operator/api/types.js';

interface PodJson { metadata: { name: string; deletionTimestamp?: string } }

// The trace's quiet time between bursts: part of the load being applied, not a wait for a condition.
const quietGap = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const NS = 'burst';
const FLIGHTS = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url));
const NAME = 'burst';
const GROUP = `${NAME}-cpu`;

describe('autoscaler end to end: burst and bursty load', { timeout: 300_000 }, () => {
  let env: KubeEnv;
  let op: OperatorProcess;
  let client: Client;
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-autoscale-'));

  const cluster = () => env.get<DaskCluster>('daskcluster', NAME, NS);
  const group = () => env.get<DaskWorkerGroup>('dwg', GROUP, NS);
  const workerPods = async () => (await env.list<PodJson>('pods', NS, `kubedask.io/cluster=${NAME},kubedask.io/component=worker`))
    .filter((p) => !p.metadata.deletionTimestamp);
  const atMinimum = async () => (await group())?.spec.replicas === 1 && (await workerPods()).length === 1;

  before(async () => {
    env = await startKubeEnv({ nodes: [{ name: 'node-a', cpu: '16', memory: '32Gi' }] });
    op = env.startOperator();
    await createNamespace(env, NS);
    await applyPolicy(env, 'burst-policy', {
      namespaces: [NS],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 8, periodSeconds: 5 }] },
        scaleDown: { stabilizationWindowSeconds: 5, policies: [{ type: 'Percent', value: 100, periodSeconds: 5 }] },
      },
    });
    await applyCluster(env, NS, NAME, [{ name: 'cpu', minReplicas: 1, maxReplicas: 6, threads: 4 }]);
    await env.waitFor(async () => {
      const c = await cluster();
      return c?.status?.readyWorkers === 1 && c.status.conditions?.some((x) => x.type === 'Autoscaling' && x.status === 'True') === true;
    }, 'the cluster Ready at its minimum, autoscaling', 120_000);
    client = await Client.connect(await env.resolve((await cluster())!.status!.schedulerAddress!));
  });
  after(async () => {
    await client?.close();
    await env?.close();
  });

  it('a burst of 2,000 tasks of 200 ms scales up, finishes, and scales back to the minimum, losing nothing', async () => {
    const log = join(dir, 'burst.log');
    writeFileSync(log, '');
    const futures: Future[] = client.map(recordedSleep, Array.from({ length: 2000 }, (_, i) => ({ i, log, ms: 200 })));
    const values = await client.gather(futures);
    assert.deepEqual(values, Array.from({ length: 2000 }, (_, i) => i * 2));
    const ups = decisions(op, `${NS}/${NAME}`).filter((d) => d.to > d.from);
    assert.ok(ups.length > 0 && Math.max(...ups.map((d) => d.to)) > 1, `it scaled up: ${JSON.stringify(ups)}`);
    assert.ok(Math.max(...ups.map((d) => d.to)) <= 6, 'never past maxReplicas');

    await env.waitFor(atMinimum, 'the group back at its minimum of 1 worker', 120_000);
    // The results the client still holds were on workers that are gone: they were moved, not recomputed.
    assert.deepEqual(await client.gather(futures), values);
    const counts = runCounts(log);
    assert.equal(counts.size, 2000, 'every task ran');
    assert.deepEqual([...counts.values()].filter((n) => n !== 1), [], 'no task ran twice');
    const events = await env.kubectlOk('get', 'events', '-n', NS, '-o', 'json');
    assert.match(events, /WorkerRetired/, 'scale-down went through RetireWorkers');
    assert.match(events, /ScaledUp/);
    assert.match(events, /ScaledDown/);
    const c = (await cluster())!;
    assert.equal(c.status?.lastAutoscaling?.to, 1);
    assert.equal(c.status?.lastAutoscaling?.policy, 'burst-policy');
    assert.ok(c.status?.lastAutoscaling?.reason, 'the decision says why');
  });

  it('a Hyperband search grows an autoscaled cluster while it runs, and the cluster returns to its minimum after', async () => {
    // A cluster of its own, 1 thread a worker and a short target duration, so that the search's
    // backlog of partialFit calls (16 at once) asks for more workers.
    const search = 'search';
    await applyCluster(env, NS, search, [{ name: 'cpu', minReplicas: 1, maxReplicas: 3, threads: 1 }], '500ms');
    const searchCluster = () => env.get<DaskCluster>('daskcluster', search, NS);
    const searchWorkers = async () => (await env.list<PodJson>('pods', NS, `kubedask.io/cluster=${search},kubedask.io/component=worker`)).filter((p) => !p.metadata.deletionTimestamp).length;
    await env.waitFor(async () => (await searchCluster())?.status?.readyWorkers === 1, 'the search cluster Ready at its minimum', 120_000);
    const searchClient = await Client.connect(await env.resolve((await searchCluster())!.status!.schedulerAddress!));
    try {
      const date = pl.col('date');
      // Half a year of flights-3m in 6 partitions: each partialFit call a pass over ~200k rows.
      const flights = readParquet(FLIGHTS, { columns: ['date', 'delay', 'distance'], partitionRows: 500_000 })
        .filter(date.date.month().ltEq(6).and(pl.col('delay').isNotNull()))
        .select(date.date.hour().cast(pl.Float64).div(24).alias('hour'), date.date.weekday().cast(pl.Float64).div(7).alias('weekday'),
          pl.col('distance').cast(pl.Float64).div(1000).alias('distance'), pl.col('delay').gt(15).alias('late'))
        .persist({ client: searchClient });
      // Reading may scale the cluster up by itself: the search starts from the minimum, the data in memory.
      await flights.count({ client: searchClient });
      const upsBefore = decisions(op, `${NS}/${search}`).filter((d) => d.to > d.from).length;
      await env.waitFor(async () => (await searchWorkers()) === 1 && (await env.get<DaskWorkerGroup>('dwg', `${search}-cpu`, NS))?.spec.replicas === 1,
        'the search cluster at its minimum with the data loaded', 120_000);
      const initial = new Set((await searchClient.clusterInfo()).workers.map((w) => w.name));
      let mostWorkers = 1;
      let searching = true;
      const watching = (async () => {
        while (searching) {
          // A failed look (the API server busy) is no verdict: the next one counts.
          mostWorkers = Math.max(mostWorkers, await searchWorkers().catch(() => mostWorkers));
          await quietGap(250);
        }
      })();
      const hyperband = new ml.HyperbandSearchCV(new ml.SGDClassifier({ loss: 'log_loss' }), { alpha: ml.logUniform(1e-6, 1e-2), eta0: ml.logUniform(1e-3, 1e-1), learningRate: ['optimal', 'invscaling'] }, { maxIter: 27 });
      try {
        await hyperband.fit(flights, 'late', { client: searchClient });
      } finally {
        searching = false;
        await watching;
      }
      for (const b of flights.bindings.values()) b.future?.release();
      assert.equal(hyperband.metadata!.partialFitCalls, hyperband.plannedMetadata.partialFitCalls);
      assert.ok(Number.isFinite(hyperband.bestScore), `a best score: ${hyperband.bestScore}`);
      const ups = decisions(op, `${NS}/${search}`).filter((d) => d.to > d.from).slice(upsBefore);
      assert.ok(ups.length > 0 && mostWorkers > 1, `it grew during the search: ${mostWorkers} workers at most; ${JSON.stringify(ups)}`);
      // The workers it gained took partialFit calls (the shards were copied to them).
      const h = await searchClient.history();
      const epoch = h.groups.indexOf('ml-sgd-epoch');
      const ranEpochs = new Set(h.stream.group.flatMap((g, i) => (g === epoch && h.stream.kind[i] === 0 ? [h.lanes[h.stream.lane[i]!]!.worker] : [])));
      assert.ok([...ranEpochs].some((w) => !initial.has(w)), `a worker that joined during the search ran partialFit calls: ${[...ranEpochs].join(', ')} (there at the start: ${[...initial].join(', ')})`);
      await env.waitFor(async () => (await searchWorkers()) === 1 && (await env.get<DaskWorkerGroup>('dwg', `${search}-cpu`, NS))?.spec.replicas === 1,
        'the search cluster back at its minimum of 1 worker', 120_000);
    } finally {
      await searchClient.close();
      await env.kubectlOk('delete', 'dc', search, '-n', NS, '--wait=true', '--timeout=60s');
    }
  });

  it('a bursty trace does not flap: no scale-down between bursts closer than the stabilization window', async () => {
    await applyPolicy(env, 'burst-policy', {
      namespaces: [NS],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 8, periodSeconds: 5 }] },
        scaleDown: { stabilizationWindowSeconds: 20, policies: [{ type: 'Percent', value: 100, periodSeconds: 5 }] },
      },
    });
    const before = decisions(op, `${NS}/${NAME}`).length;
    const log = join(dir, 'bursty.log');
    writeFileSync(log, '');
    // Four bursts, each started 3 s after the previous one finished: gaps well inside the 20 s window.
    for (let burst = 0; burst < 4; burst++) {
      const futures = client.map(recordedSleep, Array.from({ length: 200 }, (_, i) => ({ i: burst * 1000 + i, log, ms: 200 })));
      await client.gather(futures);
      for (const f of futures) f.release();
      await quietGap(3_000);
    }
    await env.waitFor(atMinimum, 'the group back at its minimum after the trace', 120_000);
    const trace = decisions(op, `${NS}/${NAME}`).slice(before);
    assert.ok(trace.some((d) => d.to > d.from), `it scaled up during the trace: ${JSON.stringify(trace)}`);
    assert.ok(directionChanges(trace) <= 1, `one change of direction at most (up, then down after the window): ${trace.map((d) => `${d.from}->${d.to}`).join(', ')}`);
    assert.equal(runCounts(log).size, 800);
  });
});
