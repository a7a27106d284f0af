// ml.predictOnnx: any ONNX model (ours or a third party's) scored on each partition by the
// workers, its outputs appended as columns. Everything the model and the frame can disagree on
// is checked here, from the model's bytes and the frame's schema, before any task runs; the
// model travels to the cluster once (a scattered key every task reads), and each worker keeps
// one session per model (ml/onnx/kernels.ts).
import { createHash } from 'node:crypto';
import pl from 'nodejs-polars';
import { DataFrame } from '../../dataframe/frame.js';
import type { Schema } from '../../dataframe/plan/nodes.js';
import type { PlSchema } from '../../dataframe/schema.js';
import { planSchema } from '../../dataframe/schema.js';
import { OnnxModelError } from '../errors.js';
import { FEATURES_METADATA } from './export.js';
import { inspectModel, shapeText, type ElemType, type ModelInfo, type ValueInfo } from './inspect.js';
import type { Device, Feed, Fetch, PredictParams } from './predict-params.js';

export interface PredictOnnxOptions {
  /**
   * The columns the model reads: a list for a model of one input ([N, columns] or, for one
   * column, [N]), or the columns per input name. Default: the features a kubedask-exported
   * model records.
   */
  inputs?: string[] | Record<string, string[]>;
  /** The outputs to append (default all), each a tensor. */
  outputs?: string[];
  /** Rows per ONNX Runtime run (default 65536). */
  batchSize?: number;
  /** 'cuda': ONNX Runtime's CUDA execution provider, on workers with a GPU (tasks ask for resource GPU=1). */
  device?: Device;
}

export const DEFAULT_BATCH_SIZE = 65_536;

