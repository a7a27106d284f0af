// The driver of a boosting fit over shards: bins from a sample, a state per shard (state.ts),
// then tree after tree grown leaf-wise, best gain first (scikit-learn's TreeGrower), from
// histograms the workers sum in a tree reduction whose order depends only on the shard count
// (so the model is the same to the bit on any number of workers). Each round trip costs milliseconds, so a round splits several nodes: the
// best-gain leaves the tree may still split, speculatively; the tree kept is exactly the
// best-first one, and a speculative split that is not reached is merged back into its leaf.
import { sumFloatTree, type Shards } from '../core/shards.js';
import { MlDataError } from '../errors.js';
import { categoriesOf, numericEdges, type FeatureBins } from './binning.js';
import type { TreeModel } from './ensemble.js';
import { baseline, type LossKind } from './losses.js';
import { STALE, type AppliedTree, type NodeSplit, type RoundParams } from './rounds.js';
import { bestSplit, histLayout, leafValue, missingByFeature, nodeSums, subtract, type HistLayout, type Split, type SplitParams, type Sums } from './split.js';
import type { InitParams } from './state.js';
import type { SampleParams, SampleResult } from '../kernels/gbdt.js';

export interface BoostParams extends SplitParams {
  learningRate: number;
  /** null: as many as minSamplesLeaf allows. */
  maxLeafNodes: number | null;
  /** Edges from the root to the deepest leaf; null: no limit. */
  maxDepth: number | null;
  maxBins: number;
  /** Per feature: treated as categories. */
  categorical: boolean[];
  /** The share of rows held out to score each iteration (0: no early stopping). */
  validationFraction: number;
  nIterNoChange: number;
  tol: number;
  seed: number;
}

/**
 * Rows a round may split ahead of the tree reaching them, per shard: about what a shard's
 * kernel passes over in the few milliseconds a round trip costs (~12 ns a row), so a guess
 * that is not used costs no more than the round it may save.
 */
const SPECULATIVE_ROWS_PER_SHARD = 500_000;
/** Rows the bin edges are found from (scikit-learn's subsample). */
const BIN_SAMPLE = 200_000;

interface Node {
  id: number;
  depth: number;
  sums: Sums;
  hist?: Float64Array;
  split?: Split;
  children?: [Node, Node];
  /** The split as a round made it (set with children). */
  made?: NodeSplit;
  /** Its split is part of the tree (not only speculated). */
  committed?: boolean;
}

export class Booster {
  readonly trees: TreeModel[] = [];
  /** -(validation loss) before each iteration and after the last (with early stopping). */
  readonly validationScores: number[] = [];
  private readonly journal: RoundParams[] = [];
  private pending: AppliedTree | undefined;
  private readonly layout: HistLayout;
  private readonly maxNodes: number;
  private readonly speculativeRows: number;
  /** Per feature: missing values among the training rows (from the first root's histogram). */
  private hasMissing: boolean[] | undefined;

  private constructor(
    private readonly state: Shards, readonly loss: LossKind, readonly outputs: number, readonly bins: FeatureBins[],
    readonly baseline: number[], private readonly params: BoostParams,
    /** Leaves a tree can have: maxLeafNodes, or fewer when the rows cannot fill them. */
    private readonly maxLeaves: number,
  ) {
    this.layout = histLayout(bins);
    this.maxNodes = nodeSlots(maxLeaves);
    this.speculativeRows = SPECULATIVE_ROWS_PER_SHARD * state.nShards;
  }

