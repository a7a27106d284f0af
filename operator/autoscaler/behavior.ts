// The HPA's behaviour rules on one group's numbers: stabilization windows, then rate policies.
// Kept apart from decide.ts so each rule can be read (and tested) against the HPA's own.
import type { LimitedBy, ScalingRules } from './types.js';

/** A step's result: the value, and when the step changed it, why. */
export interface Step { value: number; limitedBy?: LimitedBy; note?: string }

type Policy = ScalingRules['policies'][number];

/** Stay at `replicas` unless every recommendation of the scale-up window was higher (go to
 *  their minimum) or every one of the scale-down window lower (go to their maximum). */
export function stabilize(
  replicas: number, desired: number, window: { min: number; max: number }, rules: { scaleUp: ScalingRules; scaleDown: ScalingRules },
): Step {
  const value = Math.min(Math.max(replicas, window.min), window.max);
  if (value === desired) return { value };
  const note = value < desired
    ? `held at ${value} by the scale-up stabilization window ${rules.scaleUp.stabilizationWindowSeconds}s`
    : `held at ${value} by the scale-down stabilization window ${rules.scaleDown.stabilizationWindowSeconds}s`;
  return { value, limitedBy: 'stabilizationWindow', note };
}

/** Pods added and removed by the changes of the last `periodSeconds`. */
export type Changes = (periodSeconds: number) => { added: number; removed: number };

/** Bounds `desired` by the rate policies of its direction, each counted from the replicas the
 *  group had when its period began, as far as changes in that direction tell (a scale-down in
 *  the period does not widen the scale-up bound). Max picks the policy allowing the most
 *  change, Min the least. */
export function rateLimit(replicas: number, desired: number, rules: ScalingRules, up: boolean, changes: Changes): Step {
  if (desired === replicas) return { value: desired };
  if (rules.selectPolicy === 'Disabled') {
    return { value: replicas, limitedBy: up ? 'scaleUpDisabled' : 'scaleDownDisabled', note: up ? 'scale-up disabled' : 'scale-down disabled' };
  }
  let chosen: { limit: number; policy: Policy } | undefined;
  for (const policy of rules.policies) {
    const limit = up ? upLimit(replicas, policy, changes) : downLimit(replicas, policy, changes);
    // Up: Max wants the highest limit; down: Max wants the lowest floor.
    const moreChange = up ? limit > (chosen?.limit ?? -Infinity) : limit < (chosen?.limit ?? Infinity);
    const lessChange = up ? limit < (chosen?.limit ?? Infinity) : limit > (chosen?.limit ?? -Infinity);
    if (!chosen || (rules.selectPolicy === 'Max' ? moreChange : lessChange)) chosen = { limit, policy };
  }
  if (!chosen) return { value: desired }; // no policies: no bound
  // Changes made earlier in the period never push the bound past the current replicas.
  const bound = up ? Math.max(chosen.limit, replicas) : Math.min(chosen.limit, replicas);
  if (up ? desired <= bound : desired >= bound) return { value: desired };
  return { value: bound, limitedBy: up ? 'scaleUpRate' : 'scaleDownRate', note: describe(chosen.policy, up) };
}

function upLimit(replicas: number, p: Policy, changes: Changes): number {
  const start = replicas - changes(p.periodSeconds).added;
  if (p.type === 'Pods') return start + p.value;
  // Integer arithmetic: 10 * 1.1 is 11.000000000000002 in floating point. At least one more, so a group at 0 can start.
  return Math.max(start + 1, Math.ceil((start * (100 + p.value)) / 100));
}

function downLimit(replicas: number, p: Policy, changes: Changes): number {
  const start = replicas + changes(p.periodSeconds).removed;
  const limit = p.type === 'Pods' ? start - p.value : Math.floor((start * (100 - p.value)) / 100);
  return Math.max(0, limit);
}

function describe(p: Policy, up: boolean): string {
  const sign = up ? '+' : '-';
  const amount = p.type === 'Percent' ? `${p.value}%` : `${p.value} ${p.value === 1 ? 'pod' : 'pods'}`;
  return `${sign}${amount} per ${p.periodSeconds}s`;
}
