// kubedask's machine learning, exported from the package root as `ml` (see docs/ml.md).
export type { Matrix, Shard, Summable } from './core/matrix.js';
export { LocalShards, type Shards } from './core/shards.js';
export type { Estimator, Transformer, Predictor, Classifier, FitOptions, Target } from './core/estimator.js';
export type { FittedStep, OnnxExportable } from './onnx/fitted.js';
export { toShards, type ShardsMeta, type ToShardsOptions } from './core/to-shards.js';
export { Pipeline, type PipelineStep } from './core/pipeline.js';
export { StandardScaler, type StandardScalerParams } from './preprocessing/standard-scaler.js';
export { MinMaxScaler, type MinMaxScalerParams } from './preprocessing/min-max-scaler.js';
export { SimpleImputer, type SimpleImputerParams, type ImputeStrategy } from './preprocessing/simple-imputer.js';
export { OneHotEncoder, OrdinalEncoder, type OneHotEncoderParams, type OrdinalEncoderParams, type Category } from './preprocessing/encoders.js';
export { ColumnTransformer, type ColumnTransformerEntry, type ColumnTransformerParams } from './preprocessing/column-transformer.js';
export { MlError, MlDataError, MlParamError, NotFittedError } from './errors.js';
export * as metrics from './metrics/index.js';
export { trainTestSplit, KFold, type TrainTestSplitOptions, type KFoldOptions } from './model-selection/split.js';
export { toOnnx, type ToOnnxOptions } from './onnx/export.js';
export { OnnxExportError, OnnxModelError, OnnxDeviceError } from './errors.js';
export { predictOnnx, type PredictOnnxOptions } from './onnx/predict.js';
