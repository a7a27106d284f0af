// The writes reconcilers share: delete a pod once (expectations), patch a status only when it
// changed, create a built object.
import { canonicalJson } from '../builders/hash.js';
import { isNotFound, type KubeObject } from '../k8s/kube-api.js';
import { R, type ResourceType } from '../k8s/resources.js';
import type { Obj, ReconcileContext } from './context.js';

export async function deletePod(ctx: ReconcileContext, owner: string, namespace: string, name: string): Promise<void> {
  ctx.expectations.expectDelete(owner, name);
  try {
    await ctx.api.delete(R.pods, namespace, name);
  } catch (err) {
    ctx.expectations.observedDelete(owner, name);
    if (!isNotFound(err)) throw err;
  }
}

/**
 * Merge-patches status when it differs from what the cache holds (conditions keep their times).
 * A status that records a condition's transition is written against the version read: from a
 * stale cache it would stamp a second transition time on a condition that already flipped; the
 * conflict fails the pass, which is retried on the newer version.
 */
export async function writeStatus(ctx: ReconcileContext, r: ResourceType, obj: Obj, before: unknown, status: object): Promise<void> {
  if (sameJson(before, status)) return;
  const precondition = recordsTransition(before, status) ? { metadata: { resourceVersion: obj.metadata!.resourceVersion } } : {};
  await ctx.api.patch(r, obj.metadata?.namespace, obj.metadata!.name!, { ...precondition, status }, { type: 'merge', subresource: 'status' });
}

type TimedConditions = { conditions?: { type: string; lastTransitionTime?: string }[] } | undefined;

function recordsTransition(before: unknown, after: unknown): boolean {
  const old = new Map(((before as TimedConditions)?.conditions ?? []).map((c) => [c.type, c.lastTransitionTime]));
  return ((after as TimedConditions)?.conditions ?? []).some((c) => old.get(c.type) !== c.lastTransitionTime);
}

/** Creates a built object; our builders' typed manifests are plain KubeObjects on the wire. */
export function createObject(ctx: ReconcileContext, r: ResourceType, namespace: string, body: Obj): Promise<KubeObject> {
  return ctx.api.create(r, namespace, body as KubeObject);
}

export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
