// Control.RecordDecision end to end, through the operator's own client (grpcSchedulerControl)
// to a real scheduler: a decision the operator made lands in the scheduler's history as an
// 'operator' decision, in the snapshot the dashboard reads; an unreachable scheduler fails the
// call within its deadline (the autoscaler ignores that: see test/operator/autoscaler-decisions).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { grpcSchedulerControl } from '../../operator/control/scheduler-control.js';
import { ControlError } from '../../operator/control/errors.js';
import { startScheduler } from '../../scheduler/server/scheduler-server.js';

describe('Control.RecordDecision', () => {
  it('keeps the operator\'s decision in the scheduler\'s history, with its time (when near the scheduler\'s clock) or the time it arrived', async (t) => {
    const scheduler = await startScheduler({ host: '127.0.0.1', port: 0, dashboardPort: -1, logLevel: 'silent' });
    const control = grpcSchedulerControl();
    t.after(async () => { control.close(); await scheduler.close(); });

    const at = Date.now() - 5_000;
    assert.equal(await control.recordDecision(scheduler.address, { group: 'gpu', from: 1, to: 4, reason: 'scheduler: 4 workers to finish in 30s', timeMs: at }), true);
    const before = Date.now();
    assert.equal(await control.recordDecision(scheduler.address, { group: 'cpu', from: 3, to: 0, reason: 'idle', timeMs: 0 }), true);
    const decisions = scheduler.core.history.snapshot().decisions.filter((d) => d.source === 'operator');
    assert.equal(decisions.length, 2);
    assert.deepEqual(decisions[0], { t: at, source: 'operator', group: 'gpu', from: 1, to: 4, reason: 'scheduler: 4 workers to finish in 30s' });
    assert.deepEqual({ ...decisions[1], t: 0 }, { t: 0, source: 'operator', group: 'cpu', from: 3, to: 0, reason: 'idle' });
    assert.ok(decisions[1]!.t >= before && decisions[1]!.t <= Date.now(), 'no time given: the time it arrived');
  });

  it('fails with a ControlError when no scheduler answers', async (t) => {
    const control = grpcSchedulerControl({ decisionTimeoutMs: 1_000 });
    t.after(() => control.close());
    await assert.rejects(control.recordDecision('127.0.0.1:1', { group: 'g', from: 0, to: 1, reason: 'r', timeMs: 1 }),
      (err: Error) => err instanceof ControlError && /Control\.RecordDecision at 127\.0\.0\.1:1: (UNAVAILABLE|DEADLINE_EXCEEDED)/.test(err.message));
  });
});
