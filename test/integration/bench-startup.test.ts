// `kubedask bench startup --json` runs and reports its figures. Not a timing test: it checks
// the shape and that every kubedask figure was measured; the peers are pointed at a Python
// that does not exist, so they must be reported as not installed (and the run stays cheap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

test('kubedask bench startup --json --repeat 1 emits every kubedask figure, peers not installed', () => {
  const missing = '/nonexistent/python3';
  const out = spawnSync(process.execPath, [bin, 'bench', 'startup', '--json', '--repeat', '1'], {
    encoding: 'utf8', timeout: 240_000, env: { ...process.env, KUBEDASK_DASK_PYTHON: missing, KUBEDASK_RAY_PYTHON: missing },
  });
  assert.equal(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line, got: ${out.stdout}`);
  const result = JSON.parse(lines[0]!) as {
    bench: string; repeat: number;
    kubedask: Record<string, { median: number; runs: number[] }>;
    dask: { status: string; reason: string }; ray: { status: string; reason: string };
    goals: { met: Record<string, boolean> };
  };
  assert.equal(result.bench, 'startup');
  assert.equal(result.repeat, 1);
  for (const figure of ['worker_registered_ms', 'local_cluster_first_result_ms', 'local_cluster_workers_registered_ms', 'scheduler_rss_mib', 'worker_rss_mib']) {
    const f = result.kubedask[figure];
    assert.ok(f, `kubedask.${figure} is reported`);
    assert.equal(f.runs.length, 1, figure);
    assert.ok(f.median > 0 && Number.isFinite(f.median), `kubedask.${figure} = ${f.median}`);
  }
  assert.ok(result.kubedask.local_cluster_first_result_ms!.median >= result.kubedask.local_cluster_workers_registered_ms!.median,
    'the first result comes after the workers registered');
  for (const peer of [result.dask, result.ray]) {
    assert.equal(peer.status, 'not installed');
    assert.match(peer.reason, /nonexistent/);
  }
  assert.equal(typeof result.goals.met.worker_rss, 'boolean');
});
