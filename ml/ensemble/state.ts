// A boosting fit's working state on one shard, kept on the worker between rounds: the rows'
// bins, raw scores, gradients and their order by tree node. It is one SharedArrayBuffer in the
// shard format (a 1 x L "matrix"), so ml/map hands it to a task thread as shared memory, and
// each round updates it in place instead of sending rows anywhere. Its first slots count the
// rounds applied (`step`): a round for another step finds the state stale (a copy made before
// the last rounds, or built again after its worker was lost) and the fit replays its journal.
// A round in progress marks it -1, so one cut short (its task cancelled) is stale too.
// It is made in a shared WebAssembly.Memory, with room for what the round's WebAssembly loops
// write besides the state (wasm-loops.ts): a state without its memory (a copy) runs the
// JavaScript loops.
import { allocShard } from '../core/shared-shard.js';
import type { Shard } from '../core/matrix.js';
import { binColumn, binCount, type FeatureBins } from './binning.js';
import { LOSS_BY_CODE, LOSS_CODES, type LossKind } from './losses.js';
import { binOffsets } from './split.js';
import { wasmLoops, type WasmLoops } from './wasm-loops.js';

const MAGIC = 0x6b64_4742; // "kdGB"
/** Float64 slots before the baseline: magic, step, rows, training rows, validation rows, features, outputs, node slots, loss. */
const META = 9;

export interface InitParams {
  bins: FeatureBins[];
  loss: LossKind;
  /** Outputs (k): classes for multinomial, else 1. */
  outputs: number;
  baseline: number[];
  /** The share of rows held out for early stopping (0: none), chosen by rowUniform(seed, partition, row). */
  validationFraction: number;
  seed: number;
  /** Tree node ids a round may use (the fit's driver numbers them). */
  maxNodes: number;
}

/** Views over a state's regions. */
export interface State {
  meta: Float64Array;
  n: number;
  nTrain: number;
  nVal: number;
  p: number;
  k: number;
  maxNodes: number;
  loss: LossKind;
  baseline: Float64Array;
  F: Float64Array;
  /**
   * A binary state's e^-F for each row (empty for other losses), kept up to date as trees are
   * added (a multiplication by e^-value): the gradients then need no exponential per row.
   */
  E: Float64Array;
  g: Float64Array;
  h: Float64Array;
  y: Float64Array;
  /** Per feature: non-missing bins (the missing bin's index). */
  nonMissing: Int32Array;
  /** Node id -> [start, end) of its rows in trainRows. */
  nodeStart: Int32Array;
  nodeEnd: Int32Array;
  /** The training rows, grouped by the node they are in. */
  trainRows: Uint32Array;
  valRows: Uint32Array;
  /** Row-major: row r's bin of feature f at r * p + f. */
  binned: Uint8Array;
  /** Each feature's first slot in a histogram (split.ts binOffsets), and the slots in all. */
  offsets: Int32Array;
  total: number;
  /** Room a round works in: the rows a split sends right, the bins that go left, a histogram (3 x total: the WebAssembly build's, slot by slot). */
  scratch: Uint32Array;
  goes: Uint8Array;
  hist: Float64Array;
  /** The WebAssembly loops over this state's memory; undefined for a state without one (a copy). */
  loops?: WasmLoops;
  /** Byte offsets of the regions in the memory, for the loops. */
  at: Record<'F' | 'E' | 'y' | 'g' | 'h' | 'trainRows' | 'valRows' | 'binned' | 'offsets' | 'scratch' | 'goes' | 'hist', number>;
}

