// Feature binning for histogram gradient boosting (scikit-learn's _BinMapper): each numeric
// feature's bin edges are quantiles of a sample of the rows, at most 255 bins, and a last bin
// for missing values; a categorical feature has a bin per category seen. Edges are float32
// values and rows are compared in float32, as an ONNX TreeEnsemble compares its float input:
// a row takes the same path in the model and in its ONNX export.

/** Non-missing bins at most (scikit-learn's max_bins); the missing bin comes after them. */
export const MAX_BINS = 255;

export interface NumericBins {
  kind: 'numeric';
  /** Strictly increasing float32 values: bin b holds fround(x) in (edges[b-1], edges[b]]. */
  edges: number[];
}

export interface CategoricalBins {
  kind: 'categorical';
  /** The categories seen, ascending: category categories[b] is bin b; others go to the missing bin. */
  categories: number[];
}

export type FeatureBins = NumericBins | CategoricalBins;

/** Non-missing bins of a feature; its missing bin's index. */
export function binCount(bins: FeatureBins): number {
  return bins.kind === 'numeric' ? bins.edges.length + 1 : bins.categories.length;
}

/**
 * A feature's sampled values as runs: its distinct values ascending (NaN, missing, left out;
 * -0 as 0) and how often each occurs. What a shard's sample sends (kernels/gbdt.ts): a few
 * hundred runs where the values are a few hundred distinct ones; where they are all distinct,
 * twice the values' bytes (each with a count of 1), raw (base64 JSON was 1.3 times them).
 */
export interface ValueRuns {
  values: Float64Array;
  counts: Float64Array;
}

export function valueRuns(values: ArrayLike<number>): ValueRuns {
  // Typed all the way: TypedArray#filter gathers its kept values as boxed numbers first.
  const kept = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) kept[n++] = values[i]! + 0;
  const sorted = kept.subarray(0, n).sort();
  let runs = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) runs++;
  const out: ValueRuns = { values: new Float64Array(runs), counts: new Float64Array(runs) };
  for (let i = 0, r = -1; i < n; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) out.values[++r] = sorted[i]!;
    out.counts[r]!++;
  }
  return out;
}

/**
 * The runs of all these samples together (each ascending, as valueRuns makes them), merged
 * pairwise level by level: each run is copied log2(shards) times, where merging the shards one
 * after another copied the first once per shard (seconds for hundreds of shards).
 */
export function mergeRuns(parts: readonly ValueRuns[]): ValueRuns {
  let level = [...parts];
  while (level.length > 1) level = Array.from({ length: Math.ceil(level.length / 2) }, (_, i) => (level[2 * i + 1] ? mergeTwo(level[2 * i]!, level[2 * i + 1]!) : level[2 * i]!));
  return level[0] ?? { values: new Float64Array(0), counts: new Float64Array(0) };
}

function mergeTwo(a: ValueRuns, b: ValueRuns): ValueRuns {
  const values = new Float64Array(a.values.length + b.values.length);
  const counts = new Float64Array(values.length);
  let [i, j, r] = [0, 0, 0];
  const take = (from: ValueRuns, at: number) => {
    values[r] = from.values[at]!;
    counts[r++] = from.counts[at]!;
  };
  while (i < a.values.length && j < b.values.length) {
    if (a.values[i]! < b.values[j]!) take(a, i++);
    else if (b.values[j]! < a.values[i]!) take(b, j++);
    else {
      take(a, i++);
      counts[r - 1]! += b.counts[j++]!;
    }
  }
  while (i < a.values.length) take(a, i++);
  while (j < b.values.length) take(b, j++);
  return { values: values.slice(0, r), counts: counts.slice(0, r) };
}

/**
 * Edges for one feature from its sampled values (NaN: missing): midpoints between distinct
 * values when there are few enough, else the `maxBins`-quantiles by the midpoint rule, each
 * rounded to float32 and made unique.
 */
export function numericEdges(values: ArrayLike<number>, maxBins = MAX_BINS): number[] {
  return edgesOfRuns(valueRuns(values), maxBins);
}

