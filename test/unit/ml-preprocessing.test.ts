// The scalers' numeric part on in-process shards, their transforms applied by Polars here,
// against scikit-learn's values (test/fixtures/ml/preprocess_reference.py); and parameters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type pl from 'nodejs-polars';
import { LocalShards } from '../../ml/core/shards.js';
import { buildShard } from '../../ml/core/build-shard.js';
import { Pipeline } from '../../ml/core/pipeline.js';
import { StandardScaler } from '../../ml/preprocessing/standard-scaler.js';
import { MinMaxScaler } from '../../ml/preprocessing/min-max-scaler.js';
import { OneHotEncoder } from '../../ml/preprocessing/encoders.js';
import { SimpleImputer } from '../../ml/preprocessing/simple-imputer.js';
import { MlParamError, NotFittedError } from '../../ml/errors.js';
import { assertClose, assertMatrixClose, preprocessData, readFixture } from '../helpers/ml-fixtures.js';

interface Reference {
  standard: { mean: number[]; var: number[]; scale: number[]; transformed: Array<Array<number | null>> };
  standard_no_mean: { scale: number[]; transformed: Array<Array<number | null>> };
  minmax: { data_min: number[]; data_max: number[]; scale: number[]; min: number[]; transformed: Array<Array<number | null>> };
}

const ref = readFixture<Reference>('preprocess_reference.json');
const FEATURES = ['x1', 'x2', 'x3', 'const'];

/** The numeric columns in three uneven in-process shards, as a cluster would hold them. */
function shardsOf(df: pl.DataFrame): LocalShards {
  const parts = [df.slice(0, 100), df.slice(100, 17), df.slice(117, 1000)];
  return new LocalShards(parts.map((p, i) => buildShard({ partition: i, features: FEATURES }, [{ encoding: 3, native: p }], 'local')));
}

describe('preprocessing on in-process shards, against scikit-learn', () => {
  const data = preprocessData();
  const num = data.select(...FEATURES);

  it('StandardScaler: mean, var and scale (constant feature: 1) within 1e-12, transform within 1e-9', async () => {
    const scaler = await new StandardScaler().fitShards(shardsOf(data), { features: FEATURES });
    assertClose(scaler.mean!, ref.standard.mean, 'mean', 1e-12);
    assertClose(scaler.var!, ref.standard.var, 'var', 1e-12);
    assertClose(scaler.scale!, ref.standard.scale, 'scale', 1e-12);
    assertMatrixClose(num.select(...scaler.outputExprs()), ref.standard.transformed, 'transformed');
    assert.deepEqual(scaler.onnxSteps(), [{ kind: 'standard-scaler', mean: scaler.mean, scale: scaler.scale }]);
    const noMean = await new StandardScaler({ withMean: false }).fitShards(shardsOf(data), { features: FEATURES });
    assertMatrixClose(num.select(...noMean.outputExprs()), ref.standard_no_mean.transformed, 'withMean false');
    assert.deepEqual(noMean.onnxSteps(), [{ kind: 'standard-scaler', mean: [0, 0, 0, 0], scale: noMean.scale }]);
  });

  it('MinMaxScaler with featureRange [-1, 2]: data range, scale, min and transform', async () => {
    const scaler = await new MinMaxScaler({ featureRange: [-1, 2] }).fitShards(shardsOf(data), { features: FEATURES });
    assertClose(scaler.dataMin!, ref.minmax.data_min, 'dataMin', 0);
    assertClose(scaler.dataMax!, ref.minmax.data_max, 'dataMax', 0);
    assertClose(scaler.scale!, ref.minmax.scale, 'scale', 1e-12);
    assertClose(scaler.min!, ref.minmax.min, 'min', 1e-12);
    assertMatrixClose(num.select(...scaler.outputExprs()), ref.minmax.transformed, 'transformed');
  });

  it('refuses unknown or impossible parameters, and use before fit, by name', () => {
    assert.throws(() => new StandardScaler({ withMaen: true } as never), (e: Error) => e instanceof MlParamError && /unknown parameter withMaen; it takes withMean, withStd/.test(e.message));
    assert.throws(() => new MinMaxScaler({ featureRange: [1, 1] }), /featureRange must be \[min, max\] with min < max/);
    assert.throws(() => new SimpleImputer({ strategy: 'mode' as never }), /strategy must be one of mean, median, mostFrequent, constant/);
    assert.throws(() => new OneHotEncoder({ handleUnknown: 'skip' as never }), /handleUnknown must be 'error' or 'ignore'/);
    assert.throws(() => new StandardScaler().outputExprs(), (e: Error) => e instanceof NotFittedError && /StandardScaler: not fitted/.test(e.message));
    assert.throws(() => new OneHotEncoder().onnxSteps(), /not exportable to ONNX/);
    const scaler = new StandardScaler({ withStd: false });
    assert.deepEqual(scaler.withParams({ withMean: false }).getParams(), { withMean: false, withStd: false });
  });

  it('Pipeline: steps checked, params as <step>__<param>, ONNX steps concatenated', async () => {
    assert.throws(() => new Pipeline([]), /at least one/);
    assert.throws(() => new Pipeline([['a', new StandardScaler()], ['a', new MinMaxScaler()]]), /two steps are named "a"/);
    assert.throws(() => new Pipeline([['x', {} as never]]), /step "x" is not an estimator/);
    const pipe = new Pipeline([['impute', new SimpleImputer()], ['scale', new StandardScaler()]]);
    assert.equal(pipe.getParams().scale__withMean, true);
    const changed = pipe.withParams({ scale__withMean: false, impute__strategy: 'median' });
    assert.deepEqual([changed.getParams().scale__withMean, changed.getParams().impute__strategy], [false, 'median']);
    assert.throws(() => pipe.withParams({ nope__x: 1 }), /names no step/);
    const scale = pipe.namedSteps.scale as StandardScaler;
    await scale.fitShards(shardsOf(data), { features: FEATURES });
    const imputer = pipe.namedSteps.impute as SimpleImputer;
    assert.throws(() => pipe.onnxSteps(), /SimpleImputer: not fitted/);
    Object.assign(imputer, { statistics: [1, 2, 3, 4], featureNamesIn: FEATURES });
    assert.deepEqual(pipe.onnxSteps().map((s) => s.kind), ['simple-imputer', 'standard-scaler']);
  });
});
