// `kubedask bench dataframe --json` runs and reports its shape. Not a timing test, and it needs
// no Python: the peers are pointed at a Python that does not exist, so they must be reported as
// not installed, and one copy of flights-3m, one run, keeps it cheap. Queries the planner does
// not support yet are reported as errors, not as a failed run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/kubedask.js', import.meta.url));

test('kubedask bench dataframe --json --copies 1 --runs 1 with no Python reports kubedask, peers not installed', () => {
  const out = spawnSync(process.execPath, [bin, 'bench', 'dataframe', '--json', '--copies', '1', '--runs', '1', '--python', '/nonexistent/python3'], {
    encoding: 'utf8', timeout: 300_000,
  });
  assert.equal(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line, got: ${out.stdout}`);
  type QueryResult = { median_s?: number; runs_s?: number[]; check?: { rows: number; total?: number }; error?: string };
  const result = JSON.parse(lines[0]!) as {
    bench: string; runs: number; data: { copies: number; rows: number };
    kubedask: { queries: Record<string, QueryResult> };
    peers: Record<string, { status: string; reason: string }>;
    ratios: Record<string, unknown>; checks: Record<string, Record<string, string>>;
    goals: { met: { faster_than_dask: Record<string, boolean | null>; groupby_within_duckdb: boolean | null } };
    shuffle_scaling: Array<{ partitions: number; tasks: number; edges: number; median_s: number }>;
  };
  assert.equal(result.bench, 'dataframe');
  assert.equal(result.runs, 1);
  assert.deepEqual(result.data, { ...result.data, copies: 1, rows: 3_000_000 });
  const queries = ['groupby', 'join', 'sort', 'write'];
  assert.deepEqual(Object.keys(result.kubedask.queries), queries);
  const groupby = result.kubedask.queries.groupby!;
  assert.ok(groupby.median_s! > 0 && groupby.runs_s!.length === 1, JSON.stringify(groupby));
  // flights-3m has 229 origins; every row is counted once.
  assert.deepEqual({ rows: groupby.check!.rows, total: groupby.check!.total }, { rows: 229, total: 3_000_000 });
  for (const q of queries) {
    const r = result.kubedask.queries[q]!;
    assert.ok(typeof r.error === 'string' || (r.median_s! > 0 && r.check), `${q}: a time and a check, or an error: ${JSON.stringify(r)}`);
  }
  for (const peer of ['dask', 'duckdb', 'polars']) {
    assert.equal(result.peers[peer]!.status, 'not installed', peer);
    assert.match(result.peers[peer]!.reason, /nonexistent/);
  }
  assert.deepEqual(result.ratios, {});
  assert.deepEqual(result.checks.groupby, {});
  assert.equal(result.goals.met.groupby_within_duckdb, null);
  assert.equal(result.goals.met.faster_than_dask.groupby, null);
  // The shuffle's graph grows as P + Q, not P x Q.
  assert.deepEqual(result.shuffle_scaling.map((s) => s.partitions), [16, 64, 256]);
  for (const s of result.shuffle_scaling) {
    assert.ok(s.median_s > 0, JSON.stringify(s));
    assert.ok(s.edges < 6 * s.partitions, `edges grow linearly: ${JSON.stringify(s)}`);
  }
});
