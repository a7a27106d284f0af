// The preprocessing estimators fitted on a LocalCluster (three partitions of the reference
// table), their transforms computed there, against scikit-learn's (test/fixtures/ml/
// preprocess_reference.py): values within 1e-9 relative, categories and names exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pl from 'nodejs-polars';
import { fromPolars, ml, RemoteTaskError, type DataFrame } from '../../index.js';
import type { FitOptions, Predictor, Target } from '../../ml/core/estimator.js';
import { useCluster } from '../helpers/cluster.js';
import { assertClose, assertMatrixClose, preprocessData, readFixture } from '../helpers/ml-fixtures.js';

type Matrix = Array<Array<number | null>>;
interface Reference {
  standard: { mean: number[]; scale: number[]; transformed: Matrix };
  minmax: { transformed: Matrix };
  imputer: Record<'mean' | 'median' | 'most_frequent' | 'constant', { statistics: number[]; transformed: Matrix }>;
  imputer_city_most_frequent: string[];
  onehot: { categories: Array<Array<string | number>>; names: string[]; transformed: Matrix };
  ordinal: { categories: Array<Array<string | number>>; transformed: Matrix };
  column_transformer: { transformed: Matrix };
  pipeline: { median: number[]; mean: number[]; scale: number[]; transformed: Matrix };
}

const ref = readFixture<Reference>('preprocess_reference.json');
const NUM = ['x1', 'x2', 'x3', 'const'];

/** A final step for Pipeline tests: keeps what fit was given, predicts its first column. */
class Recorder implements Predictor {
  seen: { X: pl.DataFrame; y: pl.DataFrame } | undefined;
  async fit(X: DataFrame, y?: Target, options: FitOptions = {}): Promise<this> {
    this.seen = { X: await X.compute(options), y: await (y as DataFrame).compute(options) };
    return this;
  }
  predict(X: DataFrame): DataFrame {
    return X.select(pl.col(X.columns[0]!).alias('prediction'));
  }
  async score(): Promise<number> {
    return 1;
  }
  getParams(): Record<string, unknown> {
    return {};
  }
  withParams(): this {
    return new Recorder() as this;
  }
}

