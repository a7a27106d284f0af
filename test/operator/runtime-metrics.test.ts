// The operator's Prometheus metrics as scraped (prom-client, parsed back strictly), and the
// probe server that serves them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { exposition } from '../../protocol/prometheus.js';
import { operatorMetrics } from '../../operator/runtime/metrics.js';
import { startProbeServer } from '../../operator/runtime/http-server.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';

describe('operator metrics', () => {
  it('scrapes counters, gauges and histograms with their names, types, help and labels', async () => {
    const registry = new Registry();
    let depth = 4;
    const m = operatorMetrics(registry, { queueDepth: () => depth });
    m.reconciles.inc({ kind: 'cluster', outcome: 'success' });
    m.reconciles.inc({ kind: 'cluster', outcome: 'success' }, 2);
    m.reconciles.inc({ kind: 'say "hi"\n\\', outcome: 'error' });
    m.duration.observe({ kind: 'group' }, 0.004);
    m.duration.observe({ kind: 'group' }, 0.3);
    m.duration.observe({ kind: 'group' }, 30);
    m.leader.set(1);
    m.autoscaler.desired.set({ cluster: 'ns/a', group: 'gpu' }, 3);
    m.autoscaler.desired.set({ cluster: 'ns/b', group: 'cpu' }, 1);

    const families = parsePrometheus((await exposition(registry)).text);
    const reconciles = families.get('kubedask_operator_reconciles_total')!;
    assert.equal(reconciles.type, 'counter');
    assert.equal(reconciles.help, 'Reconciles by kind and outcome (success, requeue, error).');
    assert.equal(sampleValue(families, 'kubedask_operator_reconciles_total', { kind: 'cluster', outcome: 'success' }), 3);
    assert.equal(sampleValue(families, 'kubedask_operator_reconciles_total', { kind: 'say "hi"\n\\', outcome: 'error' }), 1, 'label values escaped and read back');
    const duration = families.get('kubedask_operator_reconcile_duration_seconds')!;
    assert.equal(duration.type, 'histogram');
    assert.equal(sampleValue(families, 'kubedask_operator_reconcile_duration_seconds_bucket', { kind: 'group', le: '0.005' }), 1);
    assert.equal(sampleValue(families, 'kubedask_operator_reconcile_duration_seconds_bucket', { kind: 'group', le: '0.5' }), 2);
    assert.equal(sampleValue(families, 'kubedask_operator_reconcile_duration_seconds_bucket', { kind: 'group', le: '+Inf' }), 3);
    assert.equal(sampleValue(families, 'kubedask_operator_reconcile_duration_seconds_sum', { kind: 'group' }), 30.304);
    assert.equal(sampleValue(families, 'kubedask_operator_reconcile_duration_seconds_count', { kind: 'group' }), 3);
    assert.equal(families.get('kubedask_operator_workqueue_depth')!.type, 'gauge');
    assert.equal(sampleValue(families, 'kubedask_operator_workqueue_depth'), 4);
    assert.equal(sampleValue(families, 'kubedask_operator_leader'), 1);
    assert.equal(sampleValue(families, 'kubedask_autoscaler_desired_workers', { cluster: 'ns/a', group: 'gpu' }), 3);
    assert.ok(families.get('process_resident_memory_bytes')!.samples[0]!.value > 0, 'the process metrics come along');

    depth = 0;
    m.autoscaler.desired.remove({ cluster: 'ns/a', group: 'gpu' });
    const after = parsePrometheus((await exposition(registry)).text);
    assert.equal(sampleValue(after, 'kubedask_operator_workqueue_depth'), 0, 'the depth is read at each scrape');
    assert.equal(sampleValue(after, 'kubedask_autoscaler_desired_workers', { cluster: 'ns/a', group: 'gpu' }), undefined, 'a removed series is gone');
    assert.equal(sampleValue(after, 'kubedask_autoscaler_desired_workers', { cluster: 'ns/b', group: 'cpu' }), 1);
  });

  it('keeps each operator\'s metrics in its own registry', async () => {
    const [a, b] = [new Registry(), new Registry()];
    const ma = operatorMetrics(a, { queueDepth: () => 0 });
    operatorMetrics(b, { queueDepth: () => 0 });
    ma.errors.inc({ kind: 'job' });
    assert.equal(sampleValue(parsePrometheus((await exposition(a)).text), 'kubedask_operator_reconcile_errors_total', { kind: 'job' }), 1);
    assert.equal(sampleValue(parsePrometheus((await exposition(b)).text), 'kubedask_operator_reconcile_errors_total', { kind: 'job' }), undefined);
  });
});

describe('probe server', () => {
  it('serves /healthz, /readyz and /metrics', async () => {
    let ready = false;
    let broken = false;
    const metrics = async () => {
      if (broken) throw new Error('collector failed');
      return { contentType: 'text/plain; version=0.0.4; charset=utf-8', text: 'm_total 1\n' };
    };
    const server = await startProbeServer({ host: '127.0.0.1', port: 0, healthz: () => true, readyz: () => ready, metrics });
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    };
    try {
      assert.deepEqual(await get('/healthz'), { status: 200, type: 'text/plain; charset=utf-8', body: 'ok\n' });
      const notReady = await get('/readyz');
      assert.equal(notReady.status, 503);
      assert.match(notReady.body, /readyz check failed/);
      ready = true;
      assert.equal((await get('/readyz')).status, 200);
      const scraped = await get('/metrics');
      assert.equal(scraped.type, 'text/plain; version=0.0.4; charset=utf-8');
      assert.equal(scraped.body, 'm_total 1\n');
      broken = true;
      assert.deepEqual(await get('/metrics'), { status: 500, type: 'text/plain; charset=utf-8', body: 'metrics failed: collector failed\n' });
      assert.equal((await get('/nope')).status, 404);
    } finally {
      await server.close();
    }
  });
});

describe('the Prometheus parser of the tests', () => {
  it('rejects what is not the text format', () => {
    assert.throws(() => parsePrometheus('m{a="1"} x\n'), /bad value/);
    assert.throws(() => parsePrometheus('m{a=1} 1\n'), /bad labels/);
    assert.throws(() => parsePrometheus('m 1\nm 2\n'), /series twice/);
    assert.throws(() => parsePrometheus('# TYPE m gauges\n'), /unknown type/);
    assert.throws(() => parsePrometheus('m 1\n# HELP m late\n'), /after its samples/);
    assert.throws(() => parsePrometheus('m-x 1\n'), /not a sample/);
  });
});
