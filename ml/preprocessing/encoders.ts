// OneHotEncoder and OrdinalEncoder: each column's categories (its distinct non-null values,
// sorted, as scikit-learn's 'auto'; or given) learned on the cluster, then one expression per
// output column. handleUnknown 'error' cannot throw from a lazy expression at transform time,
// so the expressions carry a guard that fails the partition's computation when an unknown value
// is met, with a message naming the encoder, the column and the value.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import { resolveClient } from '../../dataframe/execute.js';
import { dtypeName } from '../../dataframe/schema.js';
import type { FitOptions, Target, Transformer } from '../core/estimator.js';
import { MlDataError, MlParamError } from '../errors.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import { checkColumns, fitted, withDefaults, type ExprTransformer } from './base.js';

export type Category = number | string | boolean;

export interface OneHotEncoderParams {
  /** 'auto' learns them; else one sorted list per column. */
  categories: 'auto' | Category[][];
  /** 'ignore': an unknown value (or a null) gives all zeros. */
  handleUnknown: 'error' | 'ignore';
}

export interface OrdinalEncoderParams {
  categories: 'auto' | Category[][];
  /** 'useEncodedValue': an unknown value becomes unknownValue. Nulls stay null. */
  handleUnknown: 'error' | 'useEncodedValue';
  unknownValue: number;
}

abstract class CategoryEncoder<P extends { categories: 'auto' | Category[][]; handleUnknown: string }> implements Transformer, ExprTransformer, OnnxExportable {
  featureNamesIn: string[] | undefined;
  /** The categories per column, in the order of their codes. */
  categories: Category[][] | undefined;

  constructor(readonly params: P, private readonly estimator: string) {}

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  abstract withParams(params: Record<string, unknown>): this;
  abstract outputExprs(): pl.Expr[];

  async fit(X: DataFrame, _y?: Target, options: FitOptions = {}): Promise<this> {
    const names = X.columns;
    const schema = X.schema;
    const bad = names.filter((c) => !/^(String|Utf8|Categorical|Enum|U?Int\d+|Float\d+|Bool)/.test(dtypeName(schema[c]!)));
    if (bad.length) throw new MlDataError(`${this.estimator}: column ${bad.map((c) => `"${c}" (${dtypeName(schema[c]!)})`).join(', ')} cannot be encoded: give text, integer, float or boolean columns`);
    const given = this.params.categories;
    if (given !== 'auto') {
      if (given.length !== names.length) throw new MlParamError(`${this.estimator}: categories has ${given.length} lists for ${names.length} columns`);
      this.categories = given.map((c) => [...c]);
    } else {
      const client = resolveClient(options);
      this.categories = await Promise.all(names.map(async (c) => {
        const distinct = await X.select(c).unique().compute({ client });
        const values = (distinct.getColumn(c).toArray() as Array<Category | null>).filter((v): v is Category => v !== null && !(typeof v === 'number' && Number.isNaN(v)));
        return values.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      }));
    }
    this.featureNamesIn = [...names];
    return this;
  }

  transform(X: DataFrame): DataFrame {
    checkColumns(this.estimator, X, fitted(this.featureNamesIn, this.estimator, 'transform'));
    return X.select(...this.outputExprs());
  }

  onnxSteps(): FittedStep[] {
    throw new MlParamError(`${this.estimator}: not exportable to ONNX (the exporter has no step for it); encode before export, or export the model that follows it`);
  }

  /** 0 where the value is a known category or null; where it is not, a cast that fails, naming it. */
  protected unknownGuard(name: string, categories: Category[]): pl.Expr {
    const unknown = pl.col(name).isIn(categories).not().and(pl.col(name).isNotNull());
    const message = pl.concatString([pl.lit(`${this.estimator}: unknown category in column "${name}": `), pl.col(name).cast(pl.String)], '');
    // Null where known (the cast passes), the message where unknown: a strict cast to a number fails on it.
    return pl.when(unknown).then(message).otherwise(pl.lit(null)).cast(pl.Float64, true).fillNull(0);
  }
}

export class OneHotEncoder extends CategoryEncoder<OneHotEncoderParams> {
  constructor(params: Partial<OneHotEncoderParams> = {}) {
    super(withDefaults<OneHotEncoderParams>('OneHotEncoder', { categories: 'auto', handleUnknown: 'error' }, params), 'OneHotEncoder');
    if (!['error', 'ignore'].includes(this.params.handleUnknown)) throw new MlParamError(`OneHotEncoder: handleUnknown must be 'error' or 'ignore', got ${String(this.params.handleUnknown)}`);
  }

  withParams(params: Record<string, unknown>): this {
    return new OneHotEncoder({ ...this.params, ...params }) as this;
  }

  /** The output column names: `<column>_<category>`. */
  get featureNamesOut(): string[] {
    const names = fitted(this.featureNamesIn, 'OneHotEncoder', 'featureNamesOut');
    return names.flatMap((name, j) => this.categories![j]!.map((c) => `${name}_${String(c)}`));
  }

  outputExprs(): pl.Expr[] {
    const names = fitted(this.featureNamesIn, 'OneHotEncoder', 'transform');
    const out = this.featureNamesOut;
    let k = 0;
    return names.flatMap((name, j) => {
      const categories = this.categories![j]!;
      return categories.map((c, i) => {
        let e = pl.when(pl.col(name).eq(pl.lit(c))).then(pl.lit(1)).otherwise(pl.lit(0)).cast(pl.Float64);
        if (i === 0 && this.params.handleUnknown === 'error') e = e.plus(this.unknownGuard(name, categories));
        return e.alias(out[k++]!);
      });
    });
  }
}

export class OrdinalEncoder extends CategoryEncoder<OrdinalEncoderParams> {
  constructor(params: Partial<OrdinalEncoderParams> = {}) {
    super(withDefaults<OrdinalEncoderParams>('OrdinalEncoder', { categories: 'auto', handleUnknown: 'error', unknownValue: NaN }, params), 'OrdinalEncoder');
    if (!['error', 'useEncodedValue'].includes(this.params.handleUnknown)) throw new MlParamError(`OrdinalEncoder: handleUnknown must be 'error' or 'useEncodedValue', got ${String(this.params.handleUnknown)}`);
    if (this.params.handleUnknown === 'useEncodedValue' && !Number.isFinite(this.params.unknownValue)) {
      throw new MlParamError('OrdinalEncoder: handleUnknown \'useEncodedValue\' needs a finite unknownValue (e.g. -1)');
    }
  }

  withParams(params: Record<string, unknown>): this {
    return new OrdinalEncoder({ ...this.params, ...params }) as this;
  }

  outputExprs(): pl.Expr[] {
    const names = fitted(this.featureNamesIn, 'OrdinalEncoder', 'transform');
    return names.map((name, j) => {
      const categories = this.categories![j]!;
      const unknown = this.params.handleUnknown === 'error' ? this.unknownGuard(name, categories) : pl.lit(this.params.unknownValue);
      const otherwise = pl.when(pl.col(name).isNull()).then(pl.lit(null)).otherwise(unknown);
      if (categories.length === 0) return otherwise.cast(pl.Float64).alias(name);
      let chain = pl.when(pl.col(name).eq(pl.lit(categories[0]!))).then(pl.lit(0));
      for (let i = 1; i < categories.length; i++) chain = chain.when(pl.col(name).eq(pl.lit(categories[i]!))).then(pl.lit(i)) as never;
      return chain.otherwise(otherwise).cast(pl.Float64).alias(name);
    });
  }
}
