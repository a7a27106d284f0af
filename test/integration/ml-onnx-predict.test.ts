// predictOnnx on a LocalCluster: kubedask-exported models and a third party's (openwakeword-js'
// hello_deepa.onnx, from its npm tarball) scored per partition on the workers, empty partitions
// included, in batches, with the same numbers as in-process math or onnxruntime-node; and
// device 'cuda' on a worker that advertises a GPU but has neither the CUDA provider nor a GPU
// fails naming what is missing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pl from 'nodejs-polars';
import ort from 'onnxruntime-node';
import { fromPolars, ml } from '../../index.js';
import { GraphBuilder } from '../../ml/onnx/graph.js';
import { onnx } from '../../ml/onnx/generated/onnx.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { onnxCases } from '../helpers/onnx-cases.js';
import { assertClose } from '../helpers/ort.js';
import { seededRandom } from '../helpers/random.js';

const TOLERANCE = 1e-5; // float32 model against float64 math
const HELLO_DEEPA = join(import.meta.dirname, '../../../node_modules/openwakeword-js/models/hello_deepa.onnx');

function frameOf(rows: number[][], features: string[]): pl.DataFrame {
  return pl.DataFrame(Object.fromEntries(features.map((f, j) => [f, rows.map((r) => (Number.isNaN(r[j]!) ? null : r[j]!))])));
}

