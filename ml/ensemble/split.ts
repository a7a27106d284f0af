// Gradient histograms and the best split of a node, as scikit-learn's HistGradientBoosting
// finds it: for each feature, every threshold between bins with missing values sent right, then
// left; for a categorical feature, LightGBM's rule (which scikit-learn's follows in outline): the
// categories with 10 rows or more, sorted by gradient over hessian + 10, every prefix of that
// order up to 32 categories (both ways) as the left set, the missing bin among them when it
// has rows. Pure: the workers build the histograms, the
// fit's driver sums them and calls this.
import { binCount, type FeatureBins } from './binning.js';

/**
 * Where each feature's bins start in a histogram, which holds three blocks of `total` values:
 * the gradients, the hessians and the row counts of every bin.
 */
export interface HistLayout {
  /** offsets[f]: feature f's first bin; its missing bin is offsets[f] + nonMissing[f]. */
  offsets: Int32Array;
  nonMissing: Int32Array;
  /** Bins over all features, missing bins included. */
  total: number;
  categorical: Uint8Array;
}

export function histLayout(bins: readonly FeatureBins[]): HistLayout {
  const nonMissing = Int32Array.from(bins, binCount);
  return { ...binOffsets(nonMissing), nonMissing, categorical: Uint8Array.from(bins, (b) => (b.kind === 'categorical' ? 1 : 0)) };
}

/** Each feature's first bin in a histogram, features one after another, each its non-missing bins and a missing bin. */
export function binOffsets(nonMissing: ArrayLike<number>): { offsets: Int32Array; total: number } {
  const offsets = new Int32Array(nonMissing.length);
  let total = 0;
  for (let f = 0; f < nonMissing.length; f++) {
    offsets[f] = total;
    total += nonMissing[f]! + 1;
  }
  return { offsets, total };
}

export interface SplitParams {
  minSamplesLeaf: number;
  l2Regularization: number;
  /** scikit-learn's min_hessian_to_split. */
  minHessianToSplit: number;
}

/** Per feature: whether the training rows have missing values (the root's missing bin is not empty). */
export function missingByFeature(rootHist: Float64Array, layout: HistLayout): boolean[] {
  return Array.from(layout.offsets, (o, f) => rootHist[2 * layout.total + o + layout.nonMissing[f]!]! > 0);
}

export interface Sums { g: number; h: number; n: number }

export interface Split {
  feature: number;
  /** Numeric: rows with bin <= bin go left. */
  bin: number;
  /** Categorical: the bins (categories, maybe the missing bin) that go left; empty for numeric. */
  leftBins: number[];
  missingLeft: boolean;
  gain: number;
  left: Sums;
  right: Sums;
}

/** scikit-learn's MIN_CAT_SUPPORT, cat_smooth and max_cat_threshold (LightGBM's defaults). */
const MIN_CAT_SUPPORT = 10;
const CAT_SMOOTH = 10;
const MAX_CAT_THRESHOLD = 32;

/** The node's gradient, hessian and count: feature 0's bins added up. */
export function nodeSums(hist: Float64Array, layout: HistLayout): Sums {
  let g = 0;
  let h = 0;
  let n = 0;
  const t = layout.total;
  const end = layout.offsets[0]! + layout.nonMissing[0]! + 1;
  for (let o = layout.offsets[0]!; o < end; o++) {
    g += hist[o]!;
    h += hist[t + o]!;
    n += hist[2 * t + o]!;
  }
  return { g, h, n };
}

/** parent - child, bin by bin: the histogram of the child's sibling. */
export function subtract(parent: Float64Array, child: Float64Array): Float64Array {
  const out = new Float64Array(parent.length);
  for (let i = 0; i < out.length; i++) out[i] = parent[i]! - child[i]!;
  return out;
}

/** The value of a leaf with these sums (before shrinkage). */
export function leafValue(s: Sums, l2: number): number {
  return s.h + l2 > 0 ? -s.g / (s.h + l2) : 0;
}

/**
 * The best split of a node (positive gain, both children allowed), or undefined. `hasMissing`
 * (missingByFeature): where a node has no missing values of the split's feature, they go right
 * if training had some elsewhere, else to the child with more rows (scikit-learn's rules).
 * The candidates are compared as numbers and only the best becomes an object: the client runs
 * this for every new node, hundreds of thresholds each, between a fit's rounds.
 */
