// `kubedask bench search --json` runs and reports its shape: the grid, and Hyperband with its time
// to the target log loss. Not a timing test, and it needs no Python: the peers are pointed at a
// Python that does not exist, so they must be reported as not installed; the first 5,000 rows
// of flights-3m, one run, keep it cheap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

test('kubedask bench search --json --rows 5000 --runs 1 with no Python reports kubedask\'s grid and Hyperband, the peers not installed', () => {
  const out = spawnSync(process.execPath, [bin, 'bench', 'search', '--json', '--rows', '5000', '--runs', '1', '--python', '/nonexistent/python3'], {
    encoding: 'utf8', timeout: 180_000,
  });
  assert.equal(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line, got: ${out.stdout}`);
  const r = JSON.parse(lines[0]!) as {
    bench: string; runs: number;
    data: { rows: number; grid: { C: number[] }; folds: number; hyperband: { max_iter: number; aggressiveness: number; training_shards: number; models: number; target_log_loss: number } };
    kubedask: {
      grid: { median_s: number; runs_s: number[]; best_params: { clf__C: number }; best_score: number; mean_test_score: number[] };
      hyperband: {
        median_s: number; runs_s: number[]; time_to_target_median_s: number; time_to_target_runs_s: number[]; best_log_loss: number;
        best_params: { alpha: number; eta0: number; learningRate: string }; partial_fit_calls: number; models: number; brackets: Array<{ nModels: number; partialFitCalls: number }>;
      };
    };
    peers: { sklearn: { status: string; reason: string }; ray: { status: string; reason: string }; ray_asha: { status: string; reason: string } };
    ratios: { grid_vs_sklearn: number | null; grid_vs_ray: number | null; hyperband_vs_ray_asha: number | null; hyperband_to_target_vs_ray_asha: number | null };
    goals: { met: { grid_at_least_2x_sklearn: boolean | null } };
    notes: string[];
  };
  assert.equal(r.bench, 'search');
  assert.deepEqual([r.runs, r.data.rows, r.data.folds], [1, 5000, 3]);
  const g = r.kubedask.grid;
  assert.ok(g.median_s > 0 && g.runs_s.length === 1);
  assert.equal(g.mean_test_score.length, r.data.grid.C.length);
  assert.ok(r.data.grid.C.includes(g.best_params.clf__C));
  assert.equal(g.best_score, Math.max(...g.mean_test_score));
  assert.ok(g.best_score > 0.5 && g.best_score <= 1, `accuracy ${g.best_score}`);

  // Hyperband at maxIter 27, aggressiveness 3: brackets of 27, 12, 6 and 4 models, 357 calls.
  const h = r.kubedask.hyperband;
  assert.deepEqual([r.data.hyperband.max_iter, r.data.hyperband.aggressiveness, r.data.hyperband.models], [27, 3, 49]);
  assert.deepEqual([h.models, h.partial_fit_calls], [49, 357]);
  assert.deepEqual(h.brackets.map((b) => [b.nModels, b.partialFitCalls]), [[27, 81], [12, 78], [6, 90], [4, 108]]);
  assert.equal(r.data.hyperband.training_shards, 6);
  assert.ok(h.median_s > 0 && h.runs_s.length === 1);
  assert.ok(h.best_log_loss > 0 && h.best_log_loss < Math.LN2, `log loss ${h.best_log_loss}`);
  assert.ok(['optimal', 'invscaling', 'constant'].includes(h.best_params.learningRate) && h.best_params.alpha >= 1e-6 && h.best_params.alpha <= 0.1);
  // Without a peer the target is kubedask's own best + 0.002, reached within the run.
  assert.ok(Math.abs(r.data.hyperband.target_log_loss - (h.best_log_loss + 0.002)) < 2e-6, `target ${r.data.hyperband.target_log_loss}`);
  assert.equal(h.time_to_target_runs_s.length, 1);
  assert.ok(h.time_to_target_median_s > 0 && h.time_to_target_median_s <= h.median_s, `to target ${h.time_to_target_median_s} of ${h.median_s}`);

  for (const p of [r.peers.sklearn, r.peers.ray, r.peers.ray_asha]) {
    assert.equal(p.status, 'not installed');
    assert.match(p.reason, /nonexistent/);
  }
  assert.deepEqual(r.ratios, { grid_vs_sklearn: null, grid_vs_ray: null, hyperband_vs_ray_asha: null, hyperband_to_target_vs_ray_asha: null });
  assert.equal(r.goals.met.grid_at_least_2x_sklearn, null);
  for (const part of ['grid:', 'hyperband:', 'ray asha:', 'time to target:']) assert.ok(r.notes.some((n) => n.startsWith(part)), part);
});
