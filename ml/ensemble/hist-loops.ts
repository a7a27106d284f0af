// The histogram loops of a boosting round, specialised to the features' bin offsets by
// generated code (as ml/kernels/specialised.ts does for the GLM): written out feature by
// feature with constant offsets, a row's bins go straight to their slots, twice as fast as the
// generic loop over features on 4 features. Only integers (offsets, widths) go into the text.

/** Adds the rows' gradients, hessians and counts to their bins' slots of hg, hh, hc. */
export type BuildLoop = (rows: Uint32Array, start: number, end: number, binned: Uint8Array, g: Float64Array, h: Float64Array, hg: Float64Array, hh: Float64Array, hc: Float64Array) => void;

/**
 * Splits rows[start, end) stably into those whose bin of `feature` goes left (goes[bin] = 1) and
 * the rest, and adds the side `buildLeft` names to the histogram; returns where the right side starts.
 */
export type SplitLoop = (
  rows: Uint32Array, start: number, end: number, binned: Uint8Array, g: Float64Array, h: Float64Array, hg: Float64Array, hh: Float64Array, hc: Float64Array,
  goes: Uint8Array, feature: number, buildLeft: number, scratch: Uint32Array,
) => number;

/** Wider than this, the features are looped over rather than written out. */
const MAX_UNROLLED = 64;
const cache = new Map<string, { build: BuildLoop; split: SplitLoop }>();

/** The row's additions, for the features at `offsets` of a row-major bin matrix of width offsets.length. */
function accumulate(offsets: Int32Array): string[] {
  const p = offsets.length;
  if (p > MAX_UNROLLED) {
    return [`for (let f = 0; f < ${p}; f++) { const o = offsets[f] + binned[base + f]; hg[o] += gr; hh[o] += hr; hc[o] += 1; }`];
  }
  return Array.from(offsets, (off, f) => `{ const o = ${off} + binned[base + ${f}]; hg[o] += gr; hh[o] += hr; hc[o] += 1; }`);
}

export function histLoops(offsets: Int32Array): { build: BuildLoop; split: SplitLoop } {
  const key = offsets.join(',');
  let loops = cache.get(key);
  if (!loops) {
    const p = offsets.length;
    const add = accumulate(offsets).join('\n');
    const make = (params: string[], body: string) => new Function('offsets', `return function (${params.join(', ')}) {\n${body}\n};`)(offsets);
    const common = ['rows', 'start', 'end', 'binned', 'g', 'h', 'hg', 'hh', 'hc'];
    loops = {
      build: make(common, `for (let i = start; i < end; i++) {
  const r = rows[i]; const gr = g[r]; const hr = h[r]; const base = r * ${p};
  ${add}
}`) as BuildLoop,
      split: make([...common, 'goes', 'feature', 'buildLeft', 'scratch'], `let l = start; let rn = 0;
for (let i = start; i < end; i++) {
  const r = rows[i]; const base = r * ${p};
  const left = goes[binned[base + feature]];
  if (left === 1) rows[l++] = r; else scratch[rn++] = r;
  if (left === buildLeft) { const gr = g[r]; const hr = h[r];
    ${add}
  }
}
rows.set(scratch.subarray(0, rn), l);
return l;`) as SplitLoop,
    };
    cache.set(key, loops);
  }
  return loops;
}
