// Errors of kubedask's machine learning, raised on the client before any task runs where they
// can be (each part of ml/ adds its classes here).
import { KubedaskError } from '../protocol/errors.js';

export class MlError extends KubedaskError {
  override name = 'MlError';
}

/** Data that cannot be fitted or scored: a non-numeric feature, y partitioned unlike X, nulls in y... */
export class MlDataError extends MlError {
  override name = 'MlDataError';
}

/** A fitted attribute asked of an estimator that was not fitted. */
export class NotFittedError extends MlError {
  override name = 'NotFittedError';
  constructor(estimator: string, what: string) {
    super(`${estimator}: not fitted; call fit() before ${what}`);
  }
}

/** Estimator parameters that make no sense (a feature range with min >= max, an unknown strategy...). */
export class MlParamError extends MlError {
  override name = 'MlParamError';
}

/** A model cannot be exported to ONNX: a step the exporter does not know, numbers that do not fit. */
export class OnnxExportError extends MlError {
  override name = 'OnnxExportError';
}

/** An ONNX model does not fit the DataFrame or the options it is scored with (predictOnnx). */
export class OnnxModelError extends MlError {
  override name = 'OnnxModelError';
}

/** `device: 'cuda'` asked for where the CUDA execution provider, its libraries or a GPU are missing. */
export class OnnxDeviceError extends MlError {
  override name = 'OnnxDeviceError';
}
