// ColumnTransformer: transformers applied to column subsets, their outputs side by side in one
// select (so they fuse into each partition's plan), then the other columns when remainder is
// 'passthrough'. Output columns keep the transformers' names (`city_Lyon`, `x1`); two outputs
// with one name are refused at fit. A transformer here must be one of ml.preprocessing's (its
// transform is expressions), 'passthrough' or 'drop'.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import type { FitOptions, Target, Transformer } from '../core/estimator.js';
import { MlDataError, MlParamError } from '../errors.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import { checkColumns, fitted, isExprTransformer, withDefaults, type ExprTransformer } from './base.js';

export type ColumnTransformerEntry = [name: string, transformer: (Transformer & ExprTransformer) | 'passthrough' | 'drop', columns: string[]];

export interface ColumnTransformerParams {
  remainder: 'drop' | 'passthrough';
}

export class ColumnTransformer implements Transformer, ExprTransformer, OnnxExportable {
  readonly params: ColumnTransformerParams;
  readonly transformers: ColumnTransformerEntry[];
  featureNamesIn: string[] | undefined;
  /** The columns no transformer takes, passed through (or dropped) in X's order. */
  remainderColumns: string[] | undefined;

  constructor(transformers: ColumnTransformerEntry[], params: Partial<ColumnTransformerParams> = {}) {
    this.params = withDefaults('ColumnTransformer', { remainder: 'drop' as const }, params);
    if (!['drop', 'passthrough'].includes(this.params.remainder)) throw new MlParamError(`ColumnTransformer: remainder must be 'drop' or 'passthrough', got ${String(this.params.remainder)}`);
    const names = new Set<string>();
    for (const [name, t, columns] of transformers) {
      if (names.has(name)) throw new MlParamError(`ColumnTransformer: two transformers are named "${name}"`);
      names.add(name);
      if (t !== 'passthrough' && t !== 'drop' && !isExprTransformer(t)) {
        throw new MlParamError(`ColumnTransformer: transformer "${name}" (${(t as object)?.constructor?.name ?? typeof t}) is not one of ml.preprocessing's, 'passthrough' or 'drop'`);
      }
      if (!Array.isArray(columns) || columns.length === 0) throw new MlParamError(`ColumnTransformer: transformer "${name}" needs a non-empty list of columns`);
    }
    this.transformers = transformers.map(([n, t, c]) => [n, t, [...c]]);
  }

  getParams(): Record<string, unknown> {
    return { ...this.params, transformers: this.transformers };
  }

  /** New, unfitted: its transformers unfitted too; `<name>__<param>` sets a transformer's parameter. */
  withParams(params: Record<string, unknown>): this {
    const own: Record<string, unknown> = {};
    const nested = new Map<string, Record<string, unknown>>();
    for (const [k, v] of Object.entries(params)) {
      const at = k.indexOf('__');
      if (at < 0) own[k] = v;
      else nested.set(k.slice(0, at), { ...nested.get(k.slice(0, at)), [k.slice(at + 2)]: v });
    }
    for (const name of nested.keys()) if (!this.transformers.some(([n]) => n === name)) throw new MlParamError(`ColumnTransformer: no transformer named "${name}"`);
    const transformers = this.transformers.map(([n, t, c]): ColumnTransformerEntry => [n, typeof t === 'string' ? t : t.withParams(nested.get(n) ?? {}), c]);
    return new ColumnTransformer(transformers, { ...this.params, ...own }) as this;
  }

  async fit(X: DataFrame, y?: Target, options: FitOptions = {}): Promise<this> {
    const taken = new Set<string>();
    for (const [name, , columns] of this.transformers) {
      const missing = columns.filter((c) => !X.columns.includes(c));
      if (missing.length) throw new MlDataError(`ColumnTransformer: transformer "${name}" names column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')}, which X does not have; its columns are ${X.columns.join(', ')}`);
      columns.forEach((c) => taken.add(c));
    }
    for (const [, t, columns] of this.transformers) if (typeof t !== 'string') await t.fit(X.select(...columns), y, options);
    this.featureNamesIn = [...X.columns];
    this.remainderColumns = X.columns.filter((c) => !taken.has(c));
    // Each part's names from its own schema: one select with a name twice would fail unnamed.
    const names = this.transformers.flatMap(([, t, columns]) => (t === 'drop' ? [] : t === 'passthrough' ? columns : X.select(...t.outputExprs()).columns))
      .concat(this.params.remainder === 'passthrough' ? this.remainderColumns : []);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) {
      this.featureNamesIn = undefined;
      throw new MlDataError(`ColumnTransformer: two outputs are named "${twice}"; give the columns distinct names`);
    }
    return this;
  }

  outputExprs(): pl.Expr[] {
    fitted(this.featureNamesIn, 'ColumnTransformer', 'transform');
    const exprs = this.transformers.flatMap(([, t, columns]) => (t === 'drop' ? [] : t === 'passthrough' ? columns.map((c) => pl.col(c)) : t.outputExprs()));
    return this.params.remainder === 'passthrough' ? [...exprs, ...this.remainderColumns!.map((c) => pl.col(c))] : exprs;
  }

  transform(X: DataFrame): DataFrame {
    checkColumns('ColumnTransformer', X, fitted(this.featureNamesIn, 'ColumnTransformer', 'transform'));
    return X.select(...this.outputExprs());
  }

  onnxSteps(): FittedStep[] {
    throw new MlParamError('ColumnTransformer: not exportable to ONNX (the exporter takes one chain of steps over all features); use a Pipeline of scalers and imputers');
  }
}
