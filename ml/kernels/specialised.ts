// The hot loops of the GLM and KMeans kernels, specialised to a shard's width by generated code.
// Written out over the features (and the centers), a row's values, the coefficients and the
// centers stay in registers, which the generic loops over j cannot do: on 4 features 1.4x
// faster (GLM) and 2.5x (KMeans, 8 centers). Each does the generic kernel's arithmetic in the
// same order, so the results are the same to the bit (test/unit/ml-specialised.test.ts). Only
// integers (widths, counts) go into the generated text; data and parameters are arguments.
import type { Matrix } from '../core/matrix.js';

/** Larger shapes run the generic loops (the generated function would be too big to pay off). */
const MAX_UNROLLED = 512;

const cache = new Map<string, unknown>();

function compiled<F>(key: string, make: () => string[], params: string[]): F {
  let fn = cache.get(key) as F | undefined;
  if (!fn) {
    // The text holds integers only (see above).
    fn = new Function(...params, make().join('\n')) as F;
    cache.set(key, fn);
  }
  return fn;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, j) => j);
/** Shapes the generated code handles: whole counts from 1 up to the limit (others run the plain loops). */
const unrollable = (...counts: number[]): boolean => counts.every((n) => Number.isInteger(n) && n >= 1) && counts.reduce((a, b) => a * b, 1) <= MAX_UNROLLED;

export type SingleScoreLoop = (data: Float64Array, y: Float64Array, rows: number, w: Float64Array) => { loss: number; grad: number[] };

/**
 * Binomial or Poisson loss and gradient over a shard of `p` features (linear.ts's
 * singleScoreSums, written out); undefined when p is not a count up to the limit.
 */
export function singleScoreLoop(p: number, fitIntercept: boolean, family: 'binomial' | 'poisson'): SingleScoreLoop | undefined {
  if (!unrollable(p)) return undefined;
  return compiled(`glm|${p}|${fitIntercept}|${family}`, () => {
    const js = range(p);
    const link = family === 'binomial'
      ? [
        'const e = Math.exp(-Math.abs(z));',
        'loss += (z > 0 ? z : 0) + Math.log1p(e) - yi * z;',
        'const r = (z >= 0 ? 1 / (1 + e) : e / (1 + e)) - yi;',
      ]
      : ['const mu = Math.exp(z);', 'loss += mu - yi * z;', 'const r = mu - yi;'];
    return [
      ...js.map((j) => `const w${j} = w[${j}];`),
      `const b = ${fitIntercept ? `w[${p}]` : '0'};`,
      'let loss = 0;',
      'let gb = 0;',
      ...js.map((j) => `let g${j} = 0;`),
      `for (let i = 0, row = 0; i < rows; i++, row += ${p}) {`,
      ...js.map((j) => `  const x${j} = data[row + ${j}];`),
      `  const z = b${js.map((j) => ` + w${j} * x${j}`).join('')};`,
      '  const yi = y[i];',
      ...link.map((l) => `  ${l}`),
      ...js.map((j) => `  g${j} += r * x${j};`),
      '  gb += r;',
      '}',
      `return { loss, grad: [${js.map((j) => `g${j}`).join(', ')}${fitIntercept ? ', gb' : ''}] };`,
    ];
  }, ['data', 'y', 'rows', 'w']);
}

/** What a pass that puts each row with its nearest center adds up. */
export type NearestMode = 'lloyd' | 'counts' | 'sample';

export interface NearestLoops {
  /** Lloyd's sums: per center the sum of its rows (k x p) and their count, and the inertia. */
  lloyd(x: Matrix, centers: Float64Array): { sums: number[]; counts: number[]; inertia: number };
  /** Rows per nearest center, and the squared distances summed. */
  counts(x: Matrix, centers: Float64Array): { counts: number[]; cost: number };
  /** The rows i for which random() < (l * d^2(row, nearest)) / cost, one draw per row in order. */
  sample(x: Matrix, centers: Float64Array, random: () => number, l: number, cost: number): number[];
}

/**
 * One pass over the rows with its nearest center (the first on ties) and the squared distance
 * to it, as cluster.ts's nearest(), then the mode's sums; undefined when p x k is past the limit
 * (or k is not a whole count: centers of the wrong length, which the plain loops handle).
 */
export function nearestLoop<M extends NearestMode>(p: number, k: number, mode: M): NearestLoops[M] | undefined {
  if (!unrollable(p, k)) return undefined;
  return compiled(`nearest|${p}|${k}|${mode}`, () => {
    const js = range(p);
    const cs = range(k);
    const start = {
      lloyd: [`const sums = new Float64Array(${k * p});`, `const counts = new Float64Array(${k});`, 'let inertia = 0;'],
      counts: [`const counts = new Float64Array(${k});`, 'let total = 0;'],
      sample: ['const out = [];'],
    }[mode];
    const body = {
      lloyd: ['counts[best] += 1;', 'inertia += bestD;', `const o = best * ${p};`, ...js.map((j) => `sums[o + ${j}] += x${j};`)],
      counts: ['counts[best] += 1;', 'total += bestD;'],
      sample: ['if (random() < (l * bestD) / cost) out.push(i);'],
    }[mode];
    const result = {
      lloyd: 'return { sums: Array.from(sums), counts: Array.from(counts), inertia };',
      counts: 'return { counts: Array.from(counts), cost: total };',
      sample: 'return out;',
    }[mode];
    return [
      'const data = x.data;',
      'const rows = x.rows;',
      ...cs.flatMap((c) => js.map((j) => `const c${c}_${j} = centers[${c * p + j}];`)),
      ...start,
      `for (let i = 0, row = 0; i < rows; i++, row += ${p}) {`,
      ...js.map((j) => `  const x${j} = data[row + ${j}];`),
      '  let best = 0;',
      '  let bestD = Infinity;',
      ...cs.map((c) => `  { ${js.map((j) => `const e${j} = x${j} - c${c}_${j}; `).join('')}const d = ${js.map((j) => `e${j} * e${j}`).join(' + ')}; if (d < bestD) { bestD = d; best = ${c}; } }`),
      ...body.map((l) => `  ${l}`),
      '}',
      result,
    ];
  }, ['x', 'centers', 'random', 'l', 'cost']);
}
