// The wire mapping table: every error a user can catch leaves a server as a gRPC status and
// comes back to the client as the same class with the same fields.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as errors from '../../protocol/errors.js';
import {
  CancelledError, ConnectionLostError, FetchError, GraphValidationError, KubedaskError, NoWorkersError,
  ProtocolError, RemoteTaskError, SchedulerUnreachableError, ValueEncodingError,
} from '../../protocol/errors.js';
import { WIRE_ERRORS, fromServiceError, fromWireError, toServiceError, toWireError } from '../../protocol/wire-errors.js';
import { pb } from '../../protocol/services.js';
import { GraphValidationError as StateGraphValidationError } from '../../scheduler/state/index.js';

/** What a client receives for a status a server sent. */
function overTheWire(err: unknown): KubedaskError {
  const status = toServiceError(err);
  const received = Object.assign(new Error(`${status.code} ${String(status.details)}`), {
    code: status.code!, details: status.details!, metadata: status.metadata!,
  }) as grpc.ServiceError;
  return fromServiceError(received);
}

/** The typed fields of an error: its own enumerable properties besides the standard ones. */
function fieldsOf(e: Error): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'name'));
}

// One instance of every class, with fields that would not survive a sloppy encoding
// (non-ASCII keys, empty strings, lists).
const samples: KubedaskError[] = [
  new GraphValidationError('the graph has a cycle: "ä" -> "b" -> "ä"', { key: 'ä', reason: 'cycle', cycle: ['ä', 'b'] }),
  new GraphValidationError('task "x" depends on "y"', { key: 'x', reason: 'missing-dependency' }),
  new ValueEncodingError('value of type function cannot be sent'),
  new CancelledError('k-1'),
  new RemoteTaskError('too big: 5', 'k-2', 'RangeError', 'RangeError: too big: 5\n    at explode (x.js:1:1)', 'w-1'),
  new FetchError('10.0.0.1:9000', ['a', 'b'], { cause: new Error('socket hang up') }),
  new NoWorkersError('no workers to scatter s-1 to'),
  new ProtocolError('the first message of a session must be hello with a client id'),
  new ConnectionLostError('lost the scheduler at s:8786'),
  new SchedulerUnreachableError('ä:8787', 'not-grpc', 'it answers HTTP'),
  new KubedaskError('chunk stream interleaved key a into b'),
];

describe('wire errors', () => {
  it('round-trips every class through status and metadata to the same class with its fields', () => {
    for (const sent of samples) {
      const got = overTheWire(sent);
      assert.equal(got.constructor, sent.constructor, `${sent.name} came back as ${got.name}`);
      assert.equal(got.message, sent.message);
      assert.equal(got.name, sent.name);
      assert.deepEqual(fieldsOf(got), fieldsOf(sent), sent.name);
    }
  });

  it('round-trips every class as a WireError in a session message (a graph\'s SubmitAck) too', () => {
    for (const sent of samples) {
      // Encoded and decoded as the session carries it: a SubmitAck inside a ClientEvent.
      const bytes = pb.ClientEvent.encode({ acks: [{ seq: 7, error: toWireError(sent) }] }).finish();
      const ack = pb.ClientEvent.decode(bytes).acks[0]!;
      const got = fromWireError(ack.error!);
      assert.equal(got.constructor, sent.constructor, `${sent.name} came back as ${got.name}`);
      assert.equal(got.message, sent.message);
      assert.deepEqual(fieldsOf(got), fieldsOf(sent), sent.name);
    }
    const plain = fromWireError(toWireError(new TypeError('x is not a function')));
    assert.equal(plain.constructor, KubedaskError);
    assert.equal(plain.message, 'x is not a function');
  });

  it('has a row for every error class a user can catch, and a sample for every row', () => {
    const classes = Object.values(errors).filter((v) => typeof v === 'function' && v.prototype instanceof Error);
    for (const c of classes) assert.ok(WIRE_ERRORS.some((r) => r.type === c), `${c.name} has no row in WIRE_ERRORS`);
    for (const r of WIRE_ERRORS) assert.ok(samples.some((s) => s.constructor === r.type), `row ${r.code} has no sample here`);
    assert.equal(new Set(WIRE_ERRORS.map((r) => r.code)).size, WIRE_ERRORS.length, 'wire codes are unique');
  });

  it('puts each class on a status that says what kind of failure it was', () => {
    assert.equal(toServiceError(samples[0]).code, grpc.status.INVALID_ARGUMENT);
    assert.equal(toServiceError(new CancelledError('k')).code, grpc.status.CANCELLED);
    assert.equal(toServiceError(new NoWorkersError('none')).code, grpc.status.FAILED_PRECONDITION);
    assert.equal(toServiceError(new ProtocolError('bad')).code, grpc.status.INVALID_ARGUMENT);
    assert.equal(toServiceError(new ConnectionLostError('going away')).code, grpc.status.UNAVAILABLE);
    assert.equal(toServiceError(new TypeError('a bug')).code, grpc.status.INTERNAL);
  });

  it('maps a subclass by its nearest row, never by its name', () => {
    class WorkerSideError extends KubedaskError { override name = 'GraphValidationError'; }
    const got = overTheWire(new WorkerSideError('spill failed'));
    assert.equal(got.constructor, KubedaskError);
    assert.equal(got.message, 'spill failed');
  });

  it('turns errors that kubedask did not send into KubedaskError, or ConnectionLostError when unreachable', () => {
    const plain = overTheWire(new TypeError('x is not a function'));
    assert.equal(plain.constructor, KubedaskError);
    assert.equal(plain.message, 'x is not a function');
    const down = Object.assign(new Error('14 UNAVAILABLE'), { code: grpc.status.UNAVAILABLE, details: 'No connection established', metadata: new grpc.Metadata() });
    const lost = fromServiceError(down as grpc.ServiceError);
    assert.ok(lost instanceof ConnectionLostError);
    assert.equal(lost.message, 'No connection established');
  });

  it('is the same GraphValidationError class that the scheduler state throws', () => {
    assert.equal(StateGraphValidationError, GraphValidationError);
  });
});
