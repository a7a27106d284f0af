// Why nothing answers at a scheduler address. grpc-js retries a refused or unresolvable address
// silently until its deadline, so after its first failed attempt we look ourselves: a plain TCP
// connect tells refused and unresolved apart, and a one-line HTTP request tells an HTTP server
// (the dashboard) from a scheduler. It also tells a TLS mismatch: a plain scheduler answers any
// bytes with its HTTP/2 SETTINGS frame (so a TLS connection to it fails), while a TLS scheduler
// closes the connection; then a TLS handshake that succeeds (or ends in a TLS alert) shows that
// it speaks TLS (so a plain connection to it fails). Only run after gRPC failed once, so a
// healthy scheduler never sees these probes.
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
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
export const SERVER_TLS_HINT = 'it speaks TLS and this connection is plain (no TLS certificates given): a TLS mismatch is likely; '
  + 'connect with the cluster\'s CA, certificate and key (the tls option, or --tls-ca, --tls-cert and --tls-key)';
export const SERVER_PLAIN_HINT = 'it answers plain gRPC (HTTP/2 without TLS) and this connection uses TLS: a TLS mismatch is likely; '
  + 'connect without TLS certificates, or start the scheduler with --tls-ca, --tls-cert and --tls-key';

export interface ProbeOptions {
  /** Whether the connection that failed uses TLS: a mismatch is looked for the other way. */
  tls?: boolean;
  /** How long each probe waits for an answer (default 2 s). */
  timeoutMs?: number;
}

/** `host` and `port` of a `host:port` or `[v6]:port` address; undefined for other forms (unix:). */
export function hostPort(address: string): { host: string; port: number } | undefined {
  const m = /^(?:dns:(?:\/\/[^/]*\/)?)?(?:\[([^\]]+)\]|([^:/[\]]+)):(\d+)$/.exec(address);
  return m ? { host: m[1] ?? m[2] ?? '', port: Number(m[3]) } : undefined;
}

/** What a TCP connect, an HTTP request and (for a plain connection) a TLS handshake say about
 *  `address`; undefined when it looks like something that may yet answer (or the address is not
 *  host:port). */
export async function whyUnreachable(address: string, options: ProbeOptions = {}): Promise<Unreachable | undefined> {
  const target = hostPort(address);
  if (!target) return undefined;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const answer = await probeHttp(target, timeoutMs);
  if (answer === 'http2') return options.tls ? { reason: 'tls-mismatch', detail: SERVER_PLAIN_HINT } : undefined;
  if (answer !== 'other') return answer;
  if (!options.tls && await speaksTls(target, timeoutMs)) return { reason: 'tls-mismatch', detail: SERVER_TLS_HINT };
  return undefined;
}

/** A TCP connect and a one-line HTTP request: refused, unresolved, an HTTP/1 server (not gRPC), a
 *  plain HTTP/2 server ('http2': it sends its SETTINGS frame first), or 'other'. */
function probeHttp(target: { host: string; port: number }, timeoutMs: number): Promise<Unreachable | 'http2' | 'other'> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ host: target.host, port: target.port });
    let answer = '';
    const done = (why: Unreachable | 'http2' | 'other') => { clearTimeout(timer); socket.destroy(); resolve(why); };
    const timer = setTimeout(() => done('other'), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (REFUSED.has(code)) done({ reason: 'refused', detail: 'connection refused (nothing listens on that port)' });
      else if (UNRESOLVED.has(code)) done({ reason: 'unresolved', detail: `the host name "${target.host}" does not resolve (${code})` });
      else done('other');
    });
    socket.on('connect', () => socket.write(`GET / HTTP/1.0\r\nHost: ${target.host}\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.length < 5) return;
      if (answer.startsWith('HTTP/')) done({ reason: 'not-grpc', detail: DASHBOARD_HINT });
      else done(isSettingsFrame(answer) ? 'http2' : 'other');
    });
    socket.on('end', () => done('other'));
  });
}

/** An HTTP/2 frame header of type SETTINGS (4) with no flags: a server's first frame. */
function isSettingsFrame(bytes: string): boolean {
  return bytes.charCodeAt(3) === 0x04 && bytes.charCodeAt(4) === 0x00;
}

/** Whether a TLS handshake with `target` gets as far as the server's answer: it completes, or the
 *  server ends it with a TLS alert (a mutual-TLS server refusing a client without a certificate). */
function speaksTls(target: { host: string; port: number }, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    // Only the protocol is looked at: nothing is sent, so the certificate need not be trusted.
    const socket = connectTls({ host: target.host, port: target.port, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const done = (tls: boolean) => { clearTimeout(timer); socket.destroy(); resolve(tls); };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('secureConnect', () => done(true));
    socket.on('error', (err: NodeJS.ErrnoException) => done(/ALERT/.test(err.code ?? '')));
  });
}

/** Resolves once `client`'s channel is ready. Rejects with SchedulerUnreachableError as soon as
 *  a failed attempt is explained (refused, unresolved, not gRPC, TLS mismatch), else at the
 *  deadline. `tls`: whether `client` connects with TLS. */
export function waitUntilReachable(client: grpc.Client, address: string, timeoutMs: number, options: { tls?: boolean } = {}): Promise<void> {
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
        void whyUnreachable(address, { tls: options.tls }).then((why) => {
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
