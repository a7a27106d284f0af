// SimpleImputer: missing values (null, and NaN in float columns) replaced per column by a
// statistic learned in fit: 'mean' (a sum over the shards), 'median' (Polars' median, a
// DataFrame aggregation on the cluster), 'mostFrequent' (counts per value on the cluster;
// ties go to the smallest value, as scikit-learn) or 'constant' (fillValue). Numeric columns
// come out Float64, as scikit-learn's arrays; mostFrequent and constant also take string columns.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import { resolveClient } from '../../dataframe/execute.js';
import { dtypeName } from '../../dataframe/schema.js';
import type { FitOptions, Target, Transformer } from '../core/estimator.js';
import { isNumericDtype, toShards } from '../core/to-shards.js';
import { MlDataError, MlParamError } from '../errors.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import type { Moments } from './kernels.js';
import { checkColumns, fitted, withDefaults, type ExprTransformer } from './base.js';

export type ImputeStrategy = 'mean' | 'median' | 'mostFrequent' | 'constant';

export interface SimpleImputerParams {
  strategy: ImputeStrategy;
  /** For 'constant': default 0 for numeric columns, "missing_value" for string columns (scikit-learn's). */
  fillValue: number | string | undefined;
}

const STRATEGIES: ImputeStrategy[] = ['mean', 'median', 'mostFrequent', 'constant'];

export class SimpleImputer implements Transformer, ExprTransformer, OnnxExportable {
  readonly params: SimpleImputerParams;
  featureNamesIn: string[] | undefined;
  /** The fill value per column. */
  statistics: Array<number | string> | undefined;
  private numeric: boolean[] = [];
  private float: boolean[] = [];

  constructor(params: Partial<SimpleImputerParams> = {}) {
    this.params = withDefaults<SimpleImputerParams>('SimpleImputer', { strategy: 'mean', fillValue: undefined }, params);
    if (!STRATEGIES.includes(this.params.strategy)) throw new MlParamError(`SimpleImputer: strategy must be one of ${STRATEGIES.join(', ')}, got ${String(this.params.strategy)}`);
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  withParams(params: Record<string, unknown>): this {
    return new SimpleImputer({ ...this.params, ...params }) as this;
  }

  async fit(X: DataFrame, _y?: Target, options: FitOptions = {}): Promise<this> {
    const names = X.columns;
    const schema = X.schema;
    const numeric = names.map((c) => isNumericDtype(schema[c]));
    const strategy = this.params.strategy;
    const stringy = names.filter((c, j) => !numeric[j] && !/^(String|Utf8|Categorical)/.test(dtypeName(schema[c]!)));
    if (stringy.length) throw new MlDataError(`SimpleImputer: column ${stringy.map((c) => `"${c}" (${dtypeName(schema[c]!)})`).join(', ')} is neither numeric nor text`);
    if ((strategy === 'mean' || strategy === 'median') && numeric.includes(false)) {
      throw new MlDataError(`SimpleImputer: strategy '${strategy}' needs numeric columns; ${names.filter((_, j) => !numeric[j]).map((c) => `"${c}"`).join(', ')} ${numeric.filter((n) => !n).length > 1 ? 'are' : 'is'} text (use 'mostFrequent' or 'constant')`);
    }
    const client = resolveClient(options);
    let statistics: Array<number | string>;
    if (strategy === 'mean') statistics = await meanOf(X, options);
    else if (strategy === 'median') statistics = await medianOf(X, client);
    else if (strategy === 'mostFrequent') statistics = await Promise.all(names.map((c) => mostFrequent(X, c, client)));
    else statistics = names.map((_, j) => this.params.fillValue ?? (numeric[j] ? 0 : 'missing_value'));
    const wrong = names.filter((_, j) => typeof statistics[j] !== (numeric[j] ? 'number' : 'string'));
    if (wrong.length) throw new MlParamError(`SimpleImputer: fillValue ${JSON.stringify(this.params.fillValue)} does not suit column ${wrong.map((c) => `"${c}"`).join(', ')} (${dtypeName(schema[wrong[0]!]!)})`);
    const missing = names.filter((_, j) => Number.isNaN(statistics[j]));
    if (missing.length) throw new MlDataError(`SimpleImputer: column ${missing.map((c) => `"${c}"`).join(', ')} has no values to learn a ${strategy} from`);
    this.featureNamesIn = [...names];
    this.statistics = statistics;
    this.numeric = numeric;
    this.float = names.map((c) => /^Float/.test(dtypeName(schema[c]!)));
    return this;
  }

  outputExprs(): pl.Expr[] {
    const names = fitted(this.featureNamesIn, 'SimpleImputer', 'transform');
    return names.map((name, j) => {
      const value = this.statistics![j]!;
      if (!this.numeric[j]) return pl.col(name).fillNull(pl.lit(value)).alias(name);
      const e = pl.col(name).cast(pl.Float64).fillNull(pl.lit(value));
      return (this.float[j] ? e.fillNan(pl.lit(value)) : e).alias(name);
    });
  }

  transform(X: DataFrame): DataFrame {
    checkColumns('SimpleImputer', X, fitted(this.featureNamesIn, 'SimpleImputer', 'transform'));
    return X.select(...this.outputExprs());
  }

  onnxSteps(): FittedStep[] {
    const statistics = fitted(this.statistics, 'SimpleImputer', 'onnxSteps');
    if (statistics.some((s) => typeof s !== 'number')) throw new MlParamError('SimpleImputer: only an imputer of numeric columns can be exported to ONNX');
    return [{ kind: 'simple-imputer', statistics: statistics as number[] }];
  }
}

async function meanOf(X: DataFrame, options: FitOptions): Promise<number[]> {
  const { shards } = await toShards(X, undefined, { ...options, caller: 'SimpleImputer' });
  try {
    const { count, sum } = await shards.sum<Moments>('preprocess/moments', {});
    return sum.map((s, j) => s / count[j]!);
  } finally {
    await shards.release();
  }
}

/** NaN counts as missing, as a null does. */
function withoutNaN(X: DataFrame, name: string): pl.Expr {
  return /^Float/.test(dtypeName(X.schema[name]!)) ? pl.col(name).fillNan(pl.lit(null)) : pl.col(name);
}

async function medianOf(X: DataFrame, client: ReturnType<typeof resolveClient>): Promise<number[]> {
  const row = await X.select(...X.columns.map((c) => withoutNaN(X, c).cast(pl.Float64).median().alias(c))).compute({ client });
  return X.columns.map((c) => (row.getColumn(c).get(0) as number | null) ?? NaN);
}

async function mostFrequent(X: DataFrame, name: string, client: ReturnType<typeof resolveClient>): Promise<number | string> {
  const counts = await X.select(withoutNaN(X, name).alias(name)).groupBy(name).agg(pl.len().alias('n')).compute({ client });
  const values = counts.getColumn(name).toArray() as Array<number | string | boolean | null>;
  const n = counts.getColumn('n').toArray() as number[];
  let best: number | string | undefined;
  let bestN = 0;
  values.forEach((v, i) => {
    if (v === null) return;
    const value = typeof v === 'boolean' ? Number(v) : v;
    if (n[i]! > bestN || (n[i] === bestN && best !== undefined && value < best)) [best, bestN] = [value, n[i]!];
  });
  return best ?? NaN;
}
