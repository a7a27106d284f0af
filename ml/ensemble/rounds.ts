// One round of a boosting fit on one shard's state (state.ts), run where the state is: add the
// last tree's leaf values to the raw scores, compute the gradients when an iteration starts,
// start a tree (all training rows in node 0), split nodes (a stable partition of each node's
// rows), and build the histograms the driver asked for. Only histograms come back, as bytes:
// [validation loss sum, validation rows, then each histogram in the order asked].
import type { Shard } from '../core/matrix.js';
import { binaryGradients, gradients, lossSum } from './losses.js';
import { naturalOrder, resetState, view, type State } from './state.js';
import { buildLoop, partitionRows, type BuildLoop } from './hist-loops.js';

/** A node split as the driver decided it, in its node ids. */
export interface NodeSplit {
  node: number;
  feature: number;
  /** Numeric: bins <= bin go left. */
  bin: number;
  /** Categorical: the bins that go left (empty for numeric). */
  leftBins: number[];
  missingLeft: boolean;
  left: number;
  right: number;
  /** Build the histogram of the left child (0) or the right (1): the smaller one; the driver subtracts for the other. */
  build: 0 | 1;
}

/** A finished tree, in the driver's node ids: its splits, and its leaves' values (shrunk). */
export interface AppliedTree {
  output: number;
  splits: NodeSplit[];
  leaves: Array<[node: number, value: number]>;
}

export interface RoundParams {
  /** Rounds applied to the state before this one. */
  step: number;
  /** Whose gradients the histograms sum (the class of a multinomial tree). */
  output: number;
  apply?: AppliedTree;
  /** An iteration starts: gradients of every output from the raw scores, and the validation loss. */
  gradients?: boolean;
  /** A tree starts: every training row in node 0, and node 0's histogram. */
  root?: boolean;
  splits?: NodeSplit[];
  /** The rounds before this one, when the state is stale: it is reset and they are applied again (no histograms). */
  replay?: RoundParams[];
}

/** The text a stale state's error carries, which the driver looks for. */
export const STALE = 'gbdt-stale-state';

export function runRound(params: RoundParams, shard: Shard): Uint8Array {
  const s = view(shard);
  if (params.replay) {
    resetState(s);
    for (const r of params.replay) apply(s, r, false);
  }
  if (s.meta[1] !== params.step) {
    const had = s.meta[1] === IN_PROGRESS ? 'a round cut short' : `had ${s.meta[1]} rounds`;
    throw new Error(`${STALE}: this shard's boosting state ${had}, the fit ${params.step} (a copy from before, rebuilt after its worker was lost, or its task cancelled mid-round)`);
  }
  return new Uint8Array(apply(s, params, true).buffer);
}

/** The step of a state whose round has not finished. */
const IN_PROGRESS = -1;

