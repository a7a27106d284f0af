// The driver of a boosting fit over shards: bins from a sample, a state per shard (state.ts),
// then tree after tree grown leaf-wise, best gain first (scikit-learn's TreeGrower), from
// histograms the workers sum in a tree reduction whose order depends only on the shard count
// (so the model is the same to the bit on any number of workers). Each round trip costs milliseconds, so a round splits several nodes: the
// best-gain leaves the tree may still split, speculatively; the tree kept is exactly the
// best-first one, and a speculative split that is not reached is merged back into its leaf.
// On a cluster the rounds of a block of iterations run without the driver: a task on each
// worker holding shards runs this same loop over its shards, the workers exchanging their
// shards' histograms among themselves (collective.ts), and the driver gets the block's trees
// and rounds back. Should that fail (a worker lost), the driver replays its journal on every
// shard and grows the rest of the fit round by round itself.
import { createHash } from 'node:crypto';
import { sumFloatTree, type Shards } from '../core/shards.js';
import { MlDataError } from '../errors.js';
import { categoriesOfRuns, edgesOfRuns, mergeRuns, type FeatureBins } from './binning.js';
import type { TreeModel } from './ensemble.js';
import { baseline, type LossKind } from './losses.js';
import { STALE, type AppliedTree, type NodeSplit, type RoundParams } from './rounds.js';
import { bestSplit, histLayout, leafValue, missingByFeature, nodeSums, subtract, type HistLayout, type Split, type SplitParams, type Sums } from './split.js';
import type { InitParams } from './state.js';
import { decodeSample, type SampleParams } from '../kernels/gbdt.js';

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
/**
 * Iterations the first collective block grows, and each later one at most. Between two blocks
 * the client and the workers hand off (the block's result back, the next block's tasks out, the
 * members linked): 50-100 ms when results travelled as tagged values, ~8 % of a 10-iteration
 * block on flights-3m's 2.4 M rows; ~20-60 ms now, growing with the block's result. A
 * worker lost mid-block costs the block's rounds again (the rest of the fit goes round by round
 * anyway): a small block first, while a fit that will fail is likeliest to.
 */
const FIRST_BLOCK_ITERATIONS = 20;
const BLOCK_ITERATIONS = 80;

/** What a Booster's rounds run on: a fit's shards, or a worker's own (collective.ts). */
export type RoundShards = Pick<Shards, 'nShards' | 'sumFloats' | 'mapShard' | 'release' | 'collective'>;

/** A Booster as it stands between rounds, for the workers to go on from (collective.ts). */
export interface BoosterSnapshot {
  loss: LossKind;
  outputs: number;
  bins: FeatureBins[];
  baseline: number[];
  params: BoostParams;
  maxLeaves: number;
  /** Rounds applied so far. */
  step: number;
  pending?: AppliedTree;
  hasMissing?: boolean[];
  validationScores: number[];
}

/** What a block of iterations grown without the driver adds to it. */
export interface GrownBlock {
  trees: TreeModel[];
  rounds: RoundParams[];
  validationScores: number[];
  pending?: AppliedTree;
  hasMissing?: boolean[];
  /** false: early stopping ended the fit. */
  going: boolean;
}

