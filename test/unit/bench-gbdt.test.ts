// `kubedask bench gbdt`: its flags, and the report it makes of what a run measured (medians,
// ratios, checks, goals, peers missing) and the summary it prints; no cluster and no Python.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gbdtReport, gbdtTable, type GbdtMeasured } from '../../bench/gbdt.js';
import { parse } from '../helpers/cli-program.js';

const split = { train_rows: 2_400_000, test_rows: 600_000, train_positives: 480_000, test_positives: 120_000 };
const machine = { cpus: 2, cpu_model: 'test', memory_gib: 24, load_avg_1m_at_start: 0.5, load_avg_1m_at_end: 1.5 };

function measured(over: Partial<GbdtMeasured> = {}): GbdtMeasured {
  return {
    repeats: 3, python: 'python3', rows: 3_000_000, split, machine,
    kubedask: { two_s: [8, 7, 9], one_s: [14, 13, 15], testAuc: 0.6631, nIter: 100, trees: 100, sameModel: [true, true, true], partitionsPerWorker: { two: [1, 1], one: [2] } },
    peer: {
      python: '3.11.7', packages: { lightgbm: '4.7.0', sklearn: '1.9.1', threadpoolctl: '3.7.0', polars: '1.44.2' }, split: { ...split },
      lightgbm: { status: 'ok', runs_s: [8.4, 8.2, 8.3], test_auc: 0.6633, n_trees: 100, one_thread_s: [13.5, 13.1, 13.3] },
      sklearn: { status: 'ok', runs_s: [11.4, 11.5, 11.3], test_auc: 0.6632, n_iter: 100 },
    },
    ...over,
  };
}

describe('bench gbdt', () => {
  it('takes --repeats, --rows, --python and --no-peer, one round by default', async () => {
    assert.deepEqual(await parse(['bench', 'gbdt']), { repeats: 1, peer: true });
    assert.deepEqual(await parse(['bench', 'gbdt', '--json', '--rows', '200000', '--python', '/p/python', '--repeats', '3', '--no-peer']),
      { json: true, rows: 200_000, python: '/p/python', repeats: 3, peer: false });
    await assert.rejects(parse(['bench', 'gbdt', '--rows', '10']), /--rows must be an integer >= 1000/);
  });

  it('reports medians, peer / kubedask ratios, the 2-over-1 speed-up and the goals', () => {
    const r = gbdtReport(measured());
    assert.equal(r.bench, 'gbdt');
    assert.deepEqual(r.kubedask.two_workers, { median_s: 8, runs_s: [8, 7, 9], test_auc: 0.6631, n_iter: 100, trees: 100 });
    assert.equal(r.kubedask.one_worker.median_s, 14);
    assert.deepEqual(r.ratios, { lightgbm_over_kubedask: 1.04, sklearn_over_kubedask: 1.43, two_workers_over_one: 1.75, lightgbm_two_threads_over_one: 1.6 });
    assert.deepEqual(r.goals.auc_difference, { kubedask_minus_lightgbm: -0.0002, kubedask_minus_sklearn: -0.0001 });
    assert.deepEqual(r.goals.met, { no_slower_than_lightgbm_at_equal_auc: true, two_workers_at_least_1_7x_one: true });
    assert.deepEqual(r.checks, { same_rows: 'match', same_model_1_and_2_workers: true });
    assert.deepEqual(r.peers.lightgbm, {
      status: 'ok', test_auc: 0.6633, n_trees: 100, version: '4.7.0', median_s: 8.3, runs_s: [8.4, 8.2, 8.3], one_thread: { median_s: 13.3, runs_s: [13.5, 13.1, 13.3] },
    });
    assert.equal(r.data.train_rows, 2_400_000);
    const table = gbdtTable(r);
    assert.match(table, /kubedask 2 workers 8\.00 s AUC 0\.6631, 1 worker 14\.00 s \(1\.75x\) \| LightGBM 8\.30 s AUC 0\.6633 \| scikit-learn 11\.40 s/);
    assert.match(table, /LightGBM 2 threads over 1 1\.6x/);
    assert.match(table, /goals met: no_slower_than_lightgbm_at_equal_auc true, two_workers_at_least_1_7x_one true/);
  });

  it('fails the LightGBM goal on speed or on AUC, and says when the rows or the models differ', () => {
    const base = measured();
    const slower = gbdtReport({ ...base, kubedask: { ...base.kubedask, two_s: [9, 9, 9] } });
    assert.equal(slower.goals.met.no_slower_than_lightgbm_at_equal_auc, false);
    assert.equal(slower.goals.met.two_workers_at_least_1_7x_one, false, '14 / 9 = 1.56x');
    const worse = gbdtReport({ ...base, kubedask: { ...base.kubedask, testAuc: 0.659 } });
    assert.equal(worse.goals.met.no_slower_than_lightgbm_at_equal_auc, false);
    const differ = gbdtReport({ ...base, kubedask: { ...base.kubedask, sameModel: [true, false, true] }, peer: { ...base.peer, split: { ...split, test_positives: 1 } } });
    assert.equal(differ.checks.same_model_1_and_2_workers, false);
    assert.match(differ.checks.same_rows ?? '', /^mismatch: /);
    assert.match(gbdtTable(differ), /the models fitted on 1 worker and on 2 differ/);
  });

  it('reports a missing or failed peer with its reason, and leaves its ratio and goal unknown', () => {
    const base = measured();
    const r = gbdtReport({
      ...base,
      peer: {
        python: undefined, packages: undefined, split: undefined,
        lightgbm: { status: 'not installed', reason: 'lightgbm missing: ModuleNotFoundError', runs_s: [] },
        sklearn: { status: 'ok', runs_s: [] },
      },
    });
    assert.deepEqual(r.peers.lightgbm, { status: 'not installed', reason: 'lightgbm missing: ModuleNotFoundError' });
    assert.deepEqual(r.peers.sklearn, { status: 'failed', reason: 'no result' });
    assert.deepEqual(r.ratios, { lightgbm_over_kubedask: null, sklearn_over_kubedask: null, two_workers_over_one: 1.75, lightgbm_two_threads_over_one: null });
    assert.equal(r.goals.met.no_slower_than_lightgbm_at_equal_auc, null);
    assert.equal(r.checks.same_rows, null);
    assert.match(gbdtTable(r), /LightGBM not installed \(lightgbm missing: ModuleNotFoundError\)/);
  });
});