export function bestSplit(hist: Float64Array, layout: HistLayout, total: Sums, p: SplitParams, hasMissing?: readonly boolean[]): Split | undefined {
  const best = new Candidate(total, p);
  const t = layout.total;
  for (let f = 0; f < layout.offsets.length; f++) {
    const start = layout.offsets[f]!;
    const nb = layout.nonMissing[f]!;
    const miss = start + nb;
    if (layout.categorical[f]) {
      categoricalSplits(hist, t, start, nb, f, best);
      continue;
    }
    // Missing values right: every threshold, and (with missing values) all non-missing left.
    let lg = 0;
    let lh = 0;
    let ln = 0;
    const mn = hist[2 * t + miss]!;
    const last = mn > 0 ? nb - 1 : nb - 2;
    for (let b = 0; b <= last; b++) {
      lg += hist[start + b]!;
      lh += hist[t + start + b]!;
      ln += hist[2 * t + start + b]!;
      best.consider(f, b, false, lg, lh, ln);
    }
    if (mn === 0) continue;
    // Missing values left.
    [lg, lh, ln] = [hist[miss]!, hist[t + miss]!, mn];
    for (let b = 0; b <= nb - 2; b++) {
      lg += hist[start + b]!;
      lh += hist[t + start + b]!;
      ln += hist[2 * t + start + b]!;
      best.consider(f, b, true, lg, lh, ln);
    }
  }
  const split = best.split();
  if (split && split.leftBins.length === 0) {
    const f = split.feature;
    const missN = hist[2 * t + layout.offsets[f]! + layout.nonMissing[f]!]!;
    if (missN === 0) split.missingLeft = hasMissing?.[f] ? false : split.left.n > split.right.n;
  }
  return split;
}

/** The best candidate so far, as numbers (scikit-learn's gain; a later candidate wins only with a greater gain). */
class Candidate {
  private readonly parentScore: number;
  /** 0 until a candidate with a positive gain is found. */
  private gain = 0;
  private feature = 0;
  private bin = 0;
  private leftBins: number[] = [];
  private missingLeft = false;
  private lg = 0;
  private lh = 0;
  private ln = 0;

  constructor(private readonly total: Sums, private readonly p: SplitParams) {
    this.parentScore = (total.g * total.g) / (total.h + p.l2Regularization);
  }

  /** Left child's sums; `leftBins` (categorical) is read only when this candidate wins. */
  consider(feature: number, bin: number, missingLeft: boolean, lg: number, lh: number, ln: number, leftBins?: () => number[]): void {
    const { total, p } = this;
    const rn = total.n - ln;
    const rh = total.h - lh;
    if (ln < p.minSamplesLeaf || rn < p.minSamplesLeaf || lh < p.minHessianToSplit || rh < p.minHessianToSplit) return;
    const rg = total.g - lg;
    const l2 = p.l2Regularization;
    const gain = (lg * lg) / (lh + l2) + (rg * rg) / (rh + l2) - this.parentScore;
    if (gain > this.gain) {
      this.gain = gain;
      this.feature = feature;
      this.bin = bin;
      this.leftBins = leftBins?.() ?? [];
      this.missingLeft = missingLeft;
      this.lg = lg;
      this.lh = lh;
      this.ln = ln;
    }
  }

  split(): Split | undefined {
    if (this.gain === 0) return undefined;
    const { total, lg, lh, ln } = this;
    return {
      feature: this.feature, bin: this.bin, leftBins: this.leftBins, missingLeft: this.missingLeft, gain: this.gain,
      left: { g: lg, h: lh, n: ln }, right: { g: total.g - lg, h: total.h - lh, n: total.n - ln },
    };
  }
}

/** Categories (the missing bin among them) with enough rows, ordered by g / (h + smooth); each prefix of either order goes left. */
function categoricalSplits(hist: Float64Array, t: number, start: number, nb: number, feature: number, best: Candidate): void {
  const cats: Array<{ bin: number; ratio: number }> = [];
  for (let b = 0; b <= nb; b++) {
    const n = hist[2 * t + start + b]!;
    if (n >= MIN_CAT_SUPPORT || (b === nb && n > 0)) cats.push({ bin: b, ratio: hist[start + b]! / (hist[t + start + b]! + CAT_SMOOTH) });
  }
  cats.sort((a, b) => a.ratio - b.ratio || a.bin - b.bin);
  const most = Math.min(MAX_CAT_THRESHOLD, cats.length - 1);
  for (const order of [cats, [...cats].reverse()]) {
    let lg = 0;
    let lh = 0;
    let ln = 0;
    let missingLeft = false;
    for (let i = 0; i < most; i++) {
      const b = order[i]!.bin;
      lg += hist[start + b]!;
      lh += hist[t + start + b]!;
      ln += hist[2 * t + start + b]!;
      missingLeft ||= b === nb;
      best.consider(feature, -1, missingLeft, lg, lh, ln, () => order.slice(0, i + 1).map((c) => c.bin).sort((x, y) => x - y));
    }
  }
}
