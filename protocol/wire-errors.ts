// The one place where errors become gRPC statuses and back. Each row names a class of
// protocol/errors.ts, its status and how its typed fields travel: the row's wire code in
// `kubedask-error`, the fields as UTF-8 JSON in `kubedask-error-bin` (so any key survives).
import * as grpc from '@grpc/grpc-js';
import type { kubedask } from './generated/kubedask.js';
import {
  CancelledError, ConnectionLostError, FetchError, GraphValidationError, KubedaskError, NoWorkersError,
  ProtocolError, RemoteTaskError, SchedulerUnreachableError, ValueEncodingError, type GraphErrorReason,
  type UnreachableReason,
} from './errors.js';

type Fields = Record<string, unknown>;

export interface WireErrorRow<E extends KubedaskError = KubedaskError> {
  /** The class this row sends; the first row whose class the error is an instance of wins. */
  type: abstract new (...args: never[]) => E;
  /** Stable wire name of the class. */
  code: string;
  status: grpc.status;
  fields(e: E): Fields;
  /** The received error; its message is then set to the sender's. */
  revive(f: Fields, message: string, cause: Error): E;
}

const row = <E extends KubedaskError>(r: WireErrorRow<E>): WireErrorRow => r as unknown as WireErrorRow;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(str) : []);

/** Subclasses before their parents; KubedaskError last catches the rest of the family. */
export const WIRE_ERRORS: readonly WireErrorRow[] = [
  row({
    type: GraphValidationError, code: 'graph-validation', status: grpc.status.INVALID_ARGUMENT,
    fields: (e) => ({ key: e.key, reason: e.reason, ...(e.cycle ? { cycle: e.cycle } : {}) }),
    revive: (f, message, cause) => new GraphValidationError(message, {
      key: str(f.key), reason: str(f.reason) as GraphErrorReason, cycle: Array.isArray(f.cycle) ? strs(f.cycle) : undefined, cause,
    }),
  }),
  row({
    type: ValueEncodingError, code: 'value-encoding', status: grpc.status.INVALID_ARGUMENT,
    fields: () => ({}), revive: (_f, message, cause) => new ValueEncodingError(message, { cause }),
  }),
  row({
    type: CancelledError, code: 'cancelled', status: grpc.status.CANCELLED,
    fields: (e) => ({ key: e.key }), revive: (f) => new CancelledError(str(f.key)),
  }),
  row({
    type: RemoteTaskError, code: 'remote-task', status: grpc.status.ABORTED,
    fields: (e) => ({ key: e.key, remoteName: e.remoteName, remoteStack: e.remoteStack, worker: e.worker }),
    revive: (f, message) => new RemoteTaskError(message, str(f.key), str(f.remoteName), str(f.remoteStack), str(f.worker)),
  }),
  row({
    type: FetchError, code: 'fetch', status: grpc.status.UNAVAILABLE,
    fields: (e) => ({ address: e.address, keys: e.keys }),
    revive: (f, _message, cause) => new FetchError(str(f.address), strs(f.keys), { cause }),
  }),
  row({
    type: NoWorkersError, code: 'no-workers', status: grpc.status.FAILED_PRECONDITION,
    fields: () => ({}), revive: (_f, message, cause) => new NoWorkersError(message, { cause }),
  }),
  row({
    type: ProtocolError, code: 'protocol', status: grpc.status.INVALID_ARGUMENT,
    fields: () => ({}), revive: (_f, message, cause) => new ProtocolError(message, { cause }),
  }),
  row({
    // Raised by a client or worker that never reached its scheduler; a row so that a process
    // relaying it (none does yet) keeps its fields.
    type: SchedulerUnreachableError, code: 'scheduler-unreachable', status: grpc.status.UNAVAILABLE,
    fields: (e) => ({ address: e.address, reason: e.reason }),
    revive: (f, _message, cause) => new SchedulerUnreachableError(str(f.address), str(f.reason) as UnreachableReason, '', { cause }),
  }),
  row({
    type: ConnectionLostError, code: 'connection-lost', status: grpc.status.UNAVAILABLE,
    fields: () => ({}), revive: (_f, message, cause) => new ConnectionLostError(message, { cause }),
  }),
  row({
    type: KubedaskError, code: 'kubedask', status: grpc.status.INTERNAL,
    fields: () => ({}), revive: (_f, message, cause) => new KubedaskError(message, { cause }),
  }),
];

const CODE_KEY = 'kubedask-error';
const FIELDS_KEY = 'kubedask-error-bin';

/** An error as a message carries it (proto WireError, in a session's SubmitAck): what a gRPC status would hold. */
type WireError = kubedask.v1.WireError.$Properties;
interface WireFields { status: number; message: string; code: string; fields: string }

/** Turns any thrown value into its wire form: status, one-line message, its row's code and fields as JSON. */
export function toWireError(err: unknown): WireFields {
  const e = err instanceof Error ? err : new Error(String(err));
  const r = WIRE_ERRORS.find((w) => e instanceof w.type);
  if (!r) return { status: grpc.status.INTERNAL, message: e.message, code: '', fields: '' };
  return { status: r.status, message: e.message, code: r.code, fields: JSON.stringify(r.fields(e as KubedaskError)) };
}

/** Turns any thrown value into a gRPC status with a one-line message and the error's fields. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  const w = toWireError(err);
  const metadata = new grpc.Metadata();
  if (w.code) {
    metadata.set(CODE_KEY, w.code);
    metadata.set(FIELDS_KEY, Buffer.from(w.fields, 'utf8'));
  }
  return { code: w.status, details: w.message, metadata };
}

/** Turns a gRPC error received by a client back into the class that was sent. */
export function fromServiceError(err: grpc.ServiceError): KubedaskError {
  const raw = err.metadata?.get(FIELDS_KEY)[0];
  return revive(err.code, String(err.metadata?.get(CODE_KEY)[0] ?? ''), Buffer.isBuffer(raw) ? raw.toString('utf8') : '', err.details || err.message, err);
}

/** The class a WireError was made from. */
export function fromWireError(w: WireError): KubedaskError {
  const message = w.message ?? '';
  return revive(w.status ?? grpc.status.UNKNOWN, w.code ?? '', w.fields ?? '', message, new Error(message));
}

function revive(status: number, code: string, fields: string, message: string, cause: Error): KubedaskError {
  const r = WIRE_ERRORS.find((w) => w.code === code);
  if (!r) {
    // Not sent by kubedask's mapping: the transport failed, or a plain Error was thrown.
    return status === grpc.status.UNAVAILABLE ? new ConnectionLostError(message, { cause }) : new KubedaskError(message, { cause });
  }
  const e = r.revive(parseFields(fields), message, cause);
  e.message = message;
  return e;
}

function parseFields(json: string): Fields {
  try {
    const parsed: unknown = JSON.parse(json);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Fields) : {};
  } catch {
    return {};
  }
}
