// Which DaskAutoscalingPolicy governs a cluster, with its missing fields filled from the
// built-in defaults. Pure: the caller lists the policies and reads the namespace's labels.
import type { DaskAutoscalingPolicy, ScalingRules as UserRules } from '../api/types.js';
import type { ResolvedPolicy, ScalingRules } from './types.js';

/** Built-in scale-up rules (the HPA's): react at once; per 15 s add up to 4 pods or double,
 *  whichever allows more. */
export const DEFAULT_SCALE_UP: Readonly<ScalingRules> = Object.freeze<ScalingRules>({
  stabilizationWindowSeconds: 0,
  policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
  selectPolicy: 'Max',
});

/** Built-in scale-down rules: only after the recommendation stayed lower for 60 s, then any
 *  amount per 15 s (the drain through the scheduler is what paces the removal). */
export const DEFAULT_SCALE_DOWN: Readonly<ScalingRules> = Object.freeze<ScalingRules>({
  stabilizationWindowSeconds: 60,
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  selectPolicy: 'Max',
});

/** How specifically a policy covers a namespace: lower wins; undefined when it does not. */
function coverage(p: DaskAutoscalingPolicy, namespace: string, labels: Record<string, string> | undefined): number | undefined {
  const listed = p.spec.namespaces ?? [];
  // An empty selector counts as none, so that `namespaceSelector: {}` does not silently widen a list.
  const selector = Object.entries(p.spec.namespaceSelector?.matchLabels ?? {});
  if (listed.includes(namespace)) return 0;
  if (selector.length > 0 && labels && selector.every(([k, v]) => labels[k] === v)) return 1;
  if (listed.length === 0 && selector.length === 0) return 2;
  return undefined;
}

/** A user's rules fill only their missing fields from the defaults; an empty list of policies
 *  counts as missing (the HPA rejects one; the CRD does not). */
function fill(user: UserRules | undefined, defaults: Readonly<ScalingRules>): ScalingRules {
  return {
    stabilizationWindowSeconds: user?.stabilizationWindowSeconds ?? defaults.stabilizationWindowSeconds,
    policies: (user?.policies?.length ? user.policies : defaults.policies).map((p) => ({ ...p })),
    selectPolicy: user?.selectPolicy ?? defaults.selectPolicy,
  };
}

function resolved(p: DaskAutoscalingPolicy): ResolvedPolicy {
  const { limits, behavior, idle } = p.spec;
  return {
    name: p.metadata.name,
    limits: { ...limits },
    behavior: { scaleUp: fill(behavior?.scaleUp, DEFAULT_SCALE_UP), scaleDown: fill(behavior?.scaleDown, DEFAULT_SCALE_DOWN) },
    idle: { ...idle },
  };
}

/**
 * The policy for a cluster in `namespace`. `wanted` (spec.autoscaling.policy) must exist and
 * cover the namespace. Otherwise the most specific covering policy wins: listed by name, then
 * matched by namespaceSelector, then covering all; ties go to the alphabetically first name.
 * `namespaceLabels` undefined (unreadable) means no selector matches. None covers: defaults.
 */
export function resolvePolicy(
  policies: DaskAutoscalingPolicy[], namespace: string, namespaceLabels: Record<string, string> | undefined, wanted?: string,
): { policy: ResolvedPolicy } | { error: string } {
  if (wanted !== undefined) {
    const p = policies.find((q) => q.metadata.name === wanted);
    if (!p) return { error: `DaskAutoscalingPolicy ${wanted} not found` };
    if (coverage(p, namespace, namespaceLabels) === undefined) {
      const unread = namespaceLabels === undefined && p.spec.namespaceSelector ? ' (its labels could not be read)' : '';
      return { error: `DaskAutoscalingPolicy ${wanted} does not cover namespace ${namespace}${unread}` };
    }
    return { policy: resolved(p) };
  }
  let best: { p: DaskAutoscalingPolicy; rank: number } | undefined;
  for (const p of policies) {
    const rank = coverage(p, namespace, namespaceLabels);
    if (rank === undefined) continue;
    const better = !best || rank < best.rank || (rank === best.rank && (p.metadata.name ?? '') < (best.p.metadata.name ?? ''));
    if (better) best = { p, rank };
  }
  if (best) return { policy: resolved(best.p) };
  // Copies, so that a caller changing its result cannot change the constants.
  return { policy: { limits: {}, behavior: { scaleUp: fill(undefined, DEFAULT_SCALE_UP), scaleDown: fill(undefined, DEFAULT_SCALE_DOWN) }, idle: {} } };
}