/** The kernel that grows a block on each worker (collective.ts), and what it gets. */
export const GROW_KERNEL = 'ml/gbdt-grow';
export interface GrowParams {
  snapshot: BoosterSnapshot;
  iterations: number;
}

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
  /** Rounds applied before the first in the journal (a Booster resumed from a snapshot). */
  private stepBase = 0;
  private pending: AppliedTree | undefined;
  /** Every shard replays the journal in its next round: a collective failed mid-block. */
  private replayNext = false;
  /** Blocks may run on the workers; false after one failed. */
  private together: boolean;
  private readonly layout: HistLayout;
  private readonly maxNodes: number;
  private readonly speculativeRows: number;
  /** Per feature: missing values among the training rows (from the first root's histogram). */
  private hasMissing: boolean[] | undefined;
  /** Rounds and blocks on the shards now, and whether one ever failed: a task may then still write into a state. */
  private onShards = 0;
  private failed = false;

  private constructor(
    private readonly state: RoundShards, readonly loss: LossKind, readonly outputs: number, readonly bins: FeatureBins[],
    readonly baseline: number[], private readonly params: BoostParams,
    /** Leaves a tree can have: maxLeafNodes, or fewer when the rows cannot fill them. */
    private readonly maxLeaves: number,
  ) {
    this.layout = histLayout(bins);
    this.maxNodes = nodeSlots(maxLeaves);
    this.speculativeRows = SPECULATIVE_ROWS_PER_SHARD * state.nShards;
    this.together = state.collective !== undefined;
  }

  /** A Booster that goes on from `snap` on these shards (a worker's, collective.ts): its journal and trees start empty. */
  static resume(state: RoundShards, snap: BoosterSnapshot): Booster {
    const b = new Booster(state, snap.loss, snap.outputs, snap.bins, snap.baseline, snap.params, snap.maxLeaves);
    b.stepBase = snap.step;
    b.pending = snap.pending;
    b.hasMissing = snap.hasMissing;
    b.validationScores.push(...snap.validationScores);
    return b;
  }

  private snapshot(): BoosterSnapshot {
    return {
      loss: this.loss, outputs: this.outputs, bins: this.bins, baseline: this.baseline, params: this.params, maxLeaves: this.maxLeaves,
      step: this.stepBase + this.journal.length, validationScores: this.validationScores,
      ...(this.pending ? { pending: this.pending } : {}), ...(this.hasMissing ? { hasMissing: this.hasMissing } : {}),
    };
  }

  /** Bins the features, computes the baseline and builds each shard's state. `classes`: 0 for a regressor; `caller` names the estimator in errors. */
  static async start(shards: Shards, loss: LossKind, classes: number, features: string[], params: BoostParams, caller: string): Promise<Booster> {
    const rate = Math.min(1, BIN_SAMPLE / Math.max(1, shards.nRows * (1 - params.validationFraction)));
    const samples = (await Promise.all(Array.from({ length: shards.nShards }, (_, partition) => {
      const p: SampleParams = { partition, seed: params.seed, rate, validationFraction: params.validationFraction, classes };
      return shards.mapShard<Uint8Array>(partition, 'gbdt/sample', p);
    }))).map(decodeSample);
    const n = samples.reduce((a, s) => a + s.n, 0);
    if (n === 0) throw new MlDataError(`${caller}: no training rows to fit on (${shards.nRows} rows${params.validationFraction > 0 ? `, validationFraction ${params.validationFraction} of them held out for early stopping` : ''})`);
    const bins: FeatureBins[] = features.map((name, f) => {
      const runs = mergeRuns(samples.map((s) => s.runs[f]!));
      try {
        return params.categorical[f] ? { kind: 'categorical', categories: categoriesOfRuns(runs, name, params.maxBins) } : { kind: 'numeric', edges: edgesOfRuns(runs, params.maxBins) };
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
   * `together: false`: round by round, never by the workers among themselves (the searches'
   * one iteration at a time, many models at once: one client's collectives take turns).
   */
  async iterate(count: number, options: { together?: boolean } = {}): Promise<boolean> {
    const going = await this.grown(count, options.together ?? true);
    if (going && this.params.validationFraction > 0) {
      // The score after the last tree, as scikit-learn records it: one more round adds the tree.
      const last = await this.round({ output: 0, gradients: true });
      if (last[1]! > 0) this.validationScores.push(-last[0]! / last[1]!);
    }
    return going;
  }

  /** Grows `count` iterations, in blocks on the workers while that works; false when early stopping ended the fit. */
  private async grown(count: number, together: boolean): Promise<boolean> {
    for (let done = 0; done < count;) {
      const n = Math.min(done === 0 ? FIRST_BLOCK_ITERATIONS : BLOCK_ITERATIONS, count - done);
      const block = together && this.together ? await this.grownTogether(n) : undefined;
      if (!(block ? this.adopt(block) : await this.grownHere(n))) return false;
      done += n;
    }
    return true;
  }

  /** A block grown by the workers among themselves; undefined when that failed (the shards then replay the journal). */
  private async grownTogether(iterations: number): Promise<GrownBlock | undefined> {
    const params: GrowParams = { snapshot: this.snapshot(), iterations };
    try {
      const [first, ...others] = (await this.tracked(() => this.state.collective!<Uint8Array>(GROW_KERNEL, params))).map(decodeGrownBlock);
      // Each rank grew the block from the same sums: a difference is a bug, not a lost worker.
      if (others.some((o) => o.digest !== first!.digest)) throw new Error('internal: the workers grew different trees from the same histograms');
      return first!.block;
    } catch (err) {
      if (!isCollectiveError(err)) throw err;
      this.together = false;
      // Tasks that ran may have taken the shards past the journal.
      this.replayNext = (err as Error).name === 'CollectiveFailedError';
      return undefined;
    }
  }

  /** Takes a block grown by the workers as if grown here. */
  private adopt(block: GrownBlock): boolean {
    this.trees.push(...block.trees);
    this.journal.push(...block.rounds);
    this.validationScores.splice(0, this.validationScores.length, ...block.validationScores);
    this.pending = block.pending;
    this.hasMissing = block.hasMissing;
    return block.going;
  }

  /** Grows `count` iterations round by round from here, and what they added (collective.ts sends that back). */
  async grownHere(count: number): Promise<boolean> {
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

  /** What grownHere added to a Booster resumed from a snapshot, and whether it goes on. */
  grownBlock(going: boolean): GrownBlock {
    return {
      trees: this.trees, rounds: this.journal, validationScores: this.validationScores, going,
      ...(this.pending ? { pending: this.pending } : {}), ...(this.hasMissing ? { hasMissing: this.hasMissing } : {}),
    };
  }

  /**
   * Lets the shards' states go. Their buffers go back to the workers' pools for the next fit's
   * states (buffer-pool.ts) when no round runs on them and none ever failed (a cancelled or lost
   * task might still write into one); otherwise they are only released. True when given back.
   */
  async release(): Promise<boolean> {
    const reuse = this.onShards === 0 && !this.failed;
    await this.state.release({ reuse });
    return reuse;
  }

  /** Work on the shards' states, counted in onShards; failed if it throws. */
  private async tracked<T>(work: () => Promise<T>): Promise<T> {
    this.onShards++;
    try {
      return await work();
    } catch (err) {
      this.failed = true;
      throw err;
    } finally {
      this.onShards--;
    }
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
    const params: RoundParams = { ...r, step: this.stepBase + this.journal.length, ...(this.pending ? { apply: this.pending } : {}) };
    let sum: Float64Array;
    try {
      if (this.replayNext) throw new Error(`${STALE}: a collective block failed`);
      sum = await this.tracked(() => this.state.sumFloats('gbdt/round', params));
    } catch (err) {
      if (!isStale(err)) throw err;
      // A shard whose state is not where the journal says replays it; after a failed
      // collective block every shard does (each may have gone further).
      const parts = await this.tracked(() => Promise.all(Array.from({ length: this.state.nShards }, async (_, i) => {
        try {
          if (this.replayNext) throw new Error(STALE);
          return await this.state.mapShard<Uint8Array>(i, 'gbdt/round', params);
        } catch (e) {
          if (!isStale(e)) throw e;
          return await this.state.mapShard<Uint8Array>(i, 'gbdt/round', { ...params, replay: this.journal });
        }
      })));
      sum = sumFloatTree(parts);
    }
    this.journal.push(params);
    this.pending = undefined;
    this.replayNext = false;
    return sum;
  }
}

/** Node ids a tree may use: the leaves' and their parents', and as many again for splits made ahead. */
const nodeSlots = (leaves: number): number => 4 * leaves + 4;

const isStale = (err: unknown): boolean => String((err as Error | undefined)?.message).includes(STALE);

/** Shards.collective's own failures (ClusterShards): the fit goes on round by round. Anything else (an abort) ends it. */
const isCollectiveError = (err: unknown): boolean => ['CollectiveFailedError', 'CollectiveUnavailableError'].includes((err as Error | undefined)?.name ?? '');

/** A rank's result: every rank's digest of its block, and rank 0's block. */
export interface GrownBlockResult {
  digest: string;
  block?: GrownBlock;
}

/** A member's result starts with its block's digest, this many bytes (encodeGrownBlock). */
export const DIGEST_BYTES = 64;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * A member's result as bytes, which travel as they are: the sha256 (hex) of the block's JSON,
 * then, from the member that returns the block, that JSON. JSON has no NaN, Infinity or -0, so
 * the numbers that may be one (thresholds, leaf values, gains, scores) travel as the strings
 * "NaN", "Infinity", "-Infinity" and "-0". The block as a value (tagged JSON, every value
 * walked and copied), digested and then encoded again, took 190-206 ms from an 80-iteration
 * block's last round (1 MB) to the client; as bytes, ~60 ms.
 */
export function encodeGrownBlock(block: GrownBlock, withBlock: boolean): Uint8Array {
  const json = utf8.encode(JSON.stringify(mapBlockNumbers(block, (x) => (Object.is(x, -0) ? '-0' : Number.isFinite(x) ? x : String(x)))));
  const digest = utf8.encode(createHash('sha256').update(json).digest('hex'));
  if (!withBlock) return digest;
  const out = new Uint8Array(DIGEST_BYTES + json.byteLength);
  out.set(digest);
  out.set(json, DIGEST_BYTES);
  return out;
}

/** The digest a member's result starts with (its block, if any, left unread). */
export function grownBlockDigest(bytes: Uint8Array): string {
  if (bytes.byteLength < DIGEST_BYTES) throw new Error(`internal: ${GROW_KERNEL}: a member's result of ${bytes.byteLength} bytes`);
  return fromUtf8.decode(bytes.subarray(0, DIGEST_BYTES));
}

export function decodeGrownBlock(bytes: Uint8Array): GrownBlockResult {
  const digest = grownBlockDigest(bytes);
  if (bytes.byteLength === DIGEST_BYTES) return { digest };
  const wire = JSON.parse(fromUtf8.decode(bytes.subarray(DIGEST_BYTES))) as GrownBlock;
  return { digest, block: mapBlockNumbers(wire, (x) => (typeof x === 'string' ? Number(x) : x)) as GrownBlock };
}

/**
 * The block with f applied to each number that may be non-finite or -0 (a copy: the rest
 * shared). The others are counts, ids, bins and categories: integers, and never -0 (valueRuns
 * makes a -0 category 0).
 */
function mapBlockNumbers(block: GrownBlock, f: (x: number | string) => number | string): unknown {
  const numbers = (xs: ReadonlyArray<number | string>) => xs.map(f);
  const applied = (a: AppliedTree | undefined) => a && { ...a, leaves: a.leaves.map(([node, value]) => [node, f(value)]) };
  return {
    ...block,
    trees: block.trees.map((t) => ({ ...t, threshold: numbers(t.threshold), value: numbers(t.value), gain: numbers(t.gain) })),
    rounds: block.rounds.map((r) => (r.apply ? { ...r, apply: applied(r.apply) } : r)),
    validationScores: numbers(block.validationScores),
    ...(block.pending ? { pending: applied(block.pending) } : {}),
  };
}

/** scikit-learn's rule: none of the last n scores beat the one before them by more than tol. */
export function shouldStop(scores: readonly number[], n: number, tol: number): boolean {
  if (scores.length <= n) return false;
  const reference = scores[scores.length - n - 1]! + tol;
  return !scores.slice(-n).some((s) => s > reference);
}
