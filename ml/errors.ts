// The errors of kubedask's machine learning (issue 14): one file, each part adds its classes.
import { KubedaskError } from '../protocol/errors.js';

/** Base of the ml errors. */
export class MlError extends KubedaskError {
  override name = 'MlError';
}

/** A parameter an estimator cannot take (names the estimator, the parameter and the value). */
export class EstimatorParamsError extends MlError {
  override name = 'EstimatorParamsError';
}

/** predict, predictProba, transform or onnxSteps on an estimator that has not been fitted. */
export class NotFittedError extends MlError {
  override name = 'NotFittedError';
}

/** Data a fit cannot use: NaN in the features, a target it cannot model (negative counts...). */
export class FitDataError extends MlError {
  override name = 'FitDataError';
}
