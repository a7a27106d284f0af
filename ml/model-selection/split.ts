// trainTestSplit: each row goes to test or train by a pseudo-random number of its partition's
// number, its position in that partition and the seed, so both halves are lazy filters on the
// same plan (no task runs here, nothing is shuffled) and complement each other exactly, the
// same for every run with that seed. The number is integer arithmetic mod 2^31 - 1 (two
// squarings mix the place with the seed), exact on every machine.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import type { Op, PlanNode } from '../../dataframe/plan/nodes.js';
import { planSchema, type PlSchema } from '../../dataframe/schema.js';
import { MlParamError } from '../errors.js';

export interface TrainTestSplitOptions {
  /** The share of rows in the test half, in (0, 1). Default 0.25, as scikit-learn. */
  testSize?: number;
  /** Default 0. */
  seed?: number;
}

const P = 2147483647; // 2^31 - 1: products of two values below it stay exact in Int64

export function trainTestSplit(df: DataFrame, options: TrainTestSplitOptions = {}): [train: DataFrame, test: DataFrame] {
  const testSize = options.testSize ?? 0.25;
  const seed = options.seed ?? 0;
  if (!(testSize > 0 && testSize < 1)) throw new MlParamError(`trainTestSplit: testSize must be a share between 0 and 1 (exclusive), got ${testSize}`);
  checkSeed('trainTestSplit', seed);
  const inTest = testMask(seed, testSize);
  return [filtered(df, inTest.not()), filtered(df, inTest)];
}

export interface KFoldOptions {
  /** Default 5, as scikit-learn. */
  nSplits?: number;
  /** Default 0. */
  seed?: number;
}

/**
 * K folds of a DataFrame: split(df) gives nSplits [train, test] pairs whose tests partition the
 * rows. Rows go to folds as trainTestSplit sends them to halves (scikit-learn's KFold with
 * shuffle: a row's fold does not follow its global order, which partitions do not know).
 */
export class KFold {
  readonly nSplits: number;
  readonly seed: number;

  constructor(options: KFoldOptions = {}) {
    this.nSplits = options.nSplits ?? 5;
    this.seed = options.seed ?? 0;
    if (!Number.isInteger(this.nSplits) || this.nSplits < 2) throw new MlParamError(`KFold: nSplits must be an integer >= 2, got ${this.nSplits}`);
    checkSeed('KFold', this.seed);
  }

  split(df: DataFrame): Array<[train: DataFrame, test: DataFrame]> {
    const x = positionHash(this.seed);
    return Array.from({ length: this.nSplits }, (_, fold) => {
      const inFold = x.gtEq(pl.lit(this.edge(fold))).and(x.lt(pl.lit(this.edge(fold + 1))));
      return [filtered(df, inFold.not()), filtered(df, inFold)];
    });
  }

  /**
   * df with an Int32 column `name` holding each row's fold, the one whose test half split() puts
   * it in: computed once (persist it), later folds are cheap filters on it.
   */
  withFoldColumn(df: DataFrame, name: string): DataFrame {
    if (df.columns.includes(name)) throw new MlParamError(`KFold: the frame already has a column "${name}"`);
    const x = positionHash(this.seed);
    // The count of fold edges at or below the row's hash: exactly split()'s ranges.
    let fold: pl.Expr = pl.lit(0).cast(pl.Int32);
    for (let f = 1; f < this.nSplits; f++) fold = fold.plus(x.gtEq(pl.lit(this.edge(f))).cast(pl.Int32));
    return withPositionColumn(df, fold.alias(name), name);
  }

  /** Where fold f's hash range starts (and fold f - 1's ends). */
  private edge(f: number): number {
    return Math.round((f / this.nSplits) * P);
  }
}

/** Whether a row (by its position in its partition) goes to the test half. */
export function testMask(seed: number, testSize: number): pl.Expr {
  return positionHash(seed).lt(pl.lit(Math.round(testSize * P)));
}

/** The column `filtered` adds for the hash: the row's partition number. */
const PARTITION = '__kd_split_partition';

/** A pseudo-random integer in [0, P) per row, of its partition, its position there and the seed. */
function positionHash(seed: number): pl.Expr {
  const position = pl.intRange(pl.lit(0), pl.len(), 1, pl.Int64);
  const partition = pl.col(PARTITION).mul(pl.lit(1000003));
  let x = position.mul(pl.lit(2654435761)).plus(partition).plus(pl.lit((seed % P) * 7919 % P + 1)).modulo(pl.lit(P));
  x = x.mul(x).plus(pl.lit(12345)).modulo(pl.lit(P));
  x = x.mul(pl.lit(48271)).modulo(pl.lit(P));
  return x.mul(x).plus(pl.lit(54321)).modulo(pl.lit(P));
}

function checkSeed(caller: string, seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new MlParamError(`${caller}: seed must be an integer >= 0, got ${seed}`);
}

/**
 * df filtered per partition. DataFrame.filter refuses a predicate that looks at the row's
 * position (per partition it would differ from the whole frame's answer); here that is the
 * point, so the filter is added to the plan as the planner's own non-row-wise filters are: it
 * runs where it stands, and no other filter moves across it.
 */
function filtered(df: DataFrame, predicate: pl.Expr): DataFrame {
  return withPartitionOps(df, { op: 'filter', predicate: JSON.parse(predicate.serialize('json').toString()) as unknown }, df.schema);
}

/** df with a column computed from the row's place (as `filtered`, a per-partition op that stays where it is). */
function withPositionColumn(df: DataFrame, column: pl.Expr, name: string): DataFrame {
  return withPartitionOps(df, { op: 'withColumns', exprs: [JSON.parse(column.serialize('json').toString()) as unknown] }, { ...df.schema, [name]: pl.Int32 });
}

function withPartitionOps(df: DataFrame, op: Op, schema: PlSchema): DataFrame {
  const ops: Op[] = [{ op: 'partitionIndex', name: PARTITION }, op, { op: 'drop', names: [PARTITION] }];
  const plan: PlanNode = df.plan.kind === 'map'
    ? { ...df.plan, ops: [...df.plan.ops, ...ops], schema: planSchema(schema) }
    : { kind: 'map', input: df.plan, ops, schema: planSchema(schema) };
  return df.derived(plan, schema);
}
