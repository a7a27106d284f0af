// The standard gRPC health service (grpc.health.v1.Health/Check), so Kubernetes gRPC probes
// and grpc_health_probe can ask a scheduler or worker whether it serves. The two messages
// are tiny, so they are encoded by hand rather than generated.
import type * as grpc from '@grpc/grpc-js';

export enum ServingStatus { UNKNOWN = 0, SERVING = 1, NOT_SERVING = 2, SERVICE_UNKNOWN = 3 }

/** HealthCheckRequest { string service = 1; } */
function decodeRequest(bytes: Buffer): { service: string } {
  let service = '';
  for (let i = 0; i < bytes.length;) {
    const tag = bytes[i++]!;
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[i++]!;
      len |= (b & 0x7f) << shift;
      if (!(b & 0x80)) break;
    }
    if (tag === 0x0a) service = bytes.subarray(i, i + len).toString('utf8');
    if ((tag & 7) === 2) i += len;
  }
  return { service };
}

export const HealthService = {
  check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: (_m: { service: string }) => Buffer.alloc(0),
    requestDeserialize: decodeRequest,
    /** HealthCheckResponse { ServingStatus status = 1; } */
    responseSerialize: (m: { status: ServingStatus }) => Buffer.from([0x08, m.status]),
    responseDeserialize: (b: Buffer) => ({ status: (b[1] ?? 0) as ServingStatus }),
  },
} satisfies grpc.ServiceDefinition;

/** Answers SERVING for the whole server ('') and the named services while `serving()` holds. */
export function healthHandlers(services: string[], serving: () => boolean): grpc.UntypedServiceImplementation {
  return {
    check(call: grpc.ServerUnaryCall<{ service: string }, { status: ServingStatus }>, cb: grpc.sendUnaryData<{ status: ServingStatus }>) {
      const { service } = call.request;
      if (service && !services.includes(service)) return cb(null, { status: ServingStatus.SERVICE_UNKNOWN });
      cb(null, { status: serving() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING });
    },
  };
}
