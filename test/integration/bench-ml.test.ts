// `kubedask bench ml --json` runs and reports its shape. Not a timing test, and it needs no
// Python: the peer is pointed at a Python that does not exist, so it must be reported as not
// installed, and the first 5,000 rows of flights-3m, one run, keep it cheap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

interface Timed { median_s: number; runs_s: number[] }

test('kubedask bench ml --json --rows 5000 --runs 1 with no Python reports kubedask, the peer not installed', () => {
  const out = spawnSync(process.execPath, [bin, 'bench', 'ml', '--json', '--rows', '5000', '--runs', '1', '--python', '/nonexistent/python3'], {
    encoding: 'utf8', timeout: 180_000,
  });
  assert.equal(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line, got: ${out.stdout}`);
  const result = JSON.parse(lines[0]!) as {
    bench: string; runs: number; data: { rows: number; partitions: number };
    machine: { load_avg_1m_at_start: number; load_avg_1m_at_end: number };
    kubedask: {
      train_rows: number; test_rows: number;
      fit: Timed & { test_auc: number; n_iter: number; converged: boolean };
      kmeans: Timed & { inertia: number; n_iter: number };
      predict: { rows: number; proba_1_sum: number; partitions_per_worker_2: { landed: number[]; rebalanced: number[] }; one_worker: Timed & { rows_per_s: number }; two_workers: Timed & { rows_per_s: number } };
    };
    peer: { status: string; reason: string };
    ratios: Record<string, unknown>; checks: { proba_1_sum: string | null };
    goals: { met: Record<string, boolean | null>; two_workers_over_one_x: number };
    notes: string[];
  };
  assert.equal(result.bench, 'ml');
  assert.equal(result.runs, 1);
  assert.deepEqual(result.data, { ...result.data, rows: 5000, partitions: 6 });
  assert.ok(result.machine.load_avg_1m_at_start >= 0 && result.machine.load_avg_1m_at_end >= 0);

  const k = result.kubedask;
  // trainTestSplit's halves complement each other; about a fifth is the test half.
  assert.equal(k.train_rows + k.test_rows, 5000);
  assert.ok(k.test_rows > 750 && k.test_rows < 1250, `test rows ${k.test_rows}`);
  for (const timed of [k.fit, k.kmeans, k.predict.one_worker, k.predict.two_workers]) {
    assert.ok(timed.median_s > 0 && timed.runs_s.length === 1, JSON.stringify(timed));
  }
  assert.ok(k.fit.test_auc > 0 && k.fit.test_auc < 1 && k.fit.n_iter > 0 && k.fit.converged, JSON.stringify(k.fit));
  assert.ok(k.kmeans.inertia > 0 && k.kmeans.n_iter > 0, JSON.stringify(k.kmeans));
  // Every row scored: the sum of probabilities lies strictly between 0 and the row count.
  assert.equal(k.predict.rows, 5000);
  const { landed, rebalanced } = k.predict.partitions_per_worker_2;
  assert.ok(landed.length === 2 && landed.every((n) => n <= 6) && landed[0]! + landed[1]! >= 6, JSON.stringify(k.predict));
  assert.deepEqual(rebalanced, [3, 3], 'six partitions of about the same size: three a worker, one copy each');
  assert.ok(k.predict.proba_1_sum > 0 && k.predict.proba_1_sum < 5000, JSON.stringify(k.predict));
  assert.equal(k.predict.two_workers.rows_per_s, Math.round(5000 / k.predict.two_workers.median_s));

  assert.equal(result.peer.status, 'not installed');
  assert.match(result.peer.reason, /nonexistent/);
  assert.deepEqual(result.ratios, {});
  assert.equal(result.checks.proba_1_sum, null);
  // Goals that need the peer are unknown; those of kubedask alone are decided.
  assert.equal(result.goals.met.fit_no_slower_with_equal_auc, null);
  assert.equal(result.goals.met.kmeans_no_slower, null);
  assert.equal(typeof result.goals.met.inference_over_20m_rows_per_s_2_workers, 'boolean');
  assert.equal(result.goals.met.two_workers_at_least_1_8x_one, result.goals.two_workers_over_one_x >= 1.8);
  assert.ok(result.notes.some((n) => n.startsWith('split:')));
});
