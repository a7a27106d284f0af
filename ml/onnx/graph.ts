// A small builder of ONNX graphs over the generated onnx.proto types (ml/onnx/generated): named
// float constants, nodes with typed attributes, and the model's bytes.
import { onnx } from './generated/onnx.js';

export const ML_DOMAIN = 'ai.onnx.ml';
/** ai.onnx.ml opset 3 has every operator the exporter writes (ONNX 1.12 and later). */
export const ML_OPSET = 3;

/** The IR version that goes with an opset (onnx/helper.py's VERSION_TABLE). */
export function irVersionFor(opset: number): number {
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

/** An int (a number), a float (`{ f }`), a string, or lists of ints, floats or strings. */
export type AttrValue = number | string | { f: number } | { ints: number[] } | { floats: number[] } | { strings: string[] };

export interface ValueSpec {
  name: string;
  elemType: onnx.TensorProto.DataType;
  /** A number, or a symbolic name ("N") for a dimension that varies. */
  dims: Array<number | string>;
}

export class GraphBuilder {
  private readonly nodes: onnx.NodeProto.$Properties[] = [];
  private readonly initializers: onnx.TensorProto.$Properties[] = [];
  private readonly used = new Set<string>();

  /** A fresh value name starting with `base`. */
  name(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** A float32 constant. */
  floats(base: string, dims: number[], values: ArrayLike<number>): string {
    return this.constant(base, dims, onnx.TensorProto.DataType.FLOAT, { floatData: Array.from(values) });
  }

  /** An int64 constant (shapes, axes). */
  ints(base: string, dims: number[], values: number[]): string {
    return this.constant(base, dims, onnx.TensorProto.DataType.INT64, { int64Data: values });
  }

  /** A double constant. */
  doubles(base: string, dims: number[], values: number[]): string {
    return this.constant(base, dims, onnx.TensorProto.DataType.DOUBLE, { doubleData: values });
  }

  /** Adds a node; its outputs are fresh names from `outputs` (bases), returned in order. */
  node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): string[] {
    const out = outputs.map((o) => this.name(o));
    this.nodes.push({
      opType, domain, input: inputs, output: out, name: this.name(`${opType}_node`),
      attribute: Object.entries(attrs).map(([name, value]) => attribute(name, value)),
    });
    return out;
  }

  /** The model's bytes: the graph from `input` to `outputs` (renamed to the given names by Identity). */
  model(options: { inputs: ValueSpec[]; outputs: Array<ValueSpec & { from: string }>; opset: number; docString: string; metadata: Record<string, string> }): Uint8Array {
    const outputs = options.outputs.map((o) => {
      if (o.from !== o.name) this.nodes.push({ opType: 'Identity', domain: '', input: [o.from], output: [o.name], name: this.name('Identity_node') });
      return valueInfo(o);
    });
    const model: onnx.ModelProto.$Properties = {
      irVersion: irVersionFor(options.opset),
      producerName: 'kubedask',
      docString: options.docString,
      opsetImport: [{ domain: '', version: options.opset }, { domain: ML_DOMAIN, version: ML_OPSET }],
      metadataProps: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: 'kubedask_model',
        node: this.nodes,
        initializer: this.initializers,
        input: options.inputs.map(valueInfo),
        output: outputs,
      },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  private constant(base: string, dims: number[], dataType: onnx.TensorProto.DataType, data: Partial<onnx.TensorProto.$Properties>): string {
    const name = this.name(base);
    this.initializers.push({ name, dims, dataType, ...data });
    return name;
  }
}

function attribute(name: string, value: AttrValue): onnx.AttributeProto.$Properties {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if ('f' in value) return { name, type: T.FLOAT, f: value.f };
  if ('ints' in value) return { name, type: T.INTS, ints: value.ints };
  if ('strings' in value) return { name, type: T.STRINGS, strings: value.strings.map((v) => new TextEncoder().encode(v)) };
  return { name, type: T.FLOATS, floats: value.floats };
}

function valueInfo(v: ValueSpec): onnx.ValueInfoProto.$Properties {
  return {
    name: v.name,
    type: { tensorType: { elemType: v.elemType, shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}
