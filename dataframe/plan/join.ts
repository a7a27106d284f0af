// A join lowered to tasks, as join-strategy.ts decides: the small side made into one partition
// that every partition of the other side joins with (each worker fetches it once, as any
// dependency), or both sides hash-shuffled by their keys into as many buckets and bucket j of
// the left joined with bucket j of the right. Either way a join partition is a Part whose
// sides are Parts too: a side's pending work (a read, ops, a bucket's take) and the ops that
// follow the join all run in its one df/join task.
import { PlanError } from './errors.js';
import { joinStrategy } from './join-strategy.js';
import type { Lowering, Part } from './lower.js';
import type { JoinHow, Op, PlanNode } from './nodes.js';
import type { JoinParams, JoinSide, JoinSpec, ShuffleHow } from './tasks.js';

type JoinNode = Extract<PlanNode, { kind: 'join' }>;

/** A join kind as Polars names it (our 'outer' is its 'full'). */
export function polarsJoinHow(how: JoinHow): JoinSpec['how'] {
  return how === 'outer' ? 'full' : how;
}

export function lowerJoin(lowering: Lowering, node: JoinNode): Part[] {
  const left = lowering.parts(node.left);
  const right = lowering.parts(node.right);
  const spec: JoinSpec = { leftOn: node.leftOn, rightOn: node.rightOn, how: polarsJoinHow(node.how), suffix: node.suffix };
  const strategy = joinStrategy(node, left.length, right.length);
  if (strategy.kind === 'broadcast') {
    const [small, big] = strategy.side === 'left' ? [left, right] : [right, left];
    // Read by one task only: the small side's work fuses into it too.
    const shared = small.length === 1 && big.length === 1 ? small[0]! : broadcast(lowering, small);
    return big.map((p) => (strategy.side === 'left' ? joined(spec, shared, p) : joined(spec, p, shared)));
  }
  const casts = hashCasts(node);
  const hash = (by: string[], cast: Record<string, string>): ShuffleHow => ({ kind: 'hash', by, ...(Object.keys(cast).length ? { cast } : {}) });
  const lefts = lowering.shuffle(left, hash(node.leftOn, casts.left), strategy.partitions, 'join-left');
  const rights = lowering.shuffle(right, hash(node.rightOn, casts.right), strategy.partitions, 'join-right');
  return lefts.map((l, j) => joined(spec, l, rights[j]!));
}

/** The df/join task of a join Part: each side's inputs in turn; `ops` run after the join. */
export function materializeJoin(lowering: Lowering, join: NonNullable<Part['join']>, ops: Op[], group: string): string {
  const left = sideOf(lowering, join.left);
  const right = sideOf(lowering, join.right);
  const params: JoinParams = { join: join.spec, left: left.side, right: right.side, ops };
  return lowering.emit('df/join', params, [...left.inputs, ...right.inputs], group === 'stage' ? 'join' : group);
}

/**
 * Casts (for hashing only: the join itself compares as Polars does) that make equal keys of
 * different dtypes hash alike, per side: integers of one signedness to the widest, other
 * numbers to Float64 (equal in Polars' supertype means equal there too). Keys of other
 * differing dtypes cannot be hashed alike safely: a clear error asks for a cast.
 */
export function hashCasts(node: JoinNode): { left: Record<string, string>; right: Record<string, string> } {
  const dtypes = (schema: JoinNode['schema']) => new Map(schema.map((f) => [f.name, f.dtype]));
  const [ltypes, rtypes] = [dtypes(node.left.schema), dtypes(node.right.schema)];
  const casts = { left: {} as Record<string, string>, right: {} as Record<string, string> };
  node.leftOn.forEach((l, i) => {
    const r = node.rightOn[i]!;
    const [lt, rt] = [ltypes.get(l) ?? '', rtypes.get(r) ?? ''];
    if (lt === rt) return;
    const common = commonHashType(lt, rt);
    if (!common) throw new PlanError(`join: key "${l}" (${lt}) and key "${r}" (${rt}) have different types; cast one to the other's type (withColumns) before the join`);
    if (lt !== common) casts.left[l] = common;
    if (rt !== common) casts.right[r] = common;
  });
  return casts;
}

function commonHashType(a: string, b: string): string | undefined {
  const kind = (t: string) => (/^Int(8|16|32|64)$/.test(t) ? 'signed' : /^UInt(8|16|32|64)$/.test(t) ? 'unsigned' : /^Float(32|64)$/.test(t) ? 'float' : undefined);
  const [ka, kb] = [kind(a), kind(b)];
  if (!ka || !kb) return undefined;
  if (ka === kb && ka !== 'float') return ka === 'signed' ? 'Int64' : 'UInt64';
  return 'Float64';
}

function joined(spec: JoinSpec, left: Part, right: Part): Part {
  return { inputs: [], source: null, ops: [], join: { spec, left, right } };
}

/** The small side as one partition, made once: its parts made, then concatenated. */
function broadcast(lowering: Lowering, parts: Part[]): Part {
  const keys = parts.map((p) => lowering.materialize(p, 'stage'));
  const key = keys.length === 1 ? keys[0]! : lowering.materialize({ inputs: keys, source: null, ops: [] }, 'join-broadcast');
  return { inputs: [key], source: null, ops: [] };
}

/** A join side as its task makes it; a side that is itself a join is made first, by its own task. */
function sideOf(lowering: Lowering, part: Part): { side: JoinSide; inputs: string[] } {
  const p: Part = part.join || part.kernel ? { inputs: [lowering.materialize(part, 'join')], source: null, ops: [] } : part;
  return { side: { inputs: p.inputs.length, source: p.source, ops: p.ops, ...(p.take ? { take: p.take } : {}) }, inputs: p.inputs };
}
