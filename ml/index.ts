// kubedask's machine learning, exported from the package root as `ml` (see docs/ml.md).
export type { Matrix, Shard, Summable } from './core/matrix.js';
export { LocalShards, type Shards } from './core/shards.js';
export type { Estimator, Transformer, Predictor, Classifier, FitOptions, Target } from './core/estimator.js';
export type { FittedStep, OnnxExportable } from './onnx/fitted.js';
export { toOnnx, type ToOnnxOptions } from './onnx/export.js';
export { OnnxExportError, OnnxModelError, OnnxDeviceError } from './errors.js';
export { predictOnnx, type PredictOnnxOptions } from './onnx/predict.js';
