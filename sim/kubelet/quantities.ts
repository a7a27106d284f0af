// Kubernetes resource quantities and whether a pod fits on a node, as the scheduler decides.
const suffixes: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined) return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?\d+(?:\.\d+)?)(?:[eE]([+-]?\d+))?([a-zA-Z]*)$/.exec(q.trim());
  const unit = m ? suffixes[m[3]!] : undefined;
  if (!m || unit === undefined) throw new Error(`invalid quantity "${q}"`);
  return Number(m[1]) * 10 ** Number(m[2] ?? 0) * unit;
}

export type Resources = Record<string, number>;

interface ContainerLike { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }

/** A pod's requests: the sum over containers, a limit standing in for a missing request. */
export function podRequests(spec: { containers?: ContainerLike[] }): Resources {
  const out: Resources = {};
  for (const c of spec.containers ?? []) {
    const names = new Set([...Object.keys(c.resources?.requests ?? {}), ...Object.keys(c.resources?.limits ?? {})]);
    for (const name of names) {
      out[name] = (out[name] ?? 0) + parseQuantity(c.resources?.requests?.[name] ?? c.resources?.limits?.[name]);
    }
  }
  return out;
}

/** The resources a pod asks for that the node cannot give, given what is already used. */
export function insufficient(capacity: Resources, used: Resources, wanted: Resources): string[] {
  return Object.entries(wanted)
    .filter(([name, n]) => n > 0 && (used[name] ?? 0) + n > (capacity[name] ?? 0) + 1e-9)
    .map(([name]) => name);
}

export function addTo(total: Resources, more: Resources): void {
  for (const [k, v] of Object.entries(more)) total[k] = (total[k] ?? 0) + v;
}