/** A uniform [0, 1) draw for row `row` of partition `partition`, the same wherever it runs. */
export function rowUniform(seed: number, partition: number, row: number, stream: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(partition + 1, 0xc2b2ae35) ^ Math.imul(stream + 7, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ row;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

const VALIDATION_STREAM = 1;
export const SAMPLE_STREAM = 2;

/** Whether row `row` of partition `partition` is held out for early stopping (a share `fraction` of the rows). */
export function heldOut(seed: number, partition: number, row: number, fraction: number): boolean {
  return fraction > 0 && rowUniform(seed, partition, row, VALIDATION_STREAM) < fraction;
}

function layout(n: number, nTrain: number, nVal: number, p: number, k: number, maxNodes: number, total: number, loss: LossKind) {
  const words = (bytes: number) => Math.ceil(bytes / 8);
  const sizes = {
    meta: META + k, F: k * n, E: loss === 'binary' ? n : 0, g: k * n, h: k * n, y: n, nonMissing: words(4 * p), nodes: words(8 * maxNodes),
    trainRows: words(4 * nTrain), valRows: words(4 * nVal), binned: words(n * p),
    offsets: words(4 * p), scratch: words(4 * nTrain), goes: words(256), hist: 3 * total,
  };
  let at = 0;
  const offsets = {} as Record<keyof typeof sizes, number>;
  for (const [name, size] of Object.entries(sizes) as Array<[keyof typeof sizes, number]>) {
    offsets[name] = at;
    at += size;
  }
  return { offsets, length: at };
}

/** The state of a fresh fit on this shard: bins, baseline scores, validation rows held out. */
export function initState(params: InitParams, shard: Shard, partition: number): Shard {
  const { rows: n, cols: p, data } = shard.x;
  if (!shard.y) throw new Error('internal: a boosting state needs a shard with y');
  if (params.bins.length !== p) throw new Error(`internal: ${params.bins.length} feature bins for ${p} features`);
  const isVal = new Uint8Array(n);
  let nVal = 0;
  for (let r = 0; r < n; r++) {
    if (heldOut(params.seed, partition, r, params.validationFraction)) {
      isVal[r] = 1;
      nVal++;
    }
  }
  const k = params.outputs;
  const { total } = binOffsets(params.bins.map(binCount));
  const { length } = layout(n, n - nVal, nVal, p, k, params.maxNodes, total, params.loss);
  const out = allocShard(1, length, false, { wasm: true });
  out.x.data.set([MAGIC, 0, n, n - nVal, nVal, p, k, params.maxNodes, LOSS_CODES[params.loss], ...params.baseline]);
  const counts = view(out).nonMissing;
  params.bins.forEach((b, f) => { counts[f] = binCount(b); });
  // A view places the regions after the histogram by its size, known from the bin counts: only now.
  const s = view(out);
  s.offsets.set(binOffsets(s.nonMissing).offsets);
  params.bins.forEach((bins, f) => binColumn(bins, data, n, p, f, s.binned));
  s.y.set(shard.y);
  let v = 0;
  for (let r = 0; r < n; r++) if (isVal[r]) s.valRows[v++] = r;
  resetState(s);
  return out;
}

/**
 * Back to the state initState made: raw scores at the baseline, the training rows in their
 * order (every row not held out, ascending), no round applied. What a replay starts from,
 * whatever a torn or newer round left.
 */
export function resetState(s: State): void {
  for (let c = 0; c < s.k; c++) s.F.fill(s.baseline[c]!, c * s.n, (c + 1) * s.n);
  s.E.fill(Math.exp(-s.baseline[0]!));
  naturalOrder(s);
  s.meta[1] = 0;
}

/**
 * The training rows back in row order. A tree's stable partitions leave each node's rows in the
 * order of the last tree's leaves, so after a few trees they are all but shuffled, and every
 * pass reads the rows' scores, gradients and bins at random; in row order those reads are
 * sequential (a tree's first round took 2.5 times longer without this).
 */
export function naturalOrder(s: State): void {
  let t = 0;
  let v = 0;
  for (let r = 0; r < s.n; r++) {
    if (v < s.nVal && s.valRows[v] === r) v++;
    else s.trainRows[t++] = r;
  }
}

/** The regions of a state made by initState (a view: writes go to the shared buffer). */
export function view(shard: Shard): State {
  const all = shard.x.data;
  if (all[0] !== MAGIC) throw new Error('internal: not a boosting state');
  const [n, nTrain, nVal, p, k, maxNodes, loss] = Array.from(all.subarray(2, META));
  const lossKind = LOSS_BY_CODE[loss!]!;
  const nonMissing = new Int32Array(all.buffer, all.byteOffset + layout(n!, nTrain!, nVal!, p!, k!, maxNodes!, 0, lossKind).offsets.nonMissing * 8, p!);
  const { total } = binOffsets(nonMissing);
  const { offsets } = layout(n!, nTrain!, nVal!, p!, k!, maxNodes!, total, lossKind);
  const f64 = (at: number, len: number) => all.subarray(at, at + len);
  const bytes = (at: number) => all.byteOffset + at * 8;
  const buffer = all.buffer;
  // The loops address the state by its byte offsets in the memory: only a state in its own memory's buffer.
  const loops = shard.memory && shard.memory.buffer === buffer ? wasmLoops(shard.memory) : undefined;
  return {
    meta: all.subarray(0, META), n: n!, nTrain: nTrain!, nVal: nVal!, p: p!, k: k!, maxNodes: maxNodes!, loss: lossKind,
    baseline: f64(META, k!),
    F: f64(offsets.F, k! * n!), E: f64(offsets.E, lossKind === 'binary' ? n! : 0), g: f64(offsets.g, k! * n!), h: f64(offsets.h, k! * n!), y: f64(offsets.y, n!),
    nonMissing: new Int32Array(buffer, bytes(offsets.nonMissing), p!),
    nodeStart: new Int32Array(buffer, bytes(offsets.nodes), maxNodes!),
    nodeEnd: new Int32Array(buffer, bytes(offsets.nodes) + 4 * maxNodes!, maxNodes!),
    trainRows: new Uint32Array(buffer, bytes(offsets.trainRows), nTrain!),
    valRows: new Uint32Array(buffer, bytes(offsets.valRows), nVal!),
    binned: new Uint8Array(buffer, bytes(offsets.binned), n! * p!),
    offsets: new Int32Array(buffer, bytes(offsets.offsets), p!), total,
    scratch: new Uint32Array(buffer, bytes(offsets.scratch), nTrain!),
    goes: new Uint8Array(buffer, bytes(offsets.goes), 256),
    hist: f64(offsets.hist, 3 * total),
    ...(loops ? { loops } : {}),
    at: {
      F: bytes(offsets.F), E: bytes(offsets.E), y: bytes(offsets.y), g: bytes(offsets.g), h: bytes(offsets.h), trainRows: bytes(offsets.trainRows), valRows: bytes(offsets.valRows), binned: bytes(offsets.binned), offsets: bytes(offsets.offsets),
      scratch: bytes(offsets.scratch), goes: bytes(offsets.goes), hist: bytes(offsets.hist),
    },
  };
}
