// Errors of the operator's calls to a cluster's scheduler.
import * as grpc from '@grpc/grpc-js';

/** A failed Control call. Its message is stable (the gRPC status name), so conditions built from
 * it do not change on every attempt; the details stay in `cause`. */
export class ControlError extends Error {
  override name = 'ControlError';
  readonly code: grpc.status;
  constructor(target: string, method: string, err: grpc.ServiceError) {
    super(`Control.${method} at ${target}: ${grpc.status[err.code] ?? 'UNKNOWN'}`, { cause: err });
    this.code = err.code;
  }
}
