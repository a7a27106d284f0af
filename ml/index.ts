// kubedask's machine learning, exported from the package root as `ml` (see docs/ml.md).
export type { Matrix, Shard, Summable } from './core/matrix.js';
export { LocalShards, type Shards } from './core/shards.js';
export type { Estimator, Transformer, Predictor, Classifier, FitOptions, Target } from './core/estimator.js';
export type { FittedStep, OnnxExportable } from './onnx/fitted.js';
export { MlError, EstimatorParamsError, NotFittedError, FitDataError } from './errors.js';
export { LogisticRegression, type LogisticRegressionParams } from './linear/logistic-regression.js';
export { LinearRegression, type LinearRegressionParams } from './linear/linear-regression.js';
export { PoissonRegression, type PoissonRegressionParams } from './linear/poisson-regression.js';
export { KMeans, type KMeansParams } from './cluster/kmeans.js';
export { SGDClassifier, SGDRegressor, type SgdClassifierParams, type SgdRegressorParams, type PartialFitOptions } from './sgd/sgd.js';
export type { OrderedShards } from './sgd/ordered.js';
export { Incremental, type IncrementalParams } from './wrappers/incremental.js';
export { ParallelPostFit } from './wrappers/parallel-post-fit.js';