function apply(s: State, r: RoundParams, histograms: boolean): Float64Array {
  const step = s.meta[1]!;
  s.meta[1] = IN_PROGRESS;
  const { total } = s;
  // A copy of the offsets: a cached loop may keep them, and with them the state's buffer.
  const build = s.loops ? wasmBuild(s, r.output) : buildLoop(Int32Array.from(s.offsets));
  const built = (r.root ? 1 : 0) + (r.splits?.length ?? 0);
  const out = new Float64Array(histograms ? 2 + built * total * 3 : 0);
  if (r.apply) applyTree(s, r.apply);
  // A binary tree's first round: gradients, rows in order and the root's histogram in one pass.
  const rootPass = histograms && r.gradients && r.root && r.output === 0 && s.loss === 'binary' && fusedRoot(s);
  if (r.gradients) {
    if (!rootPass) {
      if (s.loss !== 'binary') gradients(s.loss, s.k, s.n, s.F, s.y, s.g, s.h);
      else if (s.loops) s.loops.logistic(s.at.E, s.at.y, s.at.g, s.at.h, s.n);
      else binaryGradients(s.n, s.E, s.y, s.g, s.h);
    }
    if (histograms) {
      out[0] = lossSum(s.loss, s.k, s.n, s.F, s.y, s.valRows);
      out[1] = s.nVal;
    }
  }
  // Checked: the WebAssembly loops would read a neighbouring region of the state, not fail.
  if (!(Number.isInteger(r.output) && r.output >= 0 && r.output < s.k)) throw new Error(`internal: output ${r.output} of a state with ${s.k}`);
  const g = s.g.subarray(r.output * s.n, (r.output + 1) * s.n);
  const h = s.h.subarray(r.output * s.n, (r.output + 1) * s.n);
  // Each histogram: three blocks of `total` (split.ts); a replay builds none.
  let at = 2;
  const next = (): Float64Array[] => {
    const blocks = [0, 1, 2].map((j) => out.subarray(at + j * total, at + (j + 1) * total));
    at += 3 * total;
    return blocks;
  };
  if (r.root) {
    if (!rootPass) naturalOrder(s);
    s.nodeStart[0] = 0;
    s.nodeEnd[0] = s.nTrain;
    if (histograms) {
      const [hg, hh, hc] = next();
      if (rootPass) copyHistogram(s, hg!, hh!, hc!);
      else build(s.trainRows, 0, s.nTrain, s.binned, g, h, hg!, hh!, hc!);
    }
  }
  for (const split of r.splits ?? []) {
    if (![split.node, split.left, split.right].every((id) => Number.isInteger(id) && id >= 0 && id < s.maxNodes)) throw new Error(`internal: node ${Math.max(split.node, split.left, split.right)} past the state's ${s.maxNodes} node slots`);
    if (!(Number.isInteger(split.feature) && split.feature >= 0 && split.feature < s.p)) throw new Error(`internal: feature ${split.feature} of a state with ${s.p}`);
    const start = s.nodeStart[split.node]!;
    const end = s.nodeEnd[split.node]!;
    // The bins that go left and the rows that go right, in the state's own room (both loops).
    leftTest(s, split, s.goes);
    const l = s.loops
      ? s.loops.partition(s.at.trainRows, start, end, s.at.binned, s.p, split.feature, s.at.goes, s.at.scratch)
      : partitionRows(s.trainRows, start, end, s.binned, s.p, split.feature, s.goes, s.scratch);
    s.nodeStart[split.left] = start;
    s.nodeEnd[split.left] = l;
    s.nodeStart[split.right] = l;
    s.nodeEnd[split.right] = end;
    // The smaller child's histogram, over its rows now side by side.
    if (histograms) {
      const [hg, hh, hc] = next();
      const [from, to] = split.build === 0 ? [start, l] : [l, end];
      build(s.trainRows, from, to, s.binned, g, h, hg!, hh!, hc!);
    }
  }
  s.meta[1] = step + 1;
  return out;
}

/**
 * The histogram loop in WebAssembly, as a BuildLoop: it fills the state's own histogram (in its
 * memory, each slot's gradient, hessian and count side by side) and copies it out as three
 * blocks. Called with the state's rows and output gradients only.
 */
function wasmBuild(s: State, output: number): BuildLoop {
  const { at, loops } = s;
  const [g, h] = [at.g + output * s.n * 8, at.h + output * s.n * 8];
  return (_rows, start, end, _binned, _g, _h, hg, hh, hc) => {
    s.hist.fill(0);
    loops!.build(at.trainRows, start, end, at.binned, s.p, at.offsets, g, h, at.hist);
    copyHistogram(s, hg, hh, hc);
  };
}

/** The WebAssembly logistic_root pass over a binary state (false where it has none: the three loops run instead). */
function fusedRoot(s: State): boolean {
  const { at, loops } = s;
  if (!loops) return false;
  s.hist.fill(0);
  return loops.logistic_root(at.E, at.y, at.g, at.h, s.n, at.valRows, s.nVal, at.trainRows, at.binned, s.p, at.offsets, at.hist) === 1;
}

/** The state's histogram (slot by slot) as the three blocks the driver reads. */
function copyHistogram(s: State, hg: Float64Array, hh: Float64Array, hc: Float64Array): void {
  const { total, hist } = s;
  for (let o = 0; o < total; o++) {
    hg[o] = hist[3 * o]!;
    hh[o] = hist[3 * o + 1]!;
    hc[o] = hist[3 * o + 2]!;
  }
}

