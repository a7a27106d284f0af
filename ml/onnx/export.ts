// ml.toOnnx: a fitted model (or Pipeline, or its FittedStep list) as ONNX bytes. One float input
// [N, nFeatures]; the preprocessing steps in order, then the final estimator's outputs as
// tensors (never ZipMap, which onnxruntime-node cannot return):
//   regressor  prediction [N, 1]
//   classifier prediction [N] (the class label), proba [N, nClasses] in the order of `classes`
//   kmeans     prediction [N] (the nearest center), distances [N, k] (squared)
//   only preprocessing: transformed [N, nFeatures]
// so predictOnnx names its columns as predict / predictProba do (prediction, proba_0 ...).
import { MlError, OnnxExportError } from '../errors.js';
import type { FittedStep, OnnxExportable } from './fitted.js';
import { GraphBuilder } from './graph.js';
import { emitStep, type StepOutput } from './steps.js';
import { onnx } from './generated/onnx.js';

export interface ToOnnxOptions {
  /**
   * The feature columns, in the order the model was fitted on (the input tensor's columns).
   * Default: the model's fitted feature names (a Pipeline: its first step's); a list that differs
   * from them is refused. Needed for a bare FittedStep list.
   */
  features?: string[];
  /** The ai.onnx opset, 17 (default) to 21. */
  opset?: number;
  /** The input tensor's name (default "input"). */
  inputName?: string;
}

export const DEFAULT_OPSET = 17;
const MAX_OPSET = 21;
/** The model's metadata key holding the feature names (JSON), which predictOnnx can default `inputs` to. */
export const FEATURES_METADATA = 'kubedask.features';

export function toOnnx(model: OnnxExportable | readonly FittedStep[], options: ToOnnxOptions = {}): Uint8Array {
  const opset = options?.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < DEFAULT_OPSET || opset > MAX_OPSET) {
    throw new OnnxExportError(`toOnnx: opset must be an integer from ${DEFAULT_OPSET} to ${MAX_OPSET}, got ${String(opset)}`);
  }
  const features = featuresOf(model, options?.features);
  const steps = stepsOf(model);
  if (steps.length === 0) throw new OnnxExportError('toOnnx: the model has no steps to export');

  const g = new GraphBuilder();
  const inputName = g.name(options.inputName ?? 'input');
  let value = inputName;
  let width = features.length;
  let outputs: StepOutput[] | undefined;
  steps.forEach((step, i) => {
    const where = `toOnnx: step ${i} (${String((step as { kind?: unknown })?.kind)})`;
    if (outputs) throw new OnnxExportError(`${where}: comes after the final estimator (step ${i - 1}); only preprocessing steps may precede it`);
    const made = emitStep(g, step, value, width, where);
    if (made.kind === 'transform') ({ value, width } = made);
    else outputs = made.outputs;
  });
  outputs ??= [{ name: 'transformed', from: value, elemType: onnx.TensorProto.DataType.FLOAT, width }];
  return g.model({
    opset,
    inputs: [{ name: inputName, elemType: onnx.TensorProto.DataType.FLOAT, dims: ['N', features.length] }],
    outputs: outputs.map((o) => ({ name: o.name, from: o.from, elemType: o.elemType, dims: o.width === undefined ? ['N'] : ['N', o.width] })),
    docString: `kubedask: ${steps.map((s) => s.kind).join(' -> ')} over ${features.join(', ')}`,
    metadata: { [FEATURES_METADATA]: JSON.stringify(features) },
  });
}

function stepsOf(model: OnnxExportable | readonly FittedStep[]): readonly FittedStep[] {
  if (Array.isArray(model)) return model;
  const exportable = model as Partial<OnnxExportable> | null;
  if (!exportable || typeof exportable.onnxSteps !== 'function') {
    const what = (model as object | null)?.constructor?.name ?? String(model);
    throw new OnnxExportError(`toOnnx: ${what} cannot be exported to ONNX (it has no onnxSteps()); pass a fitted estimator, a Pipeline or a FittedStep list`);
  }
  try {
    return exportable.onnxSteps();
  } catch (err) {
    // The estimator's own errors (NotFittedError, a step it cannot export) as they are.
    if (err instanceof MlError) throw err;
    throw new OnnxExportError(`toOnnx: ${(err as Error).message}`, { cause: err });
  }
}

/** The input columns: the model's fitted feature names, or the given list, which must equal them. */
function featuresOf(model: OnnxExportable | readonly FittedStep[], given: unknown): string[] {
  const fittedNames = Array.isArray(model) ? undefined : fittedFeatures(model);
  if (given === undefined && fittedNames) return [...fittedNames];
  if (!Array.isArray(given) || given.length === 0 || given.some((f) => typeof f !== 'string')) {
    throw new OnnxExportError('toOnnx: options.features must name the feature columns, in the order the model was fitted on');
  }
  if (fittedNames && given.join('\u0000') !== fittedNames.join('\u0000')) {
    // The input tensor is positional: another order would score silently wrong.
    throw new OnnxExportError(`toOnnx: options.features (${given.join(', ')}) differ from the features the model was fitted on (${fittedNames.join(', ')}); leave features out to use the fitted ones`);
  }
  return given as string[];
}

/**
 * The feature names a fitted model saw, read without knowing its class: an estimator's
 * featureNames / featureNamesIn, a Pipeline's first step's, a wrapper's fitted estimator's.
 */
function fittedFeatures(model: unknown, depth = 0): string[] | undefined {
  if (model === null || typeof model !== 'object' || depth > 8) return undefined;
  const m = model as { featureNamesIn?: unknown; featureNames?: unknown; steps?: unknown; fittedEstimator?: unknown };
  for (const names of [m.featureNamesIn, m.featureNames]) if (Array.isArray(names) && names.every((n) => typeof n === 'string')) return names as string[];
  if (Array.isArray(m.steps)) {
    const first = (m.steps as unknown[]).map((s) => (Array.isArray(s) ? s[1] : undefined)).find((e) => e !== 'passthrough');
    return fittedFeatures(first, depth + 1);
  }
  return fittedFeatures(m.fittedEstimator, depth + 1);
}