describe('predictOnnx on a cluster', () => {
  const fixture = useCluster({ workers: 2, threads: 1 });
  const cases = onnxCases();

  for (const name of ['binary-logistic', 'multinomial-logistic', 'kmeans', 'linear-regression']) {
    it(`scores ${name} per partition (an empty one too), in batches, as the math says`, async () => {
      const c = cases.find((x) => x.name === name)!;
      const model = ml.toOnnx(c.steps, { features: c.features });
      // 64 rows in 7 partitions of 10: the last has 4; plus an id to keep the order.
      const local = frameOf(c.rows, c.features).withRowIndex('id');
      const df = fromPolars(local, { partitions: 7 }).filter(pl.col('id').lt(60).or(pl.col('id').gt(1000)));
      const scored = ml.predictOnnx(df, model, { inputs: c.features, batchSize: 3 });
      const out = await scored.compute({ client: fixture.client });
      assert.equal(out.height, 60);
      assert.deepEqual(out.getColumn('id').toArray(), Array.from({ length: 60 }, (_, i) => i));
      for (const [output, expected] of Object.entries(c.expected)) {
        const rows = (expected as Array<number | number[]>).slice(0, 60);
        if (Array.isArray(rows[0])) {
          (rows[0] as number[]).forEach((_, j) => assertClose(out.getColumn(`${output}_${j}`).toArray() as number[], rows.map((r) => (r as number[])[j]!), `${name} ${output}_${j}`, TOLERANCE));
        } else if (output === 'prediction' && c.steps.at(-1)!.kind !== 'linear-regressor') {
          assert.deepEqual(out.getColumn(output).toArray().map(Number), rows, `${name} labels`);
        } else {
          assertClose(out.getColumn(output).toArray() as number[], rows as number[], `${name} ${output}`, TOLERANCE);
        }
      }
    });
  }

  it('what follows the scoring runs in its tasks: a filter and a grouped aggregation give the frame\'s own answer', async () => {
    const c = cases.find((x) => x.name === 'binary-logistic')!;
    const model = ml.toOnnx(c.steps, { features: c.features });
    const local = frameOf(c.rows, c.features).withRowIndex('id').withColumns(pl.col('id').modulo(3).alias('g'));
    const scored = ml.predictOnnx(fromPolars(local, { partitions: 5 }), model, { inputs: c.features });
    const query = (df: typeof scored) => df.filter(pl.col('proba_1').gt(0.5)).groupBy('g').agg(pl.len().alias('n'), pl.col('proba_1').cast(pl.Float64).sum().alias('total'));
    const before = (await fixture.client.history()).stream.group.length;
    const got = (await query(scored).compute({ client: fixture.client })).sort('g');
    const history = await fixture.client.history();
    const ran = new Set(history.stream.group.slice(before).map((g) => history.groups[g]));
    const expected = (await scored.compute({ client: fixture.client })).filter(pl.col('proba_1').gt(0.5)).groupBy('g')
      .agg(pl.len().alias('n'), pl.col('proba_1').cast(pl.Float64).sum().alias('total')).sort('g');
    assert.ok(expected.height > 1, 'the filter keeps rows of several groups');
    assert.deepEqual(got.getColumn('g').toArray(), expected.getColumn('g').toArray());
    assert.deepEqual(got.getColumn('n').toArray(), expected.getColumn('n').toArray());
    assertClose(got.getColumn('total').toArray() as number[], expected.getColumn('total').toArray() as number[], 'sums of proba_1', 1e-12);
    assert.ok(ran.has('predict-onnx') && !ran.has('partial-agg'), `no partial aggregation task of its own: ${[...ran].join(', ')}`);
  });

  it("fitted estimators exported with toOnnx score as their own predict / predictProba (cluster fits)", async () => {
    const client = fixture.client;
    const rnd = seededRandom(21);
    const n = 400;
    const x = Array.from({ length: n }, () => [rnd() * 10, rnd() * 3 - 1, rnd() * 100, rnd()]);
    const y3 = x.map((r) => (r[0]! + r[1]! * 3 + rnd() * 4 > 8 ? (r[2]! > 50 ? 2 : 1) : 0));
    const counts = x.map((r) => Math.floor(Math.exp(0.1 * r[0]! + 0.2 * r[1]!) + rnd() * 2));
    const names = ['f0', 'f1', 'f2', 'f3'];
    const local = pl.DataFrame({ ...Object.fromEntries(names.map((c, j) => [c, x.map((r) => r[j]!)])), y: y3, counts });
    const df = fromPolars(local, { partitions: 4 });
    const X = df.select(...names);
    const check = async (label: string, model: ml.OnnxExportable, expected: pl.DataFrame, tolerance: number): Promise<void> => {
      const scored = await ml.predictOnnx(X, ml.toOnnx(model, { features: names }), { inputs: names }).compute({ client });
      for (const c of expected.columns) {
        const want = expected.getColumn(c).toArray().map(Number);
        const got = scored.getColumn(c).toArray().map(Number);
        if (c === 'prediction' && tolerance === 0) assert.deepEqual(got, want, `${label} ${c}`);
        else assertClose(got, want, `${label} ${c}`, tolerance);
      }
    };
    const pipeline = await new ml.Pipeline([['scale', new ml.StandardScaler()], ['clf', new ml.LogisticRegression()]]).fit(X, df.select('y'), { client });
    const proba = await pipeline.predictProba(X).compute({ client });
    const labels = await pipeline.predict(X).compute({ client });
    // float32 against the estimator's float64: probabilities within 1e-5; labels equal but where two classes tie that closely.
    await check('scaler + logistic', pipeline, proba, 1e-5);
    const scoredLabels = (await ml.predictOnnx(X, ml.toOnnx(pipeline, { features: names }), { inputs: names }).compute({ client })).getColumn('prediction').toArray().map(Number);
    const ties = scoredLabels.filter((l, i) => l !== Number(labels.getColumn('prediction').get(i)));
    assert.ok(ties.length <= 1, `labels differ on ${ties.length} rows`);
    const kmeans = await new ml.KMeans({ nClusters: 3, seed: 0 }).fit(X, undefined, { client });
    await check('kmeans', kmeans, await kmeans.predict(X).compute({ client }), 0);
    const linear = await new ml.LinearRegression().fit(X, df.select('counts'), { client });
    await check('linear', linear, await linear.predict(X).compute({ client }), 1e-5);
    const poisson = await new ml.PoissonRegression().fit(X, df.select('counts'), { client });
    await check('poisson', poisson, await poisson.predict(X).compute({ client }), 1e-5);
  });

  it('gives empty output columns for partitions that are all empty', async () => {
    const c = cases[0]!;
    const df = fromPolars(frameOf(c.rows, c.features), { partitions: 3 }).filter(pl.col('hour').gt(1e9));
    const out = await ml.predictOnnx(df, ml.toOnnx(c.steps, { features: c.features }), { inputs: c.features }).compute({ client: fixture.client });
    assert.equal(out.height, 0);
    assert.deepEqual(out.columns, [...c.features, 'prediction', 'proba_0', 'proba_1']);
    assert.deepEqual([String(out.getColumn('prediction').dtype), String(out.getColumn('proba_1').dtype)], ['DataType(Int64)', 'DataType(Float32)']);
  });

  it('scores a third-party model from an npm package (openwakeword-js hello_deepa.onnx: [1, 25, 96] -> [1, 1]) from a list column', async () => {
    const model = new Uint8Array(readFileSync(HELLO_DEEPA));
    const width = 25 * 96;
    const rnd = seededRandom(7);
    const rows = Array.from({ length: 5 }, () => Array.from({ length: width }, () => rnd() * 2 - 1));
    // Each row's 25 x 96 embedding window as one list column; its batch dimension is fixed at 1.
    const local = pl.DataFrame({ id: [0, 1, 2, 3, 4], window: rows });
    const df = fromPolars(local, { partitions: 2 });
    const out = await ml.predictOnnx(df, model, { inputs: ['window'] }).compute({ client: fixture.client });
    // The same model in this process, one row at a time.
    const session = await ort.InferenceSession.create(model);
    const expected: number[] = [];
    for (const r of rows) {
      const res = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', Float32Array.from(r), [1, 25, 96]) });
      expected.push(Number((res[session.outputNames[0]!]!.data as Float32Array)[0]));
    }
    await session.release();
    assert.deepEqual(out.columns, ['id', 'window', session.outputNames[0]]);
    assert.deepEqual(out.getColumn('id').toArray(), [0, 1, 2, 3, 4]);
    assertClose(out.getColumn(session.outputNames[0]!).toArray() as number[], expected, 'hello_deepa', 1e-6);
  });

  it('appends outputs of other types (string, bool, double, int32 input) with their dtypes', async () => {
    const g = new GraphBuilder();
    const x = g.name('x');
    const [asFloat] = g.node('Cast', [x], ['as_float'], { to: onnx.TensorProto.DataType.FLOAT });
    const [text] = g.node('Cast', [asFloat!], ['text'], { to: onnx.TensorProto.DataType.STRING });
    const [positive] = g.node('Greater', [asFloat!, g.floats('zero', [], [0])], ['positive']);
    const [wide] = g.node('Cast', [asFloat!], ['wide'], { to: onnx.TensorProto.DataType.DOUBLE });
    const model = g.model({
      opset: 17, docString: 'types', metadata: {},
      inputs: [{ name: x, elemType: onnx.TensorProto.DataType.INT32, dims: ['N', 1] }],
      outputs: [
        { name: 'text', from: text!, elemType: onnx.TensorProto.DataType.STRING, dims: ['N', 1] },
        { name: 'positive', from: positive!, elemType: onnx.TensorProto.DataType.BOOL, dims: ['N', 1] },
        { name: 'wide', from: wide!, elemType: onnx.TensorProto.DataType.DOUBLE, dims: ['N', 1] },
      ],
    });
    const df = fromPolars(pl.DataFrame({ n: [-2, 0, 3, 7, 11] }), { partitions: 2 });
    const out = await ml.predictOnnx(df, model, { inputs: ['n'], batchSize: 2 }).compute({ client: fixture.client });
    assert.deepEqual(Object.fromEntries(Object.entries(out.schema).map(([k, v]) => [k, String(v)])),
      { n: 'DataType(Float64)', text: 'DataType(String)', positive: 'DataType(Bool)', wide: 'DataType(Float64)' });
    assert.deepEqual(out.getColumn('text').toArray(), ['-2', '0', '3', '7', '11']);
    assert.deepEqual(out.getColumn('positive').toArray(), [false, false, true, true, true]);
    assert.deepEqual(out.getColumn('wide').toArray(), [-2, 0, 3, 7, 11]);
  });

  it("device 'cuda' without the CUDA provider or a GPU: a clear error naming both", async () => {
    const c = cases[0]!;
    await withCluster({ workers: 1, resources: { GPU: 1 } }, async (_cluster, client) => {
      const df = fromPolars(frameOf(c.rows, c.features), { partitions: 1 });
      const scored = ml.predictOnnx(df, ml.toOnnx(c.steps, { features: c.features }), { inputs: c.features, device: 'cuda' });
      await assert.rejects(scored.compute({ client }), (err: Error) => {
        assert.match(err.message, /predictOnnx with device 'cuda'.*missing onnxruntime-node's CUDA execution provider \(libonnxruntime_providers_cuda\.so is not in .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
        assert.match(err.message, /and a GPU/);
        return true;
      });
    });
  });
});
