// predictOnnx without a cluster: every disagreement between the model and the frame is an
// OnnxModelError at the call, before any task runs; the plan it makes (one onnx/predict task
// per partition, fusing the ops before it, reading the model key last, GPU=1 for 'cuda', only
// the columns it reads scanned); and `import 'kubedask'` does not load onnxruntime-node.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pl from 'nodejs-polars';
import { fromPolars, ml } from '../../index.js';
import { DataFrame } from '../../dataframe/frame.js';
import { planTasks } from '../../dataframe/plan/lower.js';
import type { PlanNode } from '../../dataframe/plan/nodes.js';
import { optimize } from '../../dataframe/plan/optimize.js';
import { OnnxModelError } from '../../ml/errors.js';
import { onnx } from '../../ml/onnx/generated/onnx.js';
import type { PredictParams } from '../../ml/onnx/predict-params.js';

const features = ['hour', 'weekday', 'month', 'distance'];
const model = ml.toOnnx([
  { kind: 'standard-scaler', mean: [1, 2, 3, 4], scale: [1, 1, 1, 1] },
  { kind: 'linear-classifier', coef: [[1, 2, 3, 4]], intercept: [0], classes: [0, 1], multiClass: 'binary' },
], { features });
const frame = pl.DataFrame({ hour: [1, 2], weekday: [3, 4], month: [5, 6], distance: [7.5, 8.5], origin: ['a', 'b'] });
const df = fromPolars(frame, { partitions: 2 });

/** A model whose graph has these inputs and outputs (types only; no nodes: enough to inspect). */
function modelWith(inputs: onnx.ValueInfoProto.$Properties[], outputs: onnx.ValueInfoProto.$Properties[]): Uint8Array {
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name: 'g', input: inputs, output: outputs } }).finish();
}
const tensor = (name: string, elemType: number, dims: Array<number | string>): onnx.ValueInfoProto.$Properties =>
  ({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } } });
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function fails(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: Error) => err instanceof OnnxModelError && message.test(err.message), String(message));
}

describe('predictOnnx checks before any task runs', () => {
  it('input columns that do not match the model input shape', () => {
    fails(() => ml.predictOnnx(df, model, { inputs: ['hour', 'weekday', 'month'] }), /model input "input" has shape \[N, 4\], 4 value\(s\) per row, but 3 column\(s\) were given \(hour, weekday, month\)/);
  });
  it('a column the frame does not have', () => fails(() => ml.predictOnnx(df, model, { inputs: ['hour', 'weekday', 'month', 'dist'] }), /no column "dist"; the columns are hour, weekday, month, distance, origin/));
  it('a column that is not numeric', () => fails(() => ml.predictOnnx(df, model, { inputs: ['hour', 'weekday', 'month', 'origin'] }), /column "origin" is String; the model reads numbers/));
  it('a model with several inputs given one list', () => {
    const two = modelWith([tensor('a', FLOAT, ['N', 1]), tensor('b', FLOAT, ['N', 1])], [tensor('y', FLOAT, ['N'])]);
    fails(() => ml.predictOnnx(df, two, { inputs: ['hour', 'month'] }), /the model has 2 inputs \("a" FLOAT \[N, 1\], "b" FLOAT \[N, 1\]\); pass inputs as \{ a: \[\.\.\.\], b: \[\.\.\.\] \}/);
    fails(() => ml.predictOnnx(df, two, { inputs: { a: ['hour'], c: ['month'] } }), /no input "c"; nothing given for "b"/);
    assert.ok(ml.predictOnnx(df, two, { inputs: { a: ['hour'], b: ['month'] } }).columns.includes('y'));
  });
  it('a ZipMap output (a sequence of maps)', () => {
    const zipmap: onnx.ValueInfoProto.$Properties = { name: 'output_probability', type: { sequenceType: { elemType: { mapType: { keyType: onnx.TensorProto.DataType.INT64, valueType: { tensorType: { elemType: FLOAT } } } } } } };
    const m = modelWith([tensor('x', FLOAT, ['N', 4])], [tensor('output_label', onnx.TensorProto.DataType.INT64, ['N']), zipmap]);
    fails(() => ml.predictOnnx(df, m, { inputs: features }), /model output "output_probability" is a sequence \(as a ZipMap gives\), which onnxruntime-node cannot return/);
    assert.deepEqual(ml.predictOnnx(df, m, { inputs: features, outputs: ['output_label'] }).columns.slice(-1), ['output_label']);
  });
  it('an output whose width is not in the model', () => {
    fails(() => ml.predictOnnx(df, modelWith([tensor('x', FLOAT, ['N', 4])], [tensor('y', FLOAT, ['N', 'K'])]), { inputs: features }), /model output "y" has shape \[N, K\]: its width is not in the model/);
  });
  it('an output column that the frame already has', () => {
    fails(() => ml.predictOnnx(df.withColumns(pl.lit(1).alias('proba_1')), model, { inputs: features }), /its column "proba_1" is already a column of the DataFrame/);
  });
  it('an output that is not the model\'s, bytes that are not ONNX, bad options', () => {
    fails(() => ml.predictOnnx(df, model, { inputs: features, outputs: ['label'] }), /the model has no output "label"; its outputs are "prediction" INT64 \[N\], "proba" FLOAT \[N, 2\]/);
    fails(() => ml.predictOnnx(df, new Uint8Array([1, 2, 3]), { inputs: features }), /the model bytes are not an ONNX model/);
    fails(() => ml.predictOnnx(df, model, { inputs: features, batchSize: 0 }), /batchSize must be a positive integer, got 0/);
    fails(() => ml.predictOnnx(df, model, { inputs: features, device: 'gpu' as never }), /device must be 'cpu' or 'cuda', got gpu/);
  });
});

