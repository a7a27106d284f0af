// `kubedask bench dashboard` on a small synthetic session: every task and transfer lands in the
// history, the connected pages receive the server-sent deltas, and the figures are the ones printed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardBench } from '../../bench/dashboard.js';

describe('bench dashboard', () => {
  it('records every task and each combine\'s transfer, feeds the pages, and times every variant', async () => {
    const r = await dashboardBench({ tasks: 2_000, workers: 4, pages: 2, repeat: 1 });
    // 200 combines of 9 leaves: 2,000 runs and 200 transfers.
    assert.equal(r.entries, 2_200);
    for (const v of ['no_page', 'pages', 'history_off'] as const) {
      assert.ok(r.tasks_per_s[v] > 0 && Number.isFinite(r.tasks_per_s[v]), `${v}: ${r.tasks_per_s[v]}`);
    }
    assert.equal(r.goal.met, r.slowdown_pct.pages <= r.goal.pages_within_pct);
  });
});
