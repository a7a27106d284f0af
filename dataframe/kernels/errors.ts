// Errors of the DataFrame kernels on workers; they reach the client as the task's error.
import { KubedaskError } from '../../protocol/errors.js';

export class KernelInputError extends KubedaskError {
  override name = 'KernelInputError';
}

/** A file of a scan could not be read; names the file. */
export class ScanError extends KubedaskError {
  override name = 'ScanError';
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(`${path}: ${message}`, options);
  }
}

/** A part file of toParquet could not be written; names the file. */
export class WriteError extends KubedaskError {
  override name = 'WriteError';
  constructor(readonly path: string, message: string, options?: ErrorOptions) {
    super(`${path}: ${message}`, options);
  }
}
