// Readiness probes run against the pod's process, as the kubelet would.
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import type { Probe } from './container-command.js';

function portOf(port: number | string): number {
  const n = Number(port);
  if (!Number.isInteger(n)) throw new Error(`named probe ports are not supported ("${port}")`);
  return n;
}

function tcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, host);
    const done = (ok: boolean) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

async function http(host: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  try {
    const res = await fetch(`http://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status >= 200 && res.status < 400;
  } catch {
    return false;
  }
}

/** grpc.health.v1.Health/Check: SERVING is field 1 = 1. */
function grpcHealth(host: string, port: number, service: string, timeoutMs: number): Promise<boolean> {
  const client = new grpc.Client(`${host}:${port}`, grpc.credentials.createInsecure());
  const request = service ? Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(service)]), Buffer.from(service)]) : Buffer.alloc(0);
  return new Promise((resolve) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', (b: Buffer) => b, (b: Buffer) => b, request,
      { deadline: Date.now() + timeoutMs }, (err, reply?: Buffer) => {
        client.close();
        resolve(!err && !!reply && reply.length >= 2 && reply[0] === 0x08 && reply[1] === 0x01);
      });
  });
}

export async function runProbe(probe: Probe, podIP: string, env: Record<string, string>): Promise<boolean> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) return http(probe.httpGet.host ?? podIP, portOf(probe.httpGet.port), probe.httpGet.path ?? '/', timeoutMs);
  if (probe.tcpSocket) return tcp(probe.tcpSocket.host ?? podIP, portOf(probe.tcpSocket.port), timeoutMs);
  if (probe.grpc) return grpcHealth(podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutMs);
  if (probe.exec) {
    const [cmd, ...args] = probe.exec.command;
    return spawnSync(cmd!, args, { env: { ...process.env, ...env }, timeout: timeoutMs }).status === 0;
  }
  return true;
}
