// trainTestSplit: each row goes to test or train by a pseudo-random number of its partition's
// number, its position in that partition and the seed, so both halves are lazy filters on the
// same plan (no task runs here, nothing is shuffled) and complement each other exactly, the
// same for every run with that seed. The number is integer arithmetic mod 2^31 - 1 (two
// squarings mix the place with the seed), exact on every machine.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import type { Op, PlanNode } from '../../dataframe/plan/nodes.js';
import { planSchema } from '../../dataframe/schema.js';
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
      const inFold = x.gtEq(pl.lit(Math.round((fold / this.nSplits) * P))).and(x.lt(pl.lit(Math.round(((fold + 1) / this.nSplits) * P))));
      return [filtered(df, inFold.not()), filtered(df, inFold)];
    });
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
  const ops: Op[] = [
    { op: 'partitionIndex', name: PARTITION },
    { op: 'filter', predicate: JSON.parse(predicate.serialize('json').toString()) as unknown },
    { op: 'drop', names: [PARTITION] },
  ];
  const schema = df.schema;
  const plan: PlanNode = df.plan.kind === 'map'
    ? { ...df.plan, ops: [...df.plan.ops, ...ops] }
    : { kind: 'map', input: df.plan, ops, schema: planSchema(schema) };
  return df.derived(plan, schema);
}
