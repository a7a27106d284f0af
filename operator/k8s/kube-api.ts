// A small typed JSON client for the Kubernetes API: verbs, paging, watch, client-side rate
// limiting and the retries that are safe to make without the caller knowing.
import * as k8s from '@kubernetes/client-node';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';
import { ApiError, ConnectionError } from './errors.js';
import { TokenBucket } from './rate-limiter.js';
import { resourceName, resourcePath, type ResourceType } from './resources.js';
import { kubeconfigTransport, readBody, type Transport } from './transport.js';

export { ApiError, ConnectionError, isAlreadyExists, isConflict, isGone, isInvalid, isNotFound, isTooManyRequests } from './errors.js';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: IObjectMeta;
  [key: string]: unknown;
}

/**
 * What writes and events accept: any object with metadata, so interfaces without an index
 * signature (DaskCluster, kubernetes-models' IPod) pass without a cast.
 */
export interface KubeObjectLike {
  apiVersion?: string;
  kind?: string;
  metadata?: IObjectMeta;
}

export interface RequestInfo {
  verb: string;
  resource: string;
  status: number; // 0 when no answer came
  durationMs: number;
}

export interface KubeApiOptions {
  qps?: number; // default 20
  burst?: number; // default 40
  /** Per-request timeout for everything but watches (default 30 s). */
  timeoutMs?: number;
  onRequest?: (info: RequestInfo) => void;
  /** Field manager for server-side apply when the call names none (default kubedask-operator). */
  fieldManager?: string;
  userAgent?: string;
  /** Retries of a GET/LIST after 5xx or a connection error (default 3), with backoff from retryBaseMs (default 200). */
  maxRetries?: number;
  retryBaseMs?: number;
  /** Retries after 429 (default 5); each waits Retry-After. */
  max429Retries?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface WatchEvent<T> { type: WatchEventType; object: T }

export interface ListOptions { namespace?: string; labelSelector?: string; fieldSelector?: string }
export interface PatchOptions {
  type: 'merge' | 'json' | 'strategic' | 'apply';
  subresource?: 'status' | 'scale';
  fieldManager?: string;
  force?: boolean;
}
export interface DeleteOptions { gracePeriodSeconds?: number; propagationPolicy?: 'Foreground' | 'Background' | 'Orphan'; uid?: string }
export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion: string;
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  signal: AbortSignal;
}

const PATCH_TYPES: Record<PatchOptions['type'], string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

interface Call {
  verb: string;
  r: ResourceType;
  what: string; // for messages: `get pods "p" in namespace "ns"`
  method: string;
  path: string;
  body?: unknown;
  contentType?: string;
  /** Reads are retried on 5xx and connection errors; writes only on 429 and refused connections. */
  idempotent: boolean;
}

export class KubeApi {
  readonly limiter: TokenBucket;
  private readonly timeoutMs: number;

  /** The kubeconfig it was made from (port-forwards and other WebSocket calls need it). */
  readonly kubeConfig?: k8s.KubeConfig;

