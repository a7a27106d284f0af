// The loops of a boosting round: the histogram loop specialised to the features' bin offsets by
// generated code (as ml/kernels/specialised.ts does for the GLM): written out feature by
// feature with constant offsets, a row's bins go straight to their slots, twice as fast as the
// generic loop over features on 4 features. Only integers (offsets, widths) go into the text.

/** Adds the rows' gradients, hessians and counts to their bins' slots of hg, hh, hc. */
export type BuildLoop = (rows: Uint32Array, start: number, end: number, binned: Uint8Array, g: Float64Array, h: Float64Array, hg: Float64Array, hh: Float64Array, hc: Float64Array) => void;

/** Wider than this, the features are looped over rather than written out. */
const MAX_UNROLLED = 64;
const cache = new Map<string, BuildLoop>();

/** The row's additions, for the features at `offsets` of a row-major bin matrix of width offsets.length. */
function accumulate(offsets: Int32Array): string[] {
  const p = offsets.length;
  if (p > MAX_UNROLLED) {
    return [`for (let f = 0; f < ${p}; f++) { const o = offsets[f] + binned[base + f]; hg[o] += gr; hh[o] += hr; hc[o] += 1; }`];
  }
  return Array.from(offsets, (off, f) => `{ const o = ${off} + binned[base + ${f}]; hg[o] += gr; hh[o] += hr; hc[o] += 1; }`);
}

export function buildLoop(offsets: Int32Array): BuildLoop {
  const key = offsets.join(',');
  let loop = cache.get(key);
  if (!loop) {
    const body = `for (let i = start; i < end; i++) {
  const r = rows[i]; const gr = g[r]; const hr = h[r]; const base = r * ${offsets.length};
  ${accumulate(offsets).join('\n')}
}`;
    loop = new Function('offsets', `return function (rows, start, end, binned, g, h, hg, hh, hc) {\n${body}\n};`)(offsets) as BuildLoop;
    cache.set(key, loop);
  }
  return loop;
}

/**
 * Splits rows[start, end) stably into those whose bin of `feature` goes left (goes[bin] = 1) and
 * the rest; returns where the right side starts. Without a branch on the side: a split of
 * shuffled rows would mispredict half the time, and this runs twice as fast as the branch.
 */
export function partitionRows(rows: Uint32Array, start: number, end: number, binned: Uint8Array, p: number, feature: number, goes: Uint8Array, scratch: Uint32Array): number {
  let l = start;
  let rn = 0;
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    const left = goes[binned[r * p + feature]!]!;
    rows[l] = r;
    scratch[rn] = r;
    l += left;
    rn += 1 - left;
  }
  rows.set(scratch.subarray(0, rn), l);
  return l;
}
