// Why nothing answers at a scheduler address. grpc-js retries a refused or unresolvable address
// silently until its deadline, so after its first failed attempt we look ourselves: a plain TCP
// connect tells refused and unresolved apart, and a one-line HTTP request tells an HTTP server
// (the dashboard) from a scheduler. Only run after gRPC failed once, so a healthy scheduler never
// sees these probes.
import { connect, type Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { SchedulerUnreachableError, type UnreachableReason } from './errors.js';

export interface Unreachable {
  reason: Exclude<UnreachableReason, 'timeout'>;
  detail: string;
}

const REFUSED = new Set(['ECONNREFUSED']);
const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);

/** The scheduler's and dashboard's default ports, named in the hint for a dashboard address. */
export const DEFAULT_SCHEDULER_PORT = 8786;
export const DEFAULT_DASHBOARD_PORT = 8787;

export const SCHEDULER_PORT_HINT = `the scheduler listens for clients and workers on its gRPC port (${DEFAULT_SCHEDULER_PORT} by default): give HOST:PORT`;
export const DASHBOARD_HINT = `it answers HTTP, so it is a web server such as the dashboard's HTTP port (${DEFAULT_DASHBOARD_PORT} by default); ${SCHEDULER_PORT_HINT}`;

/** `host` and `port` of a `host:port` or `[v6]:port` address; undefined for other forms (unix:). */
export function hostPort(address: string): { host: string; port: number } | undefined {
  const m = /^(?:dns:(?:\/\/[^/]*\/)?)?(?:\[([^\]]+)\]|([^:/[\]]+)):(\d+)$/.exec(address);
  return m ? { host: m[1] ?? m[2] ?? '', port: Number(m[3]) } : undefined;
}

/** What a TCP connect, then an HTTP request, says about `address`; undefined when it looks
 *  like something that may yet answer gRPC (or the address is not host:port). */
export async function whyUnreachable(address: string, timeoutMs = 2_000): Promise<Unreachable | undefined> {
  const target = hostPort(address);
  if (!target) return undefined;
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: target.host, port: target.port });
    let answer = '';
    const done = (why: Unreachable | undefined) => { clearTimeout(timer); socket.destroy(); resolve(why); };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (REFUSED.has(code)) done({ reason: 'refused', detail: 'connection refused (nothing listens on that port)' });
      else if (UNRESOLVED.has(code)) done({ reason: 'unresolved', detail: `the host name "${target.host}" does not resolve (${code})` });
      else done(undefined);
    });
    socket.on('connect', () => socket.write(`GET / HTTP/1.0\r\nHost: ${target.host}\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.length >= 5) done(answer.startsWith('HTTP/') ? { reason: 'not-grpc', detail: DASHBOARD_HINT } : undefined);
    });
    socket.on('end', () => done(undefined));
  });
}

/** Resolves once `client`'s channel is ready. Rejects with SchedulerUnreachableError as soon as
 *  a failed attempt is explained (refused, unresolved, not gRPC), else at the deadline. */
export function waitUntilReachable(client: grpc.Client, address: string, timeoutMs: number): Promise<void> {
  const channel = client.getChannel();
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    let settled = false;
    let probing = false;
    const fail = (err: Error): void => { if (!settled) { settled = true; reject(err); } };
    const watch = (): void => {
      if (settled) return;
      const state = channel.getConnectivityState(true);
      if (state === grpc.connectivityState.READY) { settled = true; resolve(); return; }
      if (state === grpc.connectivityState.TRANSIENT_FAILURE && !probing) {
        probing = true;
        void whyUnreachable(address).then((why) => {
          probing = false;
          if (why) fail(new SchedulerUnreachableError(address, why.reason, why.detail));
        });
      }
      channel.watchConnectivityState(state, deadline, (err) => {
        if (err) fail(new SchedulerUnreachableError(address, 'timeout', `no answer within ${timeoutMs} ms`));
        else watch();
      });
    };
    watch();
  });
}