  constructor(private readonly transport: Transport, private readonly options: KubeApiOptions = {}, kubeConfig?: k8s.KubeConfig) {
    this.kubeConfig = kubeConfig;
    this.limiter = new TokenBucket(options.qps ?? 20, options.burst ?? 40);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /**
   * True when it talks to the cluster this process runs in, through the pod's service account
   * (client-node names that config's cluster 'inCluster'): Service names resolve here, so the
   * operator and KubeCluster reach schedulers directly instead of by port-forward.
   */
  get inCluster(): boolean {
    return this.kubeConfig?.getCurrentCluster()?.name === 'inCluster';
  }

  /** KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
  static fromDefaultKubeconfig(options?: KubeApiOptions): KubeApi {
    const kc = new k8s.KubeConfig();
    kc.loadFromDefault();
    return KubeApi.fromKubeconfig(kc, options);
  }

  /** From a loaded KubeConfig or the path of a kubeconfig file. */
  static fromKubeconfig(source: k8s.KubeConfig | string, options: KubeApiOptions = {}): KubeApi {
    let kc = source;
    if (typeof kc === 'string') {
      kc = new k8s.KubeConfig();
      kc.loadFromFile(source as string);
    }
    return new KubeApi(kubeconfigTransport(kc, options.userAgent ?? 'kubedask-operator'), options, kc);
  }

  static fromKubeconfigYaml(yaml: string, options: KubeApiOptions = {}): KubeApi {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(yaml);
    return KubeApi.fromKubeconfig(kc, options);
  }

  /** The kubeconfig context's namespace, or the pod's own namespace in-cluster. */
  get defaultNamespace(): string {
    return this.transport.defaultNamespace;
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.transport.close();
  }

  async get<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.call<T>({ verb: 'get', r, what: describe('get', r, namespace, name), method: 'GET', path: resourcePath(r, namespace, name), idempotent: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  /** Every page (limit 500, following `continue`) as one list. */
  async list<T extends KubeObject>(r: ResourceType, opts: ListOptions = {}): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const path = resourcePath(r, opts.namespace) + query({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: 500, continue: cont });
      const page = await this.call<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>({
        verb: 'list', r, what: describe('list', r, opts.namespace), method: 'GET', path, idempotent: true,
      });
      const kind = r.kind;
      const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
      // Items of a list carry no kind/apiVersion on the wire; fill them so objects are self-describing.
      for (const item of page.items ?? []) items.push({ ...item, apiVersion: item.apiVersion ?? apiVersion, kind: item.kind ?? kind });
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  create<T extends KubeObject>(r: ResourceType, namespace: string | undefined, body: KubeObjectLike | KubeObject, opts: { fieldManager?: string } = {}): Promise<T> {
    if (r.namespaced && !namespace) return Promise.reject(new Error(`create ${resourceName(r)}: a namespace is required`));
    return this.call<T>({
      verb: 'create', r, what: describe('create', r, namespace, body.metadata?.name ?? body.metadata?.generateName), method: 'POST',
      path: resourcePath(r, namespace) + query({ fieldManager: opts.fieldManager }), body, idempotent: false,
    });
  }

  replace<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string, body: KubeObjectLike | KubeObject, opts: { subresource?: 'status' | 'scale' } = {}): Promise<T> {
    return this.call<T>({
      verb: opts.subresource ? `update/${opts.subresource}` : 'update', r, what: describe('update', r, namespace, name, opts.subresource),
      method: 'PUT', path: resourcePath(r, namespace, name, opts.subresource), body, idempotent: false,
    });
  }

  patch<T extends KubeObject>(r: ResourceType, namespace: string | undefined, name: string, body: unknown, opts: PatchOptions): Promise<T> {
    const fieldManager = opts.fieldManager ?? (opts.type === 'apply' ? this.options.fieldManager ?? 'kubedask-operator' : undefined);
    return this.call<T>({
      verb: opts.subresource ? `patch/${opts.subresource}` : 'patch', r, what: describe(`patch (${opts.type})`, r, namespace, name, opts.subresource),
      method: 'PATCH', path: resourcePath(r, namespace, name, opts.subresource) + query({ fieldManager, force: opts.force }),
      body, contentType: PATCH_TYPES[opts.type], idempotent: false,
    });
  }

  /** true when deleted (or deletion started); false when it was already gone. */
  async delete(r: ResourceType, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<boolean> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (opts.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = opts.gracePeriodSeconds;
    if (opts.propagationPolicy) body.propagationPolicy = opts.propagationPolicy;
    if (opts.uid) body.preconditions = { uid: opts.uid };
    try {
      await this.call({ verb: 'delete', r, what: describe('delete', r, namespace, name), method: 'DELETE', path: resourcePath(r, namespace, name), body, idempotent: false });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return false;
      throw err;
    }
  }

  /**
   * Streams watch events until the server closes the watch (the iteration ends) or `signal`
   * aborts (ends quietly). An ERROR event throws its Status as ApiError (410 Gone: relist).
   * Not rate limited: a watch is one long request.
   */
  async *watch<T extends KubeObject>(r: ResourceType, opts: WatchOptions): AsyncGenerator<WatchEvent<T>> {
    if (opts.signal.aborted) return;
    const what = describe('watch', r, opts.namespace);
    const path = resourcePath(r, opts.namespace) + query({
      watch: true, resourceVersion: opts.resourceVersion, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector,
      timeoutSeconds: opts.timeoutSeconds, allowWatchBookmarks: opts.allowWatchBookmarks,
    });
    const started = performance.now();
    let res;
    try {
      res = await this.transport.send({ method: 'GET', path, signal: opts.signal });
    } catch (err) {
      this.report('watch', r, 0, started);
      if (opts.signal.aborted) return;
      throw err;
    }
    this.report('watch', r, res.statusCode ?? 0, started);
    if (res.statusCode !== 200) {
      const text = await readBody(res).catch(() => '');
      throw ApiError.fromStatus(what, res.statusCode ?? 0, parseJson(text), header(res.headers['retry-after']));
    }
    res.setEncoding('utf8');
    let buffer = '';
    try {
      for await (const chunk of res) {
        buffer += chunk as string;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          const event = JSON.parse(line) as WatchEvent<T>;
          if (event.type === 'ERROR') throw ApiError.fromStatus(what, 500, event.object);
          yield event;
        }
      }
    } catch (err) {
      if (opts.signal.aborted) return;
      if (err instanceof ApiError || err instanceof SyntaxError) throw err;
      throw new ConnectionError(`${what}: stream broken: ${(err as Error).message}`, (err as { code?: string }).code, err);
    } finally {
      res.destroy();
    }
  }

  private report(verb: string, r: ResourceType, status: number, started: number): void {
    this.options.onRequest?.({ verb, resource: resourceName(r), status, durationMs: performance.now() - started });
  }

  private async call<T>(c: Call): Promise<T> {
    const maxRetries = this.options.maxRetries ?? 3;
    const max429 = this.options.max429Retries ?? 5;
    const base = this.options.retryBaseMs ?? 200;
    let failures = 0;
    let throttled = 0;
    for (;;) {
      await this.limiter.acquire();
      const started = performance.now();
      let status = 0;
      let text = '';
      let retryAfter: string | undefined;
      try {
        const headers: Record<string, string> = {};
        if (c.body !== undefined) headers['Content-Type'] = c.contentType ?? 'application/json';
        const res = await this.transport.send({ method: c.method, path: c.path, headers, body: c.body === undefined ? undefined : JSON.stringify(c.body), timeoutMs: this.timeoutMs });
        text = await readBody(res);
        status = res.statusCode ?? 0;
        retryAfter = header(res.headers['retry-after']);
      } catch (err) {
        this.report(c.verb, c.r, 0, started);
        // A refused connection never reached the server, so even a write is safe to repeat.
        const safe = c.idempotent || (err instanceof ConnectionError && err.code === 'ECONNREFUSED');
        if (safe && failures < maxRetries) {
          await sleep(backoff(base, failures++));
          continue;
        }
        throw err instanceof ConnectionError ? new ConnectionError(`${c.what}: ${(err.cause as Error)?.message ?? err.message}`, err.code, err) : err;
      }
      this.report(c.verb, c.r, status, started);
      if (status >= 200 && status < 300) return (text ? JSON.parse(text) : {}) as T;
      const error = ApiError.fromStatus(c.what, status, parseJson(text), retryAfter);
      if (status === 429 && throttled < max429) {
        throttled++;
        await sleep(Math.min((error.retryAfterSeconds ?? 1) * 1000, 60_000));
        continue;
      }
      if (status >= 500 && c.idempotent && failures < maxRetries) {
        await sleep(backoff(base, failures++));
        continue;
      }
      throw error;
    }
  }
}

function backoff(baseMs: number, attempt: number): number {
  return baseMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describe(verb: string, r: ResourceType, namespace: string | undefined, name?: string, subresource?: string): string {
  let s = `${verb} ${resourceName(r)}${subresource ? `/${subresource}` : ''}`;
  if (name) s += ` "${name}"`;
  if (r.namespaced && namespace) s += ` in namespace "${namespace}"`;
  return s;
}
