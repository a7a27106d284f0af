// Prometheus text rendering, the probe server and the JSON logger.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../operator/runtime/logger.js';
import { Registry } from '../../operator/runtime/metrics.js';
import { startProbeServer } from '../../operator/runtime/http-server.js';

describe('metrics Registry', () => {
  it('renders counters, gauges and histograms in text format 0.0.4', () => {
    const r = new Registry();
    const reconciles = r.counter('kubedask_reconcile_total', 'Reconciles by outcome.\nSecond line \\ here', ['controller', 'outcome']);
    reconciles.inc({ controller: 'cluster', outcome: 'success' });
    reconciles.inc({ controller: 'cluster', outcome: 'success' }, 2);
    reconciles.inc({ controller: 'say "hi"\n\\', outcome: 'error' });
    const depth = r.gauge('kubedask_queue_depth', 'Keys waiting.');
    depth.set(4);
    const workers = r.gauge('kubedask_workers', 'Workers per group.', ['group']);
    workers.set({ group: 'gpu' }, 2);
    workers.inc({ group: 'gpu' });
    const latency = r.histogram('kubedask_reconcile_seconds', 'Reconcile time.', ['controller'], [0.1, 1]);
    latency.observe({ controller: 'cluster' }, 0.05);
    latency.observe({ controller: 'cluster' }, 0.5);
    latency.observe({ controller: 'cluster' }, 3);
    assert.equal(r.render(), [
      '# HELP kubedask_reconcile_total Reconciles by outcome.\\nSecond line \\\\ here',
      '# TYPE kubedask_reconcile_total counter',
      'kubedask_reconcile_total{controller="cluster",outcome="success"} 3',
      'kubedask_reconcile_total{controller="say \\"hi\\"\\n\\\\",outcome="error"} 1',
      '# HELP kubedask_queue_depth Keys waiting.',
      '# TYPE kubedask_queue_depth gauge',
      'kubedask_queue_depth 4',
      '# HELP kubedask_workers Workers per group.',
      '# TYPE kubedask_workers gauge',
      'kubedask_workers{group="gpu"} 3',
      '# HELP kubedask_reconcile_seconds Reconcile time.',
      '# TYPE kubedask_reconcile_seconds histogram',
      'kubedask_reconcile_seconds_bucket{controller="cluster",le="0.1"} 1',
      'kubedask_reconcile_seconds_bucket{controller="cluster",le="1"} 2',
      'kubedask_reconcile_seconds_bucket{controller="cluster",le="+Inf"} 3',
      'kubedask_reconcile_seconds_sum{controller="cluster"} 3.55',
      'kubedask_reconcile_seconds_count{controller="cluster"} 3',
      '',
    ].join('\n'));
    workers.remove({ group: 'gpu' });
    assert.ok(!r.render().includes('group="gpu"'));
  });

  it('rejects bad names, unknown labels, decreasing counters and conflicting registrations', () => {
    const r = new Registry();
    assert.throws(() => r.counter('bad-name', 'x'), /invalid metric name/);
    const c = r.counter('ok_total', 'x', ['a']);
    assert.equal(r.counter('ok_total', 'x', ['a']), c, 'same registration returns the same metric');
    assert.throws(() => r.gauge('ok_total', 'x'), /already registered/);
    assert.throws(() => c.inc({ b: 'x' }), /unknown label/);
    assert.throws(() => c.inc({ a: 'x' }, -1), /cannot decrease/);
    assert.throws(() => r.histogram('h', 'x', ['le']), /reserved/);
  });
});

describe('probe server', () => {
  it('serves /healthz, /readyz and /metrics', async () => {
    let ready = false;
    const server = await startProbeServer({ host: '127.0.0.1', port: 0, healthz: () => true, readyz: () => ready, metrics: () => 'm_total 1\n' });
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
      const metrics = await get('/metrics');
      assert.equal(metrics.type, 'text/plain; version=0.0.4; charset=utf-8');
      assert.equal(metrics.body, 'm_total 1\n');
      assert.equal((await get('/nope')).status, 404);
    } finally {
      await server.close();
    }
  });
});

describe('logger', () => {
  it('writes one JSON object per line, filters by level, carries child fields and serialises errors', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (l) => lines.push(l), fields: { component: 'operator' } });
    log.debug('hidden');
    log.info('reconciled', { cluster: 'a', ms: 12 });
    const child = log.child({ cluster: 'b' });
    const cause = new Error('socket closed');
    child.error('failed', { err: Object.assign(new Error('patch failed', { cause }), { status: 409 }), msg: 'clash' });
    assert.equal(lines.length, 2);
    const [info, error] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.match(String(info.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual({ ...info, time: undefined }, { time: undefined, level: 'info', msg: 'reconciled', component: 'operator', cluster: 'a', ms: 12 });
    assert.equal(error.level, 'error');
    assert.equal(error.msg, 'failed');
    assert.equal(error._msg, 'clash', 'a field cannot overwrite the message');
    assert.equal(error.cluster, 'b');
    assert.deepEqual(error.err, { name: 'Error', message: 'patch failed', status: 409, cause: { name: 'Error', message: 'socket closed' } });
    assert.ok(lines.every((l) => !l.includes('\n')));
  });
});
