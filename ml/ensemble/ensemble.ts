// A fitted tree ensemble as plain data, and its raw scores for rows. A row goes left at a
// numeric node when fround(x) <= threshold (a float32 value), as the ONNX export's TreeEnsemble
// compares its float input; missing values (and categories not seen in training) go the
// node's missing way; the scores add up tree by tree from the baseline.
import type { FeatureBins } from './binning.js';
import type { LossKind } from './losses.js';

export interface TreeModel {
  /** The raw score it adds to (a multinomial model's class; else 0). */
  output: number;
  /** Per node, root first: the feature it splits on, -1 for a leaf. */
  feature: number[];
  /** Numeric splits: rows with fround(x) <= threshold go left (Infinity: all but missing values); NaN for others. */
  threshold: number[];
  /** Categorical splits: the category values that go left (null for others). */
  leftCategories: Array<number[] | null>;
  missingLeft: boolean[];
  left: number[];
  right: number[];
  /** Leaves: the value added (learning rate applied); 0 for splits. */
  value: number[];
  /** Splits: the gain (feature importances add it up); training rows per node. */
  gain: number[];
  count: number[];
}

export interface Ensemble {
  loss: LossKind;
  baseline: number[];
  bins: FeatureBins[];
  trees: TreeModel[];
}

interface Compiled {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  missingLeft: Uint8Array;
  value: Float64Array;
  roots: Int32Array;
  outputs: Int32Array;
  /** Categorical nodes: the categories that go left. */
  categories: Map<number, Set<number>>;
}

function compile(e: Ensemble): Compiled {
  const size = e.trees.reduce((a, t) => a + t.feature.length, 0);
  const c: Compiled = {
    feature: new Int32Array(size), threshold: new Float64Array(size), left: new Int32Array(size), right: new Int32Array(size),
    missingLeft: new Uint8Array(size), value: new Float64Array(size), roots: new Int32Array(e.trees.length), outputs: new Int32Array(e.trees.length),
    categories: new Map(),
  };
  let at = 0;
  e.trees.forEach((t, i) => {
    c.roots[i] = at;
    c.outputs[i] = t.output;
    t.feature.forEach((f, j) => {
      c.feature[at + j] = f;
      // JSON (a task's parameters, the scattered model) writes Infinity as null: only a numeric threshold can be one.
      c.threshold[at + j] = t.threshold[j] ?? Infinity;
      c.left[at + j] = at + t.left[j]!;
      c.right[at + j] = at + t.right[j]!;
      c.missingLeft[at + j] = t.missingLeft[j] ? 1 : 0;
      c.value[at + j] = t.value[j]!;
      const cats = t.leftCategories[j];
      if (cats) c.categories.set(at + j, new Set(cats));
    });
    at += t.feature.length;
  });
  return c;
}

/** Raw scores, output c of row i at c * rows + i, for feature columns in the model's order (NaN: missing). */
export function rawScores(e: Ensemble, columns: ReadonlyArray<ArrayLike<number>>, rows: number): Float64Array {
  const k = e.baseline.length;
  const out = new Float64Array(k * rows);
  for (let c = 0; c < k; c++) out.fill(e.baseline[c]!, c * rows, (c + 1) * rows);
  const c = compile(e);
  // Numeric features compared in float32 (Float32Array rounds as fround); categorical as they are.
  const known = e.bins.map((b) => (b.kind === 'categorical' ? new Set(b.categories) : undefined));
  const cols = columns.map((col, f) => (known[f] ? Float64Array.from(col) : Float32Array.from(col)));
  const row = new Float64Array(columns.length);
  for (let i = 0; i < rows; i++) {
    for (let f = 0; f < cols.length; f++) row[f] = cols[f]![i]!;
    for (let t = 0; t < c.roots.length; t++) {
      let node = c.roots[t]!;
      for (let f = c.feature[node]!; f >= 0; f = c.feature[node]!) {
        const x = row[f]!;
        const cats = known[f];
        let left: boolean;
        if (Number.isNaN(x) || (cats && !cats.has(x))) left = c.missingLeft[node] === 1;
        else left = cats ? c.categories.get(node)!.has(x) : x <= c.threshold[node]!;
        node = left ? c.left[node]! : c.right[node]!;
      }
      out[c.outputs[t]! * rows + i]! += c.value[node]!;
    }
  }
  return out;
}

/** Total gain of each feature's splits, as shares of all (zeros when no tree split). */
export function gainImportances(e: Ensemble, nFeatures: number): number[] {
  const gain = new Array<number>(nFeatures).fill(0);
  for (const t of e.trees) t.feature.forEach((f, j) => { if (f >= 0) gain[f]! += t.gain[j]!; });
  const total = gain.reduce((a, b) => a + b, 0);
  return gain.map((g) => (total > 0 ? g / total : 0));
}
