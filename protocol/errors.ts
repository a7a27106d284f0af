// The errors a kubedask user can catch: each one crosses the wire with its typed fields
// (protocol/wire-errors.ts has the mapping). This module imports nothing, so the pure
// scheduler state may throw GraphValidationError itself (lint enforces both).

export class KubedaskError extends Error {
  override name = 'KubedaskError';
}

export class ValueEncodingError extends KubedaskError {
  override name = 'ValueEncodingError';
}

/** Why a graph (or a scatter, or a module upload) was refused. */
export type GraphErrorReason =
  | 'cycle' | 'missing-dependency' | 'unknown-function' | 'duplicate-key' | 'invalid-key'
  | 'invalid-resources' | 'invalid-retries' | 'invalid-priority'
  | 'undeclared-dependency' | 'argument-too-large' | 'invalid-function' | 'unknown-module'
  | 'invalid-module-name' | 'unknown-client';

export interface GraphValidationFields {
  /** The task at fault; '' when the refusal is not about one task (e.g. an unknown client). */
  key: string;
  reason: GraphErrorReason;
  /** For reason 'cycle': the keys on the cycle, in dependency order. */
  cycle?: string[];
  cause?: unknown;
}

/** A graph was refused as a whole; nothing of it was added. */
export class GraphValidationError extends KubedaskError {
  override name = 'GraphValidationError';
  readonly key: string;
  readonly reason: GraphErrorReason;
  readonly cycle: string[] | undefined;

  constructor(message: string, fields: GraphValidationFields) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.key = fields.key;
    this.reason = fields.reason;
    this.cycle = fields.cycle;
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

/** The request needs a worker and the cluster has none (e.g. scatter before any registered). */
export class NoWorkersError extends KubedaskError {
  override name = 'NoWorkersError';
}

/** A peer sent what the protocol does not allow: a session not opened with hello, a worker
 *  stream not opened with register, a malformed request. */
export class ProtocolError extends KubedaskError {
  override name = 'ProtocolError';
}

export class ConnectionLostError extends KubedaskError {
  override name = 'ConnectionLostError';
}

/** Why a scheduler was never reached: nothing listens there ('refused'), the host name does not
 *  resolve ('unresolved'), something other than a gRPC scheduler answers ('not-grpc', e.g. the
 *  dashboard's HTTP port), one end uses TLS and the other does not ('tls-mismatch'), or nothing
 *  answered before the connect timeout ('timeout'). */
export type UnreachableReason = 'refused' | 'unresolved' | 'not-grpc' | 'tls-mismatch' | 'timeout';

/** The scheduler at `address` was never reached. A ConnectionLostError, so code that caught
 *  that when connecting still does; never sent over the wire. */
export class SchedulerUnreachableError extends ConnectionLostError {
  override name = 'SchedulerUnreachableError';
  constructor(readonly address: string, readonly reason: UnreachableReason, detail: string, options?: ErrorOptions) {
    super(`could not reach the scheduler at ${address}: ${detail}`, options);
  }
}

function stripFirstLine(stack: string): string {
  const i = stack.indexOf('\n');
  return i < 0 ? '' : stack.slice(i + 1);
}