  /** Bins the features, computes the baseline and builds each shard's state. `classes`: 0 for a regressor; `caller` names the estimator in errors. */
  static async start(shards: Shards, loss: LossKind, classes: number, features: string[], params: BoostParams, caller: string): Promise<Booster> {
    const rate = Math.min(1, BIN_SAMPLE / Math.max(1, shards.nRows * (1 - params.validationFraction)));
    const samples = await Promise.all(Array.from({ length: shards.nShards }, (_, partition) => {
      const p: SampleParams = { partition, seed: params.seed, rate, validationFraction: params.validationFraction, classes };
      return shards.mapShard<SampleResult>(partition, 'gbdt/sample', p);
    }));
    const n = samples.reduce((a, s) => a + s.n, 0);
    if (n === 0) throw new MlDataError(`${caller}: no training rows to fit on (${shards.nRows} rows${params.validationFraction > 0 ? `, validationFraction ${params.validationFraction} of them held out for early stopping` : ''})`);
    const bins: FeatureBins[] = features.map((name, f) => {
      const values = new Float64Array(samples.reduce((a, s) => a + s.m, 0));
      let at = 0;
      for (const s of samples) {
        values.set(s.values.subarray(f * s.m, (f + 1) * s.m), at);
        at += s.m;
      }
      try {
        return params.categorical[f] ? { kind: 'categorical', categories: categoriesOf(values, name, params.maxBins) } : { kind: 'numeric', edges: numericEdges(values, params.maxBins) };
      } catch (err) {
        throw new MlDataError(`${caller}: ${(err as Error).message}`);
      }
    });
    const classCounts = Array.from({ length: classes }, (_, c) => samples.reduce((a, s) => a + s.classCounts[c]!, 0));
    const base = baseline(loss, { n, sumY: samples.reduce((a, s) => a + s.sumY, 0), classCounts });
    const outputs = loss === 'multinomial' ? classes : 1;
    if (!base.every(Number.isFinite)) throw new MlDataError(`${caller}: y has infinite values; the baseline is ${base.join(', ')}`);
    // A leaf keeps minSamplesLeaf rows: more leaves than that allows are never made (nor their slots).
    const maxLeaves = Math.max(2, Math.min(params.maxLeafNodes ?? Infinity, Math.floor(n / params.minSamplesLeaf)));
    const init: InitParams = { bins, loss, outputs, baseline: base, validationFraction: params.validationFraction, seed: params.seed, maxNodes: nodeSlots(maxLeaves) };
    return new Booster(shards.derive('gbdt/init', init, { pinned: true }), loss, outputs, bins, base, params, maxLeaves);
  }

  /** Iterations made (trees / outputs). */
  get iterations(): number {
    return this.trees.length / this.outputs;
  }

  /**
   * Grows `count` more iterations; false when early stopping ended the fit first. With early
   * stopping, validationScores then has a score before each iteration and one after the last.
   */
  async iterate(count: number): Promise<boolean> {
    const going = await this.grown(count);
    if (going && this.params.validationFraction > 0) {
      // The score after the last tree, as scikit-learn records it: one more round adds the tree.
      const last = await this.round({ output: 0, gradients: true });
      if (last[1]! > 0) this.validationScores.push(-last[0]! / last[1]!);
    }
    return going;
  }

  private async grown(count: number): Promise<boolean> {
    for (let i = 0; i < count; i++) {
      for (let output = 0; output < this.outputs; output++) {
        const first = await this.round({ output, root: true, gradients: output === 0 });
        if (output === 0 && this.params.validationFraction > 0 && first[1]! > 0) {
          this.validationScores.push(-first[0]! / first[1]!);
          if (shouldStop(this.validationScores, this.params.nIterNoChange, this.params.tol)) return false;
        }
        const root: Node = { id: 0, depth: 0, sums: nodeSums(first.subarray(2), this.layout), hist: first.slice(2) };
        this.hasMissing ??= missingByFeature(root.hist!, this.layout);
        await this.grow(root, output);
      }
    }
    return true;
  }

  /** Lets the shards' states go. */
  async release(): Promise<void> {
    await this.state.release();
  }

  private canSplit(node: Node): boolean {
    const { maxDepth, minSamplesLeaf } = this.params;
    return (maxDepth === null || node.depth < maxDepth) && node.sums.n >= 2 * minSamplesLeaf;
  }

  private evaluate(node: Node): void {
    if (this.canSplit(node)) node.split = bestSplit(node.hist!, this.layout, node.sums, this.params, this.hasMissing);
    if (!node.split) node.hist = undefined;
  }

  private async grow(root: Node, output: number): Promise<void> {
    this.evaluate(root);
    // heap: the tree's leaves that can split; open: every node known with a split not yet made
    // (speculative ones included), which a round may split ahead of being reached.
    const heap: Node[] = root.split ? [root] : [];
    let open: Node[] = [...heap];
    let nextId = 1;
    let leaves = 1;
    const byGain = (a: Node, b: Node) => b.split!.gain - a.split!.gain || a.id - b.id;
    while (leaves < this.maxLeaves && heap.length > 0) {
      heap.sort(byGain);
      const top = heap[0]!;
      if (top.children) {
        heap.shift();
        top.committed = true;
        leaves++;
        for (const child of top.children) if (child.split) heap.push(child);
        continue;
      }
      // One round splits the leaf the tree splits next and, within the leaves it may still add,
      // the node ids left and a number of rows, the best-gain other nodes known.
      const remaining = this.maxLeaves - leaves;
      const spare = Math.floor((this.maxNodes - nextId) / 2) - remaining;
      const most = Math.min(remaining, 1 + Math.max(0, spare));
      const expand = [top];
      let rows = 0;
      for (const node of open.filter((n) => n !== top).sort(byGain)) {
        if (expand.length >= most || rows + node.sums.n > this.speculativeRows) break;
        expand.push(node);
        rows += node.sums.n;
      }
      const splits = expand.map((node): NodeSplit => {
        const s = node.split!;
        const ids = [nextId++, nextId++] as const;
        return { node: node.id, feature: s.feature, bin: s.bin, leftBins: s.leftBins, missingLeft: s.missingLeft, left: ids[0], right: ids[1], build: s.left.n <= s.right.n ? 0 : 1 };
      });
      const result = await this.round({ output, splits });
      const width = this.layout.total * 3;
      expand.forEach((node, i) => {
        const built = result.slice(2 + i * width, 2 + (i + 1) * width);
        const other = subtract(node.hist!, built);
        const sp = splits[i]!;
        const [lh, rh] = sp.build === 0 ? [built, other] : [other, built];
        const child = (id: number, hist: Float64Array): Node => ({ id, depth: node.depth + 1, sums: nodeSums(hist, this.layout), hist });
        node.children = [child(sp.left, lh), child(sp.right, rh)];
        node.made = sp;
        node.hist = undefined;
        node.children.forEach((c) => this.evaluate(c));
      });
      open = [...open.filter((n) => !n.children), ...expand.flatMap((n) => n.children!.filter((c) => c.split))];
    }
    this.finishTree(root, output);
  }

