// The policy's limits over a whole cluster, applied after every per-group step and winning
// over minReplicas. Groups earlier in the input have priority: their increases are granted
// first, and cuts (only when even the current replicas exceed a tightened limit) are taken
// from the last groups first. An increase is never paid for by cutting another group.
import type { LimitedBy, ResolvedPolicy } from './types.js';

export interface LimitGroup {
  /** What the per-group steps decided. */
  to: number;
  replicas: number;
  gpusPerWorker: number;
  /** Counted at its replicas, never changed. */
  external: boolean;
}

export interface LimitResult { to: number; limitedBy: LimitedBy[]; note?: string }

interface Limit {
  name: LimitedBy;
  max: number;
  /** Used by the namespace's other clusters (0 for per-cluster limits). */
  others: number;
  gpus: boolean;
}

export function applyLimits(
  groups: LimitGroup[], limits: ResolvedPolicy['limits'], namespaceUsage: { workers: number; gpus: number },
): LimitResult[] {
  const active = activeLimits(limits, namespaceUsage);
  const value = groups.map((g) => (g.external ? g.replicas : Math.min(g.to, g.replicas)));
  const hitBy = groups.map(() => new Set<Limit>());
  const weight = (i: number, l: Limit): number => (l.gpus ? groups[i].gpusPerWorker : 1);
  const room = (l: Limit): number => l.max - l.others - groups.reduce((sum, _g, i) => sum + value[i] * weight(i, l), 0);

  for (const l of active) {
    let over = -room(l);
    for (let i = groups.length - 1; i >= 0 && over > 0; i--) {
      const w = weight(i, l);
      if (groups[i].external || w === 0 || value[i] === 0) continue;
      const cut = Math.min(value[i], Math.ceil(over / w));
      value[i] -= cut;
      over -= cut * w;
      hitBy[i].add(l);
    }
  }

  groups.forEach((g, i) => {
    if (g.external || g.to <= value[i]) return;
    let grant = g.to - value[i];
    let binding: Limit | undefined;
    for (const l of active) {
      const w = weight(i, l);
      if (w === 0) continue;
      const allowed = Math.max(0, Math.floor(room(l) / w));
      if (allowed < grant) {
        grant = allowed;
        binding = l;
      }
    }
    value[i] += grant;
    if (binding) hitBy[i].add(binding);
  });

  return groups.map((g, i) => {
    if (hitBy[i].size === 0) return { to: value[i], limitedBy: [] };
    const hit = [...hitBy[i]];
    const verb = value[i] < Math.min(g.to, g.replicas) ? 'cut to' : 'held at';
    return { to: value[i], limitedBy: hit.map((l) => l.name), note: `${verb} ${value[i]} by ${hit.map(describe).join(' and ')}` };
  });
}

function activeLimits(limits: ResolvedPolicy['limits'], usage: { workers: number; gpus: number }): Limit[] {
  const all: (Limit | undefined)[] = [
    at('maxWorkersPerCluster', limits.maxWorkersPerCluster, 0, false),
    at('maxGpusPerCluster', limits.maxGpusPerCluster, 0, true),
    at('maxWorkersPerNamespace', limits.maxWorkersPerNamespace, usage.workers, false),
    at('maxGpusPerNamespace', limits.maxGpusPerNamespace, usage.gpus, true),
  ];
  return all.filter((l): l is Limit => l !== undefined);
}

function at(name: LimitedBy, max: number | undefined, others: number, gpus: boolean): Limit | undefined {
  return max === undefined ? undefined : { name, max, others, gpus };
}

function describe(l: Limit): string {
  if (!l.name.endsWith('PerNamespace')) return `${l.name} ${l.max}`;
  const unit = l.gpus ? (l.others === 1 ? 'GPU' : 'GPUs') : (l.others === 1 ? 'worker' : 'workers');
  return `${l.name} ${l.max} (${l.others} ${unit} used by other clusters)`;
}