const POLARS: Record<ElemType, pl.DataType> = {
  float32: pl.Float32, float64: pl.Float64, int64: pl.Int64, int32: pl.Int32, bool: pl.Bool, string: pl.String,
};
const NUMERIC = /^(U?Int(8|16|32|64)|Float(32|64)|Bool(ean)?)$/;
/** A list (or array) column of numbers: one row's whole tensor. */
const VECTOR = /^(List|Array)\((DataType\()?(U?Int(8|16|32|64)|Float(32|64))\b/;

let modelSeq = 0;

export function predictOnnx(df: DataFrame, model: Uint8Array, options: PredictOnnxOptions = {}): DataFrame {
  if (!(df instanceof DataFrame)) throw new OnnxModelError('predictOnnx: the first argument must be a kubedask DataFrame');
  if (!(model instanceof Uint8Array)) throw new OnnxModelError('predictOnnx: the model must be ONNX bytes (a Uint8Array, e.g. from ml.toOnnx or readFileSync)');
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new OnnxModelError(`predictOnnx: batchSize must be a positive integer, got ${String(batchSize)}`);
  const device = options.device ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') throw new OnnxModelError(`predictOnnx: device must be 'cpu' or 'cuda', got ${String(device)}`);

  const info = inspectModel(model);
  const schema = df.schema;
  const feeds = bindInputs(info, options.inputs, schema);
  const fetches = bindOutputs(info, options.outputs, schema);
  const added: Schema = fetches.flatMap((f) => f.columns.map((name) => ({ name, dtype: planSchema({ x: POLARS[f.elemType] })[0]!.dtype })));
  const params: Omit<PredictParams, 'stage' | 'post'> = { modelHash: createHash('sha256').update(model).digest('hex'), feeds, fetches, batchSize, device };

  const modelKey = `onnx-model-${++modelSeq}`;
  const outSchema: PlSchema = { ...schema, ...Object.fromEntries(fetches.flatMap((f) => f.columns.map((c) => [c, POLARS[f.elemType]]))) };
  return DataFrame.fromPlan(
    {
      kind: 'kernel', input: df.plan, schema: planSchema(outSchema),
      call: {
        kernel: 'onnx/predict', what: 'predict-onnx', params: { ...params }, extraInputs: [modelKey],
        reads: [...new Set(feeds.flatMap((f) => f.columns))], added, resources: device === 'cuda' ? { GPU: 1 } : null,
        // Scoring a partition takes less than copying it to another worker.
        stayWithData: true,
      },
    },
    outSchema, new Map([...df.bindings, [modelKey, { bytes: model }]]), df.functions,
  );
}

function bindInputs(info: ModelInfo, asked: PredictOnnxOptions['inputs'], schema: PlSchema): Feed[] {
  const names = info.inputs.map((i) => i.name);
  let byInput: Record<string, string[]>;
  if (asked === undefined) {
    const recorded = info.metadata[FEATURES_METADATA];
    if (!recorded || info.inputs.length !== 1) throw new OnnxModelError(`predictOnnx: options.inputs must name the columns the model reads (its inputs: ${describe(info.inputs)})`);
    byInput = { [names[0]!]: JSON.parse(recorded) as string[] };
  } else if (Array.isArray(asked)) {
    if (info.inputs.length !== 1) {
      throw new OnnxModelError(`predictOnnx: the model has ${info.inputs.length} inputs (${describe(info.inputs)}); pass inputs as { ${names.map((n) => `${n}: [...]`).join(', ')} }`);
    }
    byInput = { [names[0]!]: asked };
  } else if (asked && typeof asked === 'object') {
    byInput = asked;
    const unknown = Object.keys(asked).filter((n) => !names.includes(n));
    const missing = names.filter((n) => !(n in asked));
    if (unknown.length || missing.length) {
      throw new OnnxModelError(`predictOnnx: the model's inputs are ${describe(info.inputs)}; ${[unknown.length ? `no input ${unknown.map((n) => `"${n}"`).join(', ')}` : '', missing.length ? `nothing given for ${missing.map((n) => `"${n}"`).join(', ')}` : ''].filter(Boolean).join('; ')}`);
    }
  } else {
    throw new OnnxModelError('predictOnnx: options.inputs must be a list of columns or { inputName: [columns] }');
  }
  return info.inputs.map((input) => feed(input, byInput[input.name]!, schema));
}

function feed(input: ValueInfo, columns: string[], schema: PlSchema): Feed {
  const what = `predictOnnx: model input "${input.name}"`;
  if (!Array.isArray(columns) || columns.length === 0 || columns.some((c) => typeof c !== 'string')) throw new OnnxModelError(`${what}: give it a non-empty list of column names`);
  const dtypes = columns.map((c) => {
    if (!(c in schema)) throw new OnnxModelError(`${what}: no column "${c}"; the columns are ${listed(Object.keys(schema))}`);
    return planSchema({ [c]: schema[c]! })[0]!.dtype;
  });
  const vector = columns.length === 1 && VECTOR.test(dtypes[0]!);
  dtypes.forEach((dtype, i) => {
    if (!vector && !NUMERIC.test(dtype)) throw new OnnxModelError(`${what}: column "${columns[i]}" is ${dtype}; the model reads numbers, or one list column of numbers per row (cast it, or encode it first)`);
  });
  if (input.kind !== 'tensor') throw new OnnxModelError(`${what} is a ${input.kind}; predictOnnx feeds tensors`);
  const elemType = input.elemType;
  if (elemType !== 'float32' && elemType !== 'float64' && elemType !== 'int64' && elemType !== 'int32') {
    throw new OnnxModelError(`${what} is a ${input.elemTypeName} tensor; predictOnnx feeds float, double, int64 or int32 tensors`);
  }
  // A row is one slice along the first dimension: [N] takes one column, [N, F] F columns, and
  // [N, d1, d2 ...] (fixed d's) d1 * d2 * ... columns in row-major order.
  const dims = input.dims ?? [null, vector ? null : columns.length];
  if (dims.length === 0) throw new OnnxModelError(`${what} is a scalar; predictOnnx feeds a batch of rows along the first dimension`);
  const rest = dims.slice(1);
  const fixedRest = dims.length === 2 && typeof dims[1] !== 'number' && !vector ? [columns.length] : rest;
  if (fixedRest.some((d) => typeof d !== 'number')) throw new OnnxModelError(`${what} has shape ${shapeText(dims)}: predictOnnx needs every dimension after the first fixed, to lay columns out in it`);
  const width = (fixedRest as number[]).reduce((a, b) => a * b, 1);
  if (!vector && width !== columns.length) {
    throw new OnnxModelError(`${what} has shape ${shapeText(dims)}, ${width} value(s) per row, but ${columns.length} column(s) were given (${listed(columns)})`);
  }
  return { name: input.name, columns, elemType, dims: fixedRest as number[], fixedBatch: typeof dims[0] === 'number' ? dims[0] : null, vector };
}

function bindOutputs(info: ModelInfo, asked: string[] | undefined, schema: PlSchema): Fetch[] {
  const names = info.outputs.map((o) => o.name);
  if (asked !== undefined && (!Array.isArray(asked) || asked.length === 0)) throw new OnnxModelError(`predictOnnx: options.outputs must list some of the model's outputs (${names.join(', ')})`);
  const unknown = (asked ?? []).filter((n) => !names.includes(n));
  if (unknown.length) throw new OnnxModelError(`predictOnnx: the model has no output ${unknown.map((n) => `"${n}"`).join(', ')}; its outputs are ${describe(info.outputs)}`);
  const chosen = asked ? info.outputs.filter((o) => asked.includes(o.name)) : info.outputs;
  const taken = new Set(Object.keys(schema));
  return chosen.map((output) => {
    const what = `predictOnnx: model output "${output.name}"`;
    if (output.kind !== 'tensor') {
      throw new OnnxModelError(`${what} is a ${output.kind} (as a ZipMap gives), which onnxruntime-node cannot return: export the model with tensor outputs only (skl2onnx: options={'zipmap': False}), or leave it out with { outputs: [...] }`);
    }
    if (!output.elemType) throw new OnnxModelError(`${what} is a ${output.elemTypeName} tensor, which predictOnnx cannot make a column of`);
    const dims = output.dims;
    if (!dims || dims.length < 1) throw new OnnxModelError(`${what} has shape ${shapeText(dims)}; predictOnnx appends outputs of shape [N] or [N, k]`);
    if (dims.slice(1).some((d) => typeof d !== 'number')) throw new OnnxModelError(`${what} has shape ${shapeText(dims)}: its width is not in the model, so its columns cannot be named before it runs`);
    const width = (dims.slice(1) as number[]).reduce((a, b) => a * b, 1);
    const columns = width === 1 ? [output.name] : Array.from({ length: width }, (_, j) => `${output.name}_${j}`);
    for (const c of columns) {
      if (taken.has(c)) throw new OnnxModelError(`${what}: its column "${c}" is already a column of the DataFrame; drop or rename that first`);
      taken.add(c);
    }
    return { name: output.name, columns, elemType: output.elemType };
  });
}

/** Names for a message: the first few and how many more. */
function listed(names: string[]): string {
  return names.length <= 8 ? names.join(', ') : `${names.slice(0, 8).join(', ')} and ${names.length - 8} more`;
}

function describe(values: ValueInfo[]): string {
  return values.map((v) => `"${v.name}" ${v.kind === 'tensor' ? `${v.elemTypeName} ${shapeText(v.dims)}` : v.kind}`).join(', ');
}