  /** The committed tree as a TreeModel, and as the next round applies it (in node ids). */
  private finishTree(root: Node, output: number): void {
    const { learningRate, l2Regularization } = this.params;
    const t: TreeModel = { output, feature: [], threshold: [], leftCategories: [], missingLeft: [], left: [], right: [], value: [], gain: [], count: [] };
    const applied: AppliedTree = { output, splits: [], leaves: [] };
    const add = (node: Node): number => {
      const at = t.feature.length;
      t.feature.push(-1);
      t.threshold.push(NaN);
      t.leftCategories.push(null);
      t.missingLeft.push(false);
      t.left.push(-1);
      t.right.push(-1);
      t.value.push(0);
      t.gain.push(0);
      t.count.push(node.sums.n);
      if (node.committed) {
        const s = node.split!;
        const f = s.feature;
        const bins = this.bins[f]!;
        t.feature[at] = f;
        // The last non-missing bin: every value goes left, only missing values right.
        if (bins.kind === 'numeric') t.threshold[at] = s.bin < bins.edges.length ? bins.edges[s.bin]! : Infinity;
        else t.leftCategories[at] = s.leftBins.filter((b) => b < bins.categories.length).map((b) => bins.categories[b]!);
        t.missingLeft[at] = s.missingLeft;
        t.gain[at] = s.gain;
        const [l, r] = node.children!;
        applied.splits.push(node.made!);
        t.left[at] = add(l);
        t.right[at] = add(r);
      } else {
        const value = leafValue(node.sums, l2Regularization) * learningRate;
        t.value[at] = value;
        applied.leaves.push([node.id, value]);
      }
      return at;
    };
    add(root);
    this.trees.push(t);
    this.pending = applied;
  }

  /**
   * One round on every shard's state, the histograms summed by the workers' tree reduction; it
   * first adds the tree finished since the last round, if any, to the raw scores. A
   * stale state (rebuilt after its worker was lost) fails the round: then each shard runs it
   * alone, replaying the journal first where its state is behind (those whose round went
   * through are behind by it now), and the results are added up in the same order.
   */
  private async round(r: Omit<RoundParams, 'step' | 'apply'>): Promise<Float64Array> {
    const params: RoundParams = { ...r, step: this.journal.length, ...(this.pending ? { apply: this.pending } : {}) };
    let sum: Float64Array;
    try {
      sum = await this.state.sumFloats('gbdt/round', params);
    } catch (err) {
      if (!isStale(err)) throw err;
      const parts = await Promise.all(Array.from({ length: this.state.nShards }, async (_, i) => {
        try {
          return await this.state.mapShard<Uint8Array>(i, 'gbdt/round', params);
        } catch (e) {
          if (!isStale(e)) throw e;
          return await this.state.mapShard<Uint8Array>(i, 'gbdt/round', { ...params, replay: this.journal });
        }
      }));
      sum = sumFloatTree(parts);
    }
    this.journal.push(params);
    this.pending = undefined;
    return sum;
  }
}

/** Node ids a tree may use: the leaves' and their parents', and as many again for splits made ahead. */
const nodeSlots = (leaves: number): number => 4 * leaves + 4;

const isStale = (err: unknown): boolean => String((err as Error | undefined)?.message).includes(STALE);

/** scikit-learn's rule: none of the last n scores beat the one before them by more than tol. */
export function shouldStop(scores: readonly number[], n: number, tol: number): boolean {
  if (scores.length <= n) return false;
  const reference = scores[scores.length - n - 1]! + tol;
  return !scores.slice(-n).some((s) => s > reference);
}
