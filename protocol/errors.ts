// Named protocol errors, and the one place that maps errors to gRPC status and back.
import * as grpc from '@grpc/grpc-js';

export class KubedaskError extends Error {
  override name = 'KubedaskError';
}

export class ValueEncodingError extends KubedaskError {
  override name = 'ValueEncodingError';
}

/** A graph was refused; `key` names the task at fault. */
export class GraphValidationError extends KubedaskError {
  override name = 'GraphValidationError';
  constructor(message: string, readonly key: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A task raised on a worker; carries the remote message and stack. */
export class RemoteTaskError extends KubedaskError {
  override name = 'RemoteTaskError';
  constructor(
    message: string,
    readonly key: string,
    readonly remoteName: string,
    readonly remoteStack: string,
    readonly worker: string,
  ) {
    super(message);
    this.stack = `${remoteName}: ${message}\n    [remote, key ${key}${worker ? ` on ${worker}` : ''}]\n${stripFirstLine(remoteStack)}`;
  }
}

export class CancelledError extends KubedaskError {
  override name = 'CancelledError';
  constructor(readonly key: string) {
    super(`key ${key} was cancelled`);
  }
}

/** A Fetch or Put to a worker's data service failed. */
export class FetchError extends KubedaskError {
  override name = 'FetchError';
  constructor(readonly address: string, readonly keys: string[], options?: ErrorOptions) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`fetching ${keys.length} key(s) from ${address} failed${why}`, options);
  }
}

export class ConnectionLostError extends KubedaskError {
  override name = 'ConnectionLostError';
}

function stripFirstLine(stack: string): string {
  const i = stack.indexOf('\n');
  return i < 0 ? '' : stack.slice(i + 1);
}

const statusOf: Record<string, grpc.status> = {
  GraphValidationError: grpc.status.INVALID_ARGUMENT,
  ValueEncodingError: grpc.status.INVALID_ARGUMENT,
  CancelledError: grpc.status.CANCELLED,
};

/** Turns any thrown value into a gRPC ServiceError with a one-line message. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  const e = err instanceof Error ? err : new Error(String(err));
  const metadata = new grpc.Metadata();
  metadata.set('kubedask-error', e.name);
  if (e instanceof GraphValidationError) metadata.set('kubedask-key', e.key);
  return { code: statusOf[e.name] ?? grpc.status.INTERNAL, details: e.message, metadata };
}

/** Turns a gRPC error received by a client back into the named error. */
export function fromServiceError(err: grpc.ServiceError): Error {
  const name = String(err.metadata?.get('kubedask-error')[0] ?? '');
  const key = String(err.metadata?.get('kubedask-key')[0] ?? '');
  const message = err.details || err.message;
  if (name === 'GraphValidationError') return new GraphValidationError(message, key, { cause: err });
  if (name === 'ValueEncodingError') return new ValueEncodingError(message, { cause: err });
  if (err.code === grpc.status.UNAVAILABLE) return new ConnectionLostError(message, { cause: err });
  return new KubedaskError(message, { cause: err });
}