/** numericEdges of the values these runs hold. */
export function edgesOfRuns(runs: ValueRuns, maxBins = MAX_BINS): number[] {
  const distinct = runs.values;
  let edges: number[];
  if (distinct.length <= maxBins) {
    edges = Array.from(distinct.subarray(1), (v, i) => (distinct[i]! + v) / 2);
  } else {
    // The i-th value of the sorted sample, for i ascending: the run it falls in.
    let run = 0;
    let before = 0; // values in the runs before `run`
    const nth = (i: number): number => {
      while (i >= before + runs.counts[run]!) before += runs.counts[run++]!;
      return distinct[run]!;
    };
    const n = runs.counts.reduce((a, c) => a + c, 0);
    edges = [];
    for (let q = 1; q < maxBins; q++) {
      const at = (q / maxBins) * (n - 1);
      const low = nth(Math.floor(at));
      edges.push((low + nth(Math.ceil(at))) / 2);
    }
  }
  const out: number[] = [];
  for (const e of edges) {
    const f = Math.fround(e);
    if (Number.isFinite(f) && (out.length === 0 || f > out[out.length - 1]!)) out.push(f);
  }
  return out;
}

/** The categories of a categorical feature's sample: integers, at most `maxBins` of them. */
export function categoriesOf(values: ArrayLike<number>, feature: string, maxBins = MAX_BINS): number[] {
  return categoriesOfRuns(valueRuns(values), feature, maxBins);
}

/** categoriesOf the values these runs hold. */
export function categoriesOfRuns(runs: ValueRuns, feature: string, maxBins = MAX_BINS): number[] {
  const bad = runs.values.find((v) => !Number.isInteger(v));
  if (bad !== undefined) throw new TypeError(`categorical feature ${feature} has the value ${bad}, not an integer category`);
  if (runs.values.length > maxBins) throw new RangeError(`categorical feature ${feature} has ${runs.values.length} categories in the sample; at most ${maxBins} are supported (encode it, or treat it as numeric)`);
  return Array.from(runs.values);
}

/** The bin of value `x` (missing: binCount). */
export function binOf(bins: FeatureBins, x: number): number {
  if (Number.isNaN(x)) return binCount(bins);
  if (bins.kind === 'categorical') {
    const b = search(bins.categories, x);
    return b < bins.categories.length && bins.categories[b] === x ? b : bins.categories.length;
  }
  return search(bins.edges, Math.fround(x));
}

/**
 * binOf for a column of a row-major matrix: out[r * stride + column] = binOf(bins, data[r *
 * stride + column]) for each of `rows` rows, by a search over typed edges. A value the same as
 * the row before's (runs, in sorted or grouped data) takes its bin, and so does one met before
 * in a small cache by the value's bits (features of a few thousand distinct values: counts,
 * codes, distances). binOf row by row took 150 ms over a boosting state's 1.2 M x 4 values
 * (flights-3m's half), the search alone ~95 ms, with the cache ~33 ms.
 */
export function binColumn(bins: FeatureBins, data: Float64Array, rows: number, stride: number, column: number, out: Uint8Array): void {
  if (bins.kind === 'categorical') {
    for (let r = 0, at = column; r < rows; r++, at += stride) out[at] = binOf(bins, data[at]!);
    return;
  }
  const edges = Float64Array.from(bins.edges);
  const missing = edges.length + 1;
  const cachedValue = new Float64Array(CACHE_SLOTS).fill(NaN); // NaN: no value matches
  const cachedBin = new Uint8Array(CACHE_SLOTS);
  const word = new Float64Array(1);
  const halves = new Int32Array(word.buffer);
  let last = NaN;
  let lastBin = missing;
  for (let r = 0, at = column; r < rows; r++, at += stride) {
    const x = data[at]!;
    if (x !== last) {
      last = x;
      word[0] = x;
      const slot = Math.imul(halves[0]! ^ halves[1]!, 0x9e3779b1) >>> (32 - CACHE_BITS);
      if (cachedValue[slot] === x) lastBin = cachedBin[slot]!;
      else if (Number.isNaN(x)) lastBin = missing;
      else {
        // The count of edges < fround(x), halving without a branch on the comparison (the
        // branch mispredicts on most steps: half the time on unsorted data).
        const v = Math.fround(x);
        let base = 0;
        for (let len = edges.length + 1; len > 1;) {
          const half = len >>> 1;
          base = edges[base + half - 1]! < v ? base + half : base;
          len -= half;
        }
        lastBin = base;
        cachedValue[slot] = x;
        cachedBin[slot] = base;
      }
    }
    out[at] = lastBin;
  }
}

const CACHE_BITS = 12;
const CACHE_SLOTS = 1 << CACHE_BITS;

/** The first index whose value is >= x (the count of values < x). */
function search(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
