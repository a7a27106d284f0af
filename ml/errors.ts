// Errors of kubedask's machine learning (issue 14): each part adds its classes here. They name
// the estimator, the column or the step and what is wrong, and are thrown before any task
// runs wherever that can be known.
import { KubedaskError } from '../protocol/errors.js';

/** A model cannot be exported to ONNX: not fitted, a step the exporter does not know, bad numbers. */
export class OnnxExportError extends KubedaskError {
  override name = 'OnnxExportError';
}

/** An ONNX model does not fit the DataFrame or the options it is scored with (predictOnnx). */
export class OnnxModelError extends KubedaskError {
  override name = 'OnnxModelError';
}

/** `device: 'cuda'` asked for where the CUDA execution provider or a GPU is missing. */
export class OnnxDeviceError extends KubedaskError {
  override name = 'OnnxDeviceError';
}
