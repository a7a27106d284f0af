// Kubernetes quantities ("4Gi", "512M", "1e9") as bytes, for the worker's --memory-limit.

const MULTIPLIER: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** Bytes of a quantity, rounded up as Kubernetes does, or undefined when it is not one. */
export function quantityBytes(q: string | number): number | undefined {
  if (typeof q === 'number') return Number.isFinite(q) && q >= 0 ? Math.ceil(q) : undefined;
  const m = /^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E))?$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * (m[2] !== undefined ? 10 ** Number(m[2]) : MULTIPLIER[m[3] ?? '']!);
  return Number.isFinite(n) ? Math.ceil(n) : undefined;
}
