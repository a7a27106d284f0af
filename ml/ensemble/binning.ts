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
 * Edges for one feature from its sampled values (NaN: missing): midpoints between distinct
 * values when there are few enough, else the `maxBins`-quantiles by the midpoint rule, each
 * rounded to float32 and made unique.
 */
export function numericEdges(values: ArrayLike<number>, maxBins = MAX_BINS): number[] {
  // Typed all the way: TypedArray#filter gathers its kept values as boxed numbers first.
  const kept = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) kept[n++] = values[i]!;
  const sorted = kept.subarray(0, n).sort();
  const distinct: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
  let edges: number[];
  if (distinct.length <= maxBins) {
    edges = distinct.slice(1).map((v, i) => (distinct[i]! + v) / 2);
  } else {
    edges = [];
    for (let q = 1; q < maxBins; q++) {
      const at = (q / maxBins) * (n - 1);
      edges.push((sorted[Math.floor(at)]! + sorted[Math.ceil(at)]!) / 2);
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
  const seen = new Set<number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    if (!Number.isInteger(v)) throw new TypeError(`categorical feature ${feature} has the value ${v}, not an integer category`);
    seen.add(v);
  }
  if (seen.size > maxBins) throw new RangeError(`categorical feature ${feature} has ${seen.size} categories in the sample; at most ${maxBins} are supported (encode it, or treat it as numeric)`);
  return [...seen].sort((a, b) => a - b);
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
