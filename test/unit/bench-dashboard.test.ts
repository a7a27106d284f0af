// `kubedask bench dashboard` on a small synthetic session: every task and transfer lands in the
// history, the connected page reads deltas, and the figures are the ones printed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardBench } from '../../bench/dashboard.js';

describe('bench dashboard', () => {
  it('records every task and each combine\'s transfer, and times all three variants', () => {
    const r = dashboardBench({ tasks: 2_000, workers: 4, repeat: 1 });
    // 200 combines of 9 leaves: 2,000 runs and 200 transfers.
    assert.equal(r.snapshot.entries, 2_200);
    assert.ok(r.delta_ms.count >= 1, 'the page variant read at least its final delta');
    for (const v of ['history_off', 'history_on', 'history_on_page_connected'] as const) {
      assert.ok(r.tasks_per_s[v] > 0 && Number.isFinite(r.tasks_per_s[v]), `${v}: ${r.tasks_per_s[v]}`);
    }
    assert.ok(r.snapshot.mib > 0);
  });
});
