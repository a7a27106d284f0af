// Health probes on a gRPC port that serves grpc.health.v1.Health.
import type { IProbe } from 'kubernetes-models/v1/Probe';

type Timing = Pick<IProbe, 'initialDelaySeconds' | 'periodSeconds' | 'timeoutSeconds' | 'failureThreshold'>;

/** The kubelet's gRPC probe speaks no TLS, so with TLS the probe only checks the port accepts. */
export function grpcHealthProbe(port: number, tls: boolean, timing: Timing): IProbe {
  return { ...(tls ? { tcpSocket: { port } } : { grpc: { port } }), ...timing };
}
