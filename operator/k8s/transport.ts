// HTTP to the API server with the kubeconfig's server URL, TLS material and credentials.
// client-node resolves the kubeconfig and auth (tokens, exec plugins, in-cluster); the bytes
// go through node:http(s) ourselves so objects stay plain JSON and watches stream.
import * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { ConnectionError } from './errors.js';

export interface HttpRequest {
  method: string;
  path: string; // with query
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Transport {
  readonly server: string;
  readonly defaultNamespace: string;
  /** Sends a request; resolves with the response once headers arrive (the body is a stream). */
  send(req: HttpRequest): Promise<IncomingMessage>;
  close(): void;
}

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function namespaceOf(kc: k8s.KubeConfig): string {
  const ctx = kc.getContextObject(kc.getCurrentContext());
  if (ctx?.namespace) return ctx.namespace;
  try {
    return readFileSync(SA_NAMESPACE, 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}

type TlsMaterial = Pick<https.AgentOptions, 'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'>;

export function kubeconfigTransport(kc: k8s.KubeConfig, userAgent: string): Transport {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const base = new URL(cluster.server);
  const prefix = base.pathname.replace(/\/+$/, '');
  const isHttps = base.protocol === 'https:';
  let agent: http.Agent | undefined;
  let agentKey = '';

  // One keep-alive agent, rebuilt only when the TLS material changes (exec plugins may rotate certs).
  const agentFor = (tls: TlsMaterial): http.Agent => {
    const key = JSON.stringify([tls.ca, tls.cert, tls.key, tls.pfx, tls.rejectUnauthorized, tls.servername].map((v) => (Buffer.isBuffer(v) ? v.toString('base64') : v)));
    if (!agent || key !== agentKey) {
      agent?.destroy();
      agentKey = key;
      agent = isHttps ? new https.Agent({ keepAlive: true, ...tls }) : new http.Agent({ keepAlive: true });
    }
    return agent;
  };

  return {
    server: cluster.server,
    defaultNamespace: namespaceOf(kc),
    async send(req) {
      // Re-applied per request: bearer tokens from exec plugins and projected SA tokens expire.
      const opts: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': userAgent };
      for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v);
      if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
      Object.assign(headers, req.headers);
      if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
      const tls: TlsMaterial = { ca: opts.ca, cert: opts.cert, key: opts.key, pfx: opts.pfx, passphrase: opts.passphrase, servername: opts.servername };
      if (cluster.skipTLSVerify) tls.rejectUnauthorized = false;
      else if (opts.rejectUnauthorized !== undefined) tls.rejectUnauthorized = opts.rejectUnauthorized;
      const url = new URL(prefix + req.path, base);
      const lib = isHttps ? https : http;
      return new Promise<IncomingMessage>((resolve, reject) => {
        const r = lib.request(url, { method: req.method, headers, agent: agentFor(tls), signal: req.signal }, resolve);
        const fail = (err: Error & { code?: string }): void =>
          reject(req.signal?.aborted ? err : new ConnectionError(`${req.method} ${url.pathname}: ${err.message}`, err.code, err));
        r.on('error', fail);
        if (req.timeoutMs) {
          r.setTimeout(req.timeoutMs, () => r.destroy(Object.assign(new Error(`no response within ${req.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
        }
        r.end(req.body);
      });
    },
    close() {
      agent?.destroy();
    },
  };
}

export async function readBody(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk as string;
  return text;
}
