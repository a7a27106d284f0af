// The kubelet's own HTTP endpoint, which the API server proxies pods/log and pods/exec to (its
// port is in each Node's status.daemonEndpoints.kubeletEndpoint, as on a real node): GET
// /containerLogs/{ns}/{pod}/{container} and the /exec/{ns}/{pod}/{container} WebSocket.
// Errors are plain text, as the real kubelet writes them; the API server turns them into Status.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { pickInstance, streamLog } from './container-logs-endpoint.js';
import { EXEC_PROTOCOLS, runExecSession } from './exec-session.js';
import type { PodRunner } from './pod-runner.js';
import { boolParam, intParam } from '../server/query-params.js';
import { writeRawResponse } from '../server/raw-response.js';

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

type Lookup = (namespace: string, name: string) => PodRunner | undefined;

class EndpointError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** The status an error answers with: its own where it has one (EndpointError, or a bad query's ApiError), else 500. */
function statusOf(err: unknown): number {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : 500;
}

/** `/<verb>/<ns>/<pod>/<container>` -> the pod's runner and the container's name. */
function target(lookup: Lookup, url: URL, verb: string): { runner: PodRunner; container: string; pod: string } | undefined {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== verb || parts.length !== 4) return undefined;
  const [, namespace, pod, container] = parts as [string, string, string, string];
  const runner = lookup(namespace, pod);
  if (!runner) throw new EndpointError(404, `pod "${pod}" does not exist`);
  if (!runner.hasContainer(container)) throw new EndpointError(404, `container "${container}" not found in pod "${pod}"`);
  return { runner, container, pod };
}

async function serveLogs(lookup: Lookup, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://kubelet');
  const found = target(lookup, url, 'containerLogs');
  if (!found) throw new EndpointError(404, 'not found');
  const q = url.searchParams;
  const previous = boolParam(q, 'previous');
  const run = pickInstance(found.runner.logView(found.container)!, found.container, found.pod, previous);
  if (typeof run === 'string') throw new EndpointError(400, run);
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime');
  const sinceMs = sinceSeconds !== undefined ? Date.now() - sinceSeconds * 1000 : sinceTime ? Date.parse(sinceTime) : undefined;
  return streamLog(run, {
    follow: boolParam(q, 'follow'), timestamps: boolParam(q, 'timestamps'),
    tailLines: intParam(q, 'tailLines'), limitBytes: intParam(q, 'limitBytes'), sinceMs,
  }, res);
}

async function serveExec(lookup: Lookup, wss: WebSocketServer, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://kubelet');
  const found = target(lookup, url, 'exec');
  if (!found) throw new EndpointError(404, 'not found');
  const q = url.searchParams;
  const command = q.getAll('command');
  if (command.length === 0) throw new EndpointError(400, 'you must specify at least 1 command');
  const ctx = found.runner.execContext(found.container);
  if (!ctx) {
    const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 500, reason: 'InternalError',
      message: `Internal error occurred: error executing command in container: container ${found.container} is not created or running` };
    return writeRawResponse(socket, 500, JSON.stringify(status), 'application/json');
  }
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  if (!offered.some((p) => EXEC_PROTOCOLS.includes(p))) {
    throw new EndpointError(400, `unable to upgrade: none of the requested protocols (${offered.join(', ')}) is supported: ${EXEC_PROTOCOLS.join(', ')}`);
  }
  wss.handleUpgrade(req, socket, head, (ws) => runExecSession(ws, ctx, {
    command, stdin: boolParam(q, 'stdin'), stdout: boolParam(q, 'stdout'), stderr: boolParam(q, 'stderr'), tty: boolParam(q, 'tty'),
  }));
}

export async function startKubeletServer(lookup: Lookup, host = '127.0.0.1'): Promise<KubeletServer> {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => [...offered].find((p) => EXEC_PROTOCOLS.includes(p)) ?? false,
  });
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/healthz')) return void res.end('ok');
    serveLogs(lookup, req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(statusOf(err), { 'Content-Type': 'text/plain' });
      res.end((err as Error).message);
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    serveExec(lookup, wss, req, socket, head).catch((err: unknown) => writeRawResponse(socket, statusOf(err), (err as Error).message, 'text/plain'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