/** goes[bin]: whether a row in that bin of the split's feature goes left (written into `goes`). */
function leftTest(s: State, split: NodeSplit, goes: Uint8Array = new Uint8Array(256)): Uint8Array {
  const missing = s.nonMissing[split.feature]!;
  goes.fill(0);
  if (split.leftBins.length > 0) for (const b of split.leftBins) goes[b] = 1;
  else goes.fill(1, 0, split.bin + 1);
  goes[missing] = split.missingLeft ? 1 : 0;
  return goes;
}

/**
 * Where a binary state's E = e^-F is kept by multiplying: outside it (a product that reached 0 or
 * infinity would stay there whatever F does next, and 0 times infinity is NaN), E is computed
 * from F again. 2^+-1000: F within +-693.
 */
const E_RANGE = [2 ** -1000, 2 ** 1000] as const;
/** Whether a product e is within E_RANGE (false for NaN); hist-loops.c's add_leaf_binary counts the rows where it is not. */
const inERange = (e: number): boolean => e >= E_RANGE[0] && e <= E_RANGE[1];

/** A binary state's E of row r after F[r] += value: E[r] times e^-value, or e^-F[r] afresh outside E_RANGE (as add_leaf_binary and the fix-up after it). */
function nextE(E: Float64Array, F: Float64Array, r: number, factor: number): number {
  const e = E[r]! * factor;
  return inERange(e) ? e : Math.exp(-F[r]!);
}

/**
 * Adds the tree's leaf values to its output's raw scores: training rows by their node, validation
 * rows down the tree. A binary state's E = e^-F is multiplied by e^-value alongside (nextE).
 */
function applyTree(s: State, tree: AppliedTree): void {
  // Checked: add_leaf would write into a neighbouring region of the state, not fail.
  if (!(Number.isInteger(tree.output) && tree.output >= 0 && tree.output < s.k)) throw new Error(`internal: a tree of output ${tree.output} applied to a state with ${s.k}`);
  const F = s.F.subarray(tree.output * s.n, (tree.output + 1) * s.n);
  const { E } = s;
  const binary = s.loss === 'binary';
  const leaves = new Map(tree.leaves.map(([node, value]) => [node, { value, factor: binary ? Math.exp(-value) : 1 }]));
  for (const [node, { value, factor }] of leaves) {
    const [start, end] = [s.nodeStart[node]!, s.nodeEnd[node]!];
    if (s.loops && binary) {
      // Rows whose product left E_RANGE: computed again here (the module has no exp), as nextE does.
      if (s.loops.add_leaf_binary(s.at.F, s.at.E, s.at.trainRows, start, end, value, factor) > 0) {
        for (let i = start; i < end; i++) {
          const r = s.trainRows[i]!;
          if (!inERange(E[r]!)) E[r] = Math.exp(-F[r]!);
        }
      }
    } else if (s.loops) s.loops.add_leaf(s.at.F + tree.output * s.n * 8, s.at.trainRows, start, end, value);
    else {
      for (let i = start; i < end; i++) {
        const r = s.trainRows[i]!;
        F[r]! += value;
        if (binary) E[r] = nextE(E, F, r, factor);
      }
    }
  }
  if (s.nVal === 0) return;
  const bySplit = new Map(tree.splits.map((sp) => [sp.node, { split: sp, goes: leftTest(s, sp) }]));
  for (let j = 0; j < s.nVal; j++) {
    const r = s.valRows[j]!;
    let node = 0;
    for (let at = bySplit.get(node); at; at = bySplit.get(node)) node = at.goes[s.binned[r * s.p + at.split.feature]!] ? at.split.left : at.split.right;
    const leaf = leaves.get(node);
    if (!leaf) throw new Error(`internal: a tree's node ${node} is neither split nor a leaf`);
    F[r]! += leaf.value;
    if (binary) E[r] = nextE(E, F, r, leaf.factor);
  }
}
