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
export { LogisticRegression, type LogisticRegressionParams } from './linear/logistic-regression.js';
export { LinearRegression, type LinearRegressionParams } from './linear/linear-regression.js';
export { PoissonRegression, type PoissonRegressionParams } from './linear/poisson-regression.js';
export { KMeans, type KMeansParams } from './cluster/kmeans.js';
export { HistGradientBoostingClassifier, HistGradientBoostingRegressor, type HistGradientBoostingParams } from './ensemble/hist-gradient-boosting.js';
export { SGDClassifier, SGDRegressor, type SgdClassifierParams, type SgdRegressorParams, type PartialFitOptions } from './sgd/sgd.js';
export { Incremental, type IncrementalParams } from './wrappers/incremental.js';
export { ParallelPostFit } from './wrappers/parallel-post-fit.js';
export { toOnnx, type ToOnnxOptions } from './onnx/export.js';
export { OnnxExportError, OnnxModelError, OnnxDeviceError } from './errors.js';
export { predictOnnx, type PredictOnnxOptions } from './onnx/predict.js';
export { GridSearchCV, RandomizedSearchCV, type SearchOptions, type RandomizedSearchOptions } from './model-selection/search.js';
export { uniform, logUniform, randint, type Distribution, type ParamGrid, type ParamDistributions } from './model-selection/params.js';
export type { Scoring, ScoringName, ScorerFunction } from './model-selection/scoring.js';
export {
  IncrementalSearchCV, SuccessiveHalvingSearchCV, HyperbandSearchCV, BOHBSearchCV,
  type PartialFitEstimator, type IncrementalSearchOptions, type IncrementalRandomSearchOptions,
  type SuccessiveHalvingOptions, type HyperbandOptions, type BohbSearchOptions, type HistoryRecord, type SearchMetadata,
} from './model-selection/incremental-search.js';
export type { BohbOptions } from './model-selection/bohb.js';
export type { ShardScoring } from './sgd/sgd.js';