describe('preprocessing on a cluster, against scikit-learn', () => {
  const fixture = useCluster({ workers: 2, threads: 1 });
  const local = preprocessData();
  const df = fromPolars(local, { partitions: 3 });
  const num = df.select(...NUM);
  const opts = (): FitOptions => ({ client: fixture.client });
  const run = (frame: DataFrame) => frame.compute(opts());

  it('StandardScaler and MinMaxScaler fit over the shards and transform lazily, keeping the column names', async () => {
    const scaler = await new ml.StandardScaler().fit(num, undefined, opts());
    assertClose(scaler.mean!, ref.standard.mean, 'mean', 1e-12);
    assertClose(scaler.scale!, ref.standard.scale, 'scale', 1e-12);
    const scaled = scaler.transform(num);
    assert.deepEqual(scaled.columns, NUM);
    assert.equal(scaled.npartitions, 3);
    assertMatrixClose(await run(scaled), ref.standard.transformed, 'standard');
    const minmax = await new ml.MinMaxScaler({ featureRange: [-1, 2] }).fit(num, undefined, opts());
    assertMatrixClose(await run(minmax.transform(num)), ref.minmax.transformed, 'minmax');
  });

  it('SimpleImputer: mean, median, mostFrequent and constant, as scikit-learn\'s', async () => {
    const strategies = { mean: 'mean', median: 'median', most_frequent: 'mostFrequent', constant: 'constant' } as const;
    for (const [py, strategy] of Object.entries(strategies)) {
      const imputer = await new ml.SimpleImputer({ strategy, ...(strategy === 'constant' ? { fillValue: -1 } : {}) }).fit(num, undefined, opts());
      assertClose(imputer.statistics as number[], ref.imputer[py as keyof Reference['imputer']].statistics, `${strategy} statistics`, 1e-12);
      assertMatrixClose(await run(imputer.transform(num)), ref.imputer[py as keyof Reference['imputer']].transformed, `${strategy} transformed`);
    }
    const city = await new ml.SimpleImputer({ strategy: 'mostFrequent' }).fit(df.select('city'), undefined, opts());
    assert.deepEqual(city.statistics, ref.imputer_city_most_frequent);
    await assert.rejects(new ml.SimpleImputer().fit(df.select('city'), undefined, opts()), /strategy 'mean' needs numeric columns; "city" is text/);
    assert.deepEqual((await new ml.SimpleImputer().fit(num, undefined, opts())).onnxSteps()[0]!.kind, 'simple-imputer');
  });

  it('OneHotEncoder and OrdinalEncoder learn sorted categories; unknown values fail the computation, or are ignored', async () => {
    const cat = df.select('city', 'size');
    const onehot = await new ml.OneHotEncoder().fit(cat, undefined, opts());
    assert.deepEqual(onehot.categories, ref.onehot.categories);
    assert.deepEqual(onehot.featureNamesOut, ref.onehot.names);
    const encoded = onehot.transform(cat);
    assert.deepEqual(encoded.columns, ref.onehot.names);
    assertMatrixClose(await run(encoded), ref.onehot.transformed, 'onehot');
    const ordinal = await new ml.OrdinalEncoder().fit(cat, undefined, opts());
    assert.deepEqual(ordinal.categories, ref.ordinal.categories);
    assertMatrixClose(await run(ordinal.transform(cat)), ref.ordinal.transformed, 'ordinal');

    const other = fromPolars(pl.DataFrame({ city: ['Lyon', 'Rome', null], size: [1, 2, 9] }), { partitions: 1 });
    await assert.rejects(run(onehot.transform(other)), (e: Error) => e instanceof RemoteTaskError && /OneHotEncoder: unknown category in column "city": Rome/.test(e.message));
    await assert.rejects(run(ordinal.transform(other)), /OrdinalEncoder: unknown category in column "city": Rome/);
    const ignoring = await new ml.OneHotEncoder({ handleUnknown: 'ignore' }).fit(cat, undefined, opts());
    assert.deepEqual((await run(ignoring.transform(other))).rows(), [[0, 1, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0]]);
    const coded = await new ml.OrdinalEncoder({ handleUnknown: 'useEncodedValue', unknownValue: -1 }).fit(cat, undefined, opts());
    assert.deepEqual((await run(coded.transform(other))).rows(), [[1, 0], [-1, 1], [null, -1]]);
  });

  it('ColumnTransformer: transformers side by side in one select, the remainder passed through', async () => {
    const ct = new ml.ColumnTransformer([['scale', new ml.StandardScaler(), ['x1', 'x2']], ['city', new ml.OneHotEncoder(), ['city']]], { remainder: 'passthrough' });
    await ct.fit(df, undefined, opts());
    const out = ct.transform(df);
    assert.deepEqual(out.columns, ['x1', 'x2', 'city_Brest', 'city_Lyon', 'city_Nantes', 'city_Paris', 'x3', 'const', 'size']);
    assertMatrixClose(await run(out), ref.column_transformer.transformed, 'column transformer');
    await assert.rejects(new ml.ColumnTransformer([['a', new ml.StandardScaler(), ['x1']], ['b', 'passthrough', ['x1']]]).fit(df, undefined, opts()), /two outputs are named "x1"/);
    await assert.rejects(new ml.ColumnTransformer([['a', new ml.StandardScaler(), ['nope']]]).fit(df, undefined, opts()), /transformer "a" names column "nope"/);
    assert.throws(() => new ml.ColumnTransformer([['p', new ml.Pipeline([['s', new ml.StandardScaler()]]) as never, ['x1']]]), /"p" \(Pipeline\) is not one of ml.preprocessing's/);
  });

  it('Pipeline: fits each step on the previous one\'s lazy output, then the final estimator with y; predict delegates', async () => {
    const pipe = new ml.Pipeline([['impute', new ml.SimpleImputer({ strategy: 'median' })], ['scale', new ml.StandardScaler()]]);
    await pipe.fit(num, undefined, opts());
    assertClose((pipe.namedSteps.impute as InstanceType<typeof ml.SimpleImputer>).statistics as number[], ref.pipeline.median, 'median');
    assertClose((pipe.namedSteps.scale as InstanceType<typeof ml.StandardScaler>).mean!, ref.pipeline.mean, 'mean', 1e-12);
    assertMatrixClose(await run(pipe.transform(num)), ref.pipeline.transformed, 'pipeline');
    assert.deepEqual(pipe.onnxSteps().map((s) => s.kind), ['simple-imputer', 'standard-scaler']);

    // y as a column of X: taken out of the features, handed to the last step beside them.
    const recorder = new Recorder();
    const model = new ml.Pipeline([['impute', new ml.SimpleImputer({ strategy: 'median' })], ['scale', new ml.StandardScaler()], ['last', recorder]]);
    await model.fit(df.select(...NUM, 'size'), 'size', opts());
    assert.deepEqual(recorder.seen!.X.columns, NUM);
    assertMatrixClose(recorder.seen!.X, ref.pipeline.transformed, 'what the last step saw');
    assert.deepEqual(recorder.seen!.y.getColumn('size').toArray(), local.getColumn('size').toArray());
    const predicted = await run(model.predict(num));
    assertClose(predicted.getColumn('prediction').toArray() as number[], ref.pipeline.transformed.map((r) => r[0]!), 'prediction');
    assert.throws(() => model.predictProba(num), /last step "last" has no predictProba/);
  });

  it('refuses non-numeric columns for the scalers before anything runs', async () => {
    await assert.rejects(new ml.StandardScaler().fit(df, undefined, opts()), /StandardScaler: feature column "city" \(String\) is not numeric/);
    const scaler = await new ml.StandardScaler().fit(num, undefined, opts());
    assert.throws(() => scaler.transform(df.select('x1')), /X lacks columns "x2", "x3", "const"/);
  });
});