describe('predictOnnx plan', () => {
  it('appends the outputs as columns named by shape, from metadata', () => {
    const scored = ml.predictOnnx(df, model, { inputs: features });
    assert.deepEqual(scored.columns, [...Object.keys(frame.schema), 'prediction', 'proba_0', 'proba_1']);
    // A kubedask-exported model records its features: inputs may be left out.
    assert.deepEqual(ml.predictOnnx(df, model).columns, scored.columns);
    assert.match(scored.explain(), /predict-onnx \(per partition\) reading \[hour, weekday, month, distance\], adding \[prediction, proba_0, proba_1\]/);
  });

  it('one onnx/predict task per partition, the ops before it fused in, the model key read last; GPU=1 for cuda', () => {
    const scored = ml.predictOnnx(df.filter(pl.col('hour').gt(0)), model, { inputs: features, batchSize: 10, device: 'cuda' });
    const modelKey = [...scored.bindings.entries()].find(([, b]) => b.bytes === model)![0];
    const { tasks, outputs } = planTasks(optimize(scored.plan), (g) => `${g}-${Math.random().toString(36).slice(2, 6)}`);
    const predict = tasks.filter((t) => t.kernel === 'onnx/predict');
    assert.equal(predict.length, 2);
    assert.deepEqual(outputs, predict.map((t) => t.key));
    for (const t of predict) {
      assert.equal(t.inputs.at(-1), modelKey);
      assert.equal(t.group, 'predict-onnx');
      assert.deepEqual(t.resources, { GPU: 1 });
      assert.equal(t.stayWithData, true, 'scored where the partition is');
      const p = t.params as PredictParams;
      assert.deepEqual(p.stage.ops.map((o) => o.op), ['filter']);
      assert.deepEqual(p.post, []);
      assert.deepEqual([p.batchSize, p.device, p.feeds[0]!.columns, p.fetches.map((f) => f.columns)], [10, 'cuda', features, [['prediction'], ['proba_0', 'proba_1']]]);
    }
  });

  it('the ops after it, an aggregation\'s partial included, run in its task: one task per partition, then the combine', () => {
    const total = ml.predictOnnx(df, model, { inputs: features }).filter(pl.col('proba_1').gt(0.5)).select(pl.col('proba_1').sum());
    const { tasks, outputs } = planTasks(optimize(total.plan), (g) => `${g}-${Math.random().toString(36).slice(2, 6)}`);
    const predict = tasks.filter((t) => t.kernel === 'onnx/predict');
    assert.equal(predict.length, 2);
    for (const t of predict) assert.deepEqual((t.params as PredictParams).post.map((o) => o.op), ['filter', 'aggregate']);
    // Nothing else reads the partitions: the one other task combines the two partial sums.
    const rest = tasks.filter((t) => t.kernel !== 'onnx/predict');
    assert.deepEqual(rest.map((t) => [t.kernel, t.inputs]), [['df/stage', predict.map((t) => t.key)]]);
    assert.deepEqual(outputs, [rest[0]!.key]);
  });

  it('a scored frame cut into more partitions is scored once per partition; read from files, its tasks go anywhere', () => {
    const more = ml.predictOnnx(df, model, { inputs: features }).repartition({ partitions: 6 });
    const { tasks } = planTasks(optimize(more.plan), (g) => `${g}-${Math.random().toString(36).slice(2, 6)}`);
    assert.equal(tasks.filter((t) => t.kernel === 'onnx/predict').length, 2);
    assert.equal(tasks.filter((t) => t.kernel === 'df/stage').length, 6, 'six slices of the two scored partitions');
    const scan: PlanNode = { kind: 'scan', format: 'parquet', parts: [{ path: '/d/a.parquet', offset: 0, rows: -1 }], columns: null, predicate: null,
      schema: features.map((name) => ({ name, dtype: 'Float64' })) };
    const scanned = DataFrame.fromPlan(scan, { hour: pl.Float64, weekday: pl.Float64, month: pl.Float64, distance: pl.Float64 });
    const fused = planTasks(optimize(ml.predictOnnx(scanned, model, { inputs: features }).plan), (g) => g).tasks.find((t) => t.kernel === 'onnx/predict')!;
    assert.equal(fused.inputs.length, 1, 'the model is its one key');
    assert.equal(fused.stayWithData, undefined, 'not pinned to where the model is');
  });

  it('reads only the columns the model needs when only its outputs are used', () => {
    const scan: PlanNode = { kind: 'scan', format: 'parquet', parts: [{ path: '/d/a.parquet', offset: 0, rows: -1 }], columns: null, predicate: null,
      schema: [...features.map((name) => ({ name, dtype: 'Float64' })), { name: 'origin', dtype: 'String' }] };
    const scanned = DataFrame.fromPlan(scan, { hour: pl.Float64, weekday: pl.Float64, month: pl.Float64, distance: pl.Float64, origin: pl.String });
    const only = ml.predictOnnx(scanned, model, { inputs: features }).select('proba_1');
    const { tasks } = planTasks(optimize(only.plan), (g) => g);
    const predict = tasks.find((t) => t.kernel === 'onnx/predict')!;
    assert.deepEqual((predict.params as PredictParams).stage.source?.columns, features);
  });

  it("`import 'kubedask'` loads no onnxruntime-node", () => {
    const log = join(mkdtempSync(join(tmpdir(), 'onnx-modules-')), 'loaded.txt');
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', join(root, 'test/fixtures/record-modules.mjs'), '--input-type=module', '-e', `await import(${JSON.stringify(join(root, 'dist/index.js'))})`],
      { env: { ...process.env, KUBEDASK_MODULES_LOG: log }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const loaded = readFileSync(log, 'utf8').split('\n');
    assert.ok(loaded.some((u) => u.includes('/dist/ml/onnx/predict.js')), 'the recording works');
    assert.deepEqual(loaded.filter((u) => u.includes('onnxruntime')), []);
  });
});
