// Whether a pod fits on a node, as the scheduler decides, from its resource quantities.
import { parseQuantity } from '../../operator/api/quantity.js';

export type Resources = Record<string, number>;

interface ContainerLike { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }

/** A pod's requests: the sum over containers, a limit standing in for a missing request. */
export function podRequests(spec: { containers?: ContainerLike[] }): Resources {
  const out: Resources = {};
  for (const c of spec.containers ?? []) {
    const names = new Set([...Object.keys(c.resources?.requests ?? {}), ...Object.keys(c.resources?.limits ?? {})]);
    for (const name of names) {
      out[name] = (out[name] ?? 0) + parseQuantity(c.resources?.requests?.[name] ?? c.resources?.limits?.[name] ?? 0);
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
