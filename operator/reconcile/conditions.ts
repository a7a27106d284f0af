// Conditions as the API conventions want them: lastTransitionTime moves only when the status
// flips, so a steady cluster does not rewrite its status on every reconcile.
import type { Condition } from '../api/types.js';

export type ConditionInput = Omit<Condition, 'lastTransitionTime'>;

export function setConditions(previous: Condition[] | undefined, next: ConditionInput[], nowIso: string): Condition[] {
  const before = new Map((previous ?? []).map((c) => [c.type, c]));
  return next.map((c) => {
    const old = before.get(c.type);
    return { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : nowIso };
  });
}

export const isTrue = (conditions: Condition[] | undefined, type: string): boolean =>
  conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

export const condition = (type: string, ok: boolean, reason: string, message: string, observedGeneration?: number): ConditionInput =>
  ({ type, status: ok ? 'True' : 'False', reason, message, ...(observedGeneration !== undefined ? { observedGeneration } : {}) });
