// `kubedask bench search --json` runs and reports its shape. Not a timing test, and it needs no
// Python: the peers are pointed at a Python that does not exist, so they must be reported as
// not installed; the first 5,000 rows of flights-3m, one run, keep it cheap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

test('kubedask bench search --json --rows 5000 --runs 1 with no Python reports kubedask\'s grid, the peers not installed', () => {
  const out = spawnSync(process.execPath, [bin, 'bench', 'search', '--json', '--rows', '5000', '--runs', '1', '--python', '/nonexistent/python3'], {
    encoding: 'utf8', timeout: 180_000,
  });
  assert.equal(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line, got: ${out.stdout}`);
  const r = JSON.parse(lines[0]!) as {
    bench: string; runs: number; data: { rows: number; grid: { C: number[] }; folds: number };
    kubedask: { grid: { median_s: number; runs_s: number[]; best_params: { clf__C: number }; best_score: number; mean_test_score: number[] } };
    peers: { sklearn: { status: string; reason: string }; ray: { status: string; reason: string } };
    ratios: { grid_vs_sklearn: number | null; grid_vs_ray: number | null };
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
  for (const p of [r.peers.sklearn, r.peers.ray]) {
    assert.equal(p.status, 'not installed');
    assert.match(p.reason, /nonexistent/);
  }
  assert.deepEqual(r.ratios, { grid_vs_sklearn: null, grid_vs_ray: null });
  assert.equal(r.goals.met.grid_at_least_2x_sklearn, null);
  assert.ok(r.notes.some((n) => n.startsWith('grid:')));
});
