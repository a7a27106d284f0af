// Merging a user's pod template over the one the operator builds. The rules (also in the docs):
// - metadata: labels and annotations are merged, the user's winning, except the pinned ones
//   (the selector labels, app.kubernetes.io/managed-by and the template hash), which are always ours. Other metadata is ignored.
// - pod spec: a field the user sets replaces ours, except:
//   containers and initContainers are matched by name: a matched container is merged (below),
//     the user's other containers are appended;
//   volumes are matched by name (the user's replaces ours), imagePullSecrets by name,
//     tolerations are the union of both lists;
//   securityContext and nodeSelector are merged key by key, the user's winning.
// - a matched container: a field the user sets replaces ours, except env (merged by name),
//   volumeMounts (by mountPath), ports (by containerPort), resources and securityContext (merged
//   key by key, the user's winning); and args: the user's args replace ours only if they give
//   any, and then our subcommand and each of our flags the user did not set are added to them.
// Arrays not named above are replaced whole; a value of undefined leaves ours in place.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { LABELS, MANAGER, type PodTemplate } from '../api/types.js';
import { completeArgs } from './args.js';
import { canonicalJson } from './hash.js';

type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Objects merged recursively, `over` winning at the leaves; arrays and scalars of `over` replace. */
export function deepMerge<T>(base: T | undefined, over: T | undefined): T | undefined {
  if (over === undefined) return base;
  if (!isPlain(base) || !isPlain(over)) return over;
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) if (v !== undefined) out[k] = deepMerge(base[k], v);
  return out as T;
}

/** Ours in order (each replaced by merge(ours, theirs) on a key match), then the user's new items. */
export function mergeBy<T>(ours: T[] | undefined, user: T[] | undefined, key: (t: T) => unknown, merge: (a: T, b: T) => T = (_a, b) => b): T[] | undefined {
  if (!user) return ours;
  if (!ours) return user;
  const theirs = new Map(user.map((u) => [key(u), u]));
  const out = ours.map((o) => { const u = theirs.get(key(o)); return u === undefined ? o : merge(o, u); });
  const mine = new Set(ours.map(key));
  return [...out, ...user.filter((u) => !mine.has(key(u)))];
}

/** Drops the keys whose value is undefined, so built objects compare equal to what the API returns. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function mergeContainer(ours: IContainer, user: IContainer): IContainer {
  return compact({
    ...ours,
    ...compact(user),
    env: mergeBy(ours.env, user.env, (e) => e.name),
    volumeMounts: mergeBy(ours.volumeMounts, user.volumeMounts, (m) => m.mountPath),
    ports: mergeBy(ours.ports, user.ports, (p) => p.containerPort),
    resources: deepMerge(ours.resources, user.resources),
    securityContext: deepMerge(ours.securityContext, user.securityContext),
    args: user.args && ours.args ? completeArgs(ours.args, user.args) : user.args ?? ours.args,
  });
}

export function mergePodSpec(ours: IPodSpec, user: Partial<IPodSpec> | undefined): IPodSpec {
  if (!user) return ours;
  return compact({
    ...ours,
    ...compact(user),
    containers: mergeBy(ours.containers, user.containers, (c) => c.name, mergeContainer) ?? [],
    initContainers: mergeBy(ours.initContainers, user.initContainers, (c) => c.name, mergeContainer),
    volumes: mergeBy(ours.volumes, user.volumes, (v) => v.name),
    imagePullSecrets: mergeBy(ours.imagePullSecrets, user.imagePullSecrets, (s) => s.name),
    tolerations: mergeBy(ours.tolerations, user.tolerations, (t) => canonicalJson(t)),
    securityContext: deepMerge(ours.securityContext, user.securityContext),
    nodeSelector: deepMerge(ours.nodeSelector, user.nodeSelector),
  });
}

export interface Pinned {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** The user's template merged over ours (rules at the top of this file). */
export function mergePodTemplate(ours: PodTemplate, user: PodTemplate | undefined, pinned: Pinned = {}): PodTemplate {
  // managed-by stays ours too: the operator finds its pods by it.
  const labels = { ...ours.metadata?.labels, ...user?.metadata?.labels, [LABELS.managedBy]: MANAGER, ...pinned.labels };
  const annotations = { ...ours.metadata?.annotations, ...user?.metadata?.annotations, ...pinned.annotations };
  return {
    metadata: compact({
      labels: Object.keys(labels).length ? labels : undefined,
      annotations: Object.keys(annotations).length ? annotations : undefined,
    }),
    spec: mergePodSpec(ours.spec ?? { containers: [] }, user?.spec),
  };
}
