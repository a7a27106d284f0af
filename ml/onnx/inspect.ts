// What an ONNX model takes and gives, read from its bytes with the generated onnx.proto types
// (no onnxruntime here): predictOnnx checks a model against the DataFrame before any task runs.
import { OnnxModelError } from '../errors.js';
import { onnx } from './generated/onnx.js';

/** Tensor element types predictOnnx moves between columns and tensors, by ONNX Runtime's name. */
export type ElemType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool' | 'string';

const ELEM_TYPES: Partial<Record<onnx.TensorProto.DataType, ElemType>> = {
  [onnx.TensorProto.DataType.FLOAT]: 'float32', [onnx.TensorProto.DataType.DOUBLE]: 'float64',
  [onnx.TensorProto.DataType.INT64]: 'int64', [onnx.TensorProto.DataType.INT32]: 'int32',
  [onnx.TensorProto.DataType.BOOL]: 'bool', [onnx.TensorProto.DataType.STRING]: 'string',
};

/** A dimension: a number, a symbolic name, or null (unknown). */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  /** 'tensor' with its element type (undefined: one predictOnnx cannot move) and shape (null: unknown rank); else what it is. */
  kind: 'tensor' | 'sequence' | 'map' | 'other';
  elemType?: ElemType;
  /** The ONNX name of the element type, for messages. */
  elemTypeName: string;
  dims: Dim[] | null;
}

export interface ModelInfo {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** metadata_props */
  metadata: Record<string, string>;
}

export function inspectModel(bytes: Uint8Array): ModelInfo {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new OnnxModelError(`predictOnnx: the model bytes are not an ONNX model (${(err as Error).message})`, { cause: err });
  }
  const graph = model.graph;
  if (!graph || !graph.output?.length) throw new OnnxModelError('predictOnnx: the model bytes are not an ONNX model (no graph with outputs)');
  // Before IR 4, initializers were listed among the inputs too; they are not fed.
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  return {
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(valueInfo),
    outputs: graph.output.map(valueInfo),
    metadata: Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
  };
}

function valueInfo(v: onnx.ValueInfoProto.$Properties): ValueInfo {
  const name = v.name ?? '';
  const type = v.type;
  if (type?.sequenceType) return { name, kind: 'sequence', elemTypeName: 'sequence', dims: null };
  if (type?.mapType) return { name, kind: 'map', elemTypeName: 'map', dims: null };
  const tensor = type?.tensorType;
  if (!tensor) return { name, kind: 'other', elemTypeName: 'non-tensor', dims: null };
  const code = (tensor.elemType ?? 0) as onnx.TensorProto.DataType;
  const dims = tensor.shape ? (tensor.shape.dim ?? []).map(dim) : null;
  return { name, kind: 'tensor', elemType: ELEM_TYPES[code], elemTypeName: onnx.TensorProto.DataType[code] ?? String(code), dims };
}

function dim(d: onnx.TensorShapeProto.Dimension.$Properties): Dim {
  if (d.dimValue !== undefined && d.dimValue !== null && Object.hasOwn(d, 'dimValue')) return Number(d.dimValue);
  return d.dimParam ? d.dimParam : null;
}

/** "[N, 4]" */
export function shapeText(dims: Dim[] | null): string {
  return dims ? `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : 'of unknown shape';
}
