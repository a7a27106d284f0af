// HTTP edge: parses Kubernetes REST paths and queries, dispatches to the resource service,
// and answers JSON (errors as Status objects).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest, expired, methodNotAllowed, unknownPath, unsupportedMediaType } from './errors.js';
import { coreVersions, groupDoc, groupList, openApiV3Doc, openApiV3Index, resourceList, versionInfo } from './discovery.js';
import type { Faults } from './faults.js';
import { typeKey, type TypeRegistry } from './resource-types.js';
import type { DeleteOptions, ResourceService, Target } from './rest.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { ObjectStore } from './store.js';
import { isObject, type KubeObject } from './types.js';
import { serveWatch, type WatchHandle } from './watch.js';
import { includeObjectParam, toTable, wantsTable } from './table.js';
import { decodeKubeProtobuf } from './protobuf.js';
import { servePodLog } from './pod-log.js';
import { boolParam, intParam } from './query-params.js';

export interface RouterContext {
  store: ObjectStore;
  types: TypeRegistry;
  rest: ResourceService;
  faults: Faults;
  watches: Set<WatchHandle>;
  serverAddress: () => string;
  bookmarkIntervalMs: number;
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  const apiError = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
  const headers: Record<string, string> = {};
  if (apiError.details?.retryAfterSeconds !== undefined) headers['Retry-After'] = String(apiError.details.retryAfterSeconds);
  send(res, apiError.code, apiError.toStatus(), headers);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  const contentType = req.headers['content-type'] ?? '';
  // Typed Go clients (helm, some kubectl commands) write protobuf: turn it into the JSON it means.
  if (contentType.includes('protobuf')) return bytes.length ? JSON.stringify(decodeKubeProtobuf(bytes, contentType)) : '';
  if (contentType.includes('cbor')) throw unsupportedMediaType(contentType);
  return bytes.toString('utf8');
}

function parseJson(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`the body of the request could not be decoded: ${(err as Error).message}`);
  }
}

/** Splits `/api/v1/...` or `/apis/g/v/...` into group, version and the rest. */
function parseResourcePath(parts: string[]): { group: string; version: string; rest: string[] } | undefined {
  if (parts[0] === 'api' && parts.length >= 2) return { group: '', version: parts[1], rest: parts.slice(2) };
  if (parts[0] === 'apis' && parts.length >= 3) return { group: parts[1], version: parts[2], rest: parts.slice(3) };
  return undefined;
}

interface ContinueToken { rv: number; after: string }

export async function handleRequest(ctx: RouterContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://kube-sim');
    const method = (req.method ?? 'GET').toUpperCase();
    const injected = ctx.faults.take(method, url.pathname + url.search);
    if (injected) throw injected;
    if (method !== 'GET' && ctx.faults.writeDelayMs > 0) await new Promise((r) => setTimeout(r, ctx.faults.writeDelayMs));
    const body = method === 'GET' ? '' : await readBody(req);
    await route(ctx, req, res, url, method, body);
  } catch (err) {
    if (!res.headersSent) sendError(res, err);
    else res.end();
  }
}

async function route(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, url: URL, method: string, body: string): Promise<void> {
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const q = url.searchParams;
  const fixed: Record<string, () => unknown> = {
    '/version': versionInfo,
    '/api': () => coreVersions(ctx.serverAddress()),
    '/apis': () => groupList(ctx.types),
    '/openapi/v3': () => openApiV3Index(ctx.types),
  };
  if (fixed[path]) return send(res, 200, fixed[path]());
  if (['/healthz', '/readyz', '/livez'].includes(path)) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    return void res.end('ok');
  }
  if (path.startsWith('/openapi/v3/')) {
    const gv = path.slice('/openapi/v3/'.length).split('/');
    const doc = gv[0] === 'api' ? openApiV3Doc(ctx.types, '', gv[1]) : openApiV3Doc(ctx.types, gv[1], gv[2]);
    if (!doc) throw unknownPath();
    return send(res, 200, doc);
  }
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'apis' && parts.length === 2) {
    const doc = groupDoc(ctx.types, parts[1]);
    if (!doc) throw unknownPath();
    return send(res, 200, doc);
  }
  const parsed = parseResourcePath(parts);
  if (!parsed) throw unknownPath();
  const { group, version, rest } = parsed;
  if (rest.length === 0) {
    const list = resourceList(ctx.types, group, version);
    if (!list) throw unknownPath();
    return send(res, 200, list);
  }
  let namespace: string | undefined;
  let tail = rest;
  const namespaceSub = rest.length === 3 && ['status', 'finalize'].includes(rest[2]);
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && namespaceSub)) {
    namespace = rest[1];
    tail = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = tail;
  const type = ctx.types.find(group, version, plural);
  if (!type || extra.length > 0 || (namespace !== undefined && !type.namespaced)) throw unknownPath();
  if (subresource && !(subresource === 'status' && type.status) && !(subresource === 'scale' && type.scale) && !(subresource === 'finalize' && type.kind === 'Namespace')
    && !(['binding', 'log', 'exec', 'portforward'].includes(subresource) && type.builtin && type.kind === 'Pod')) {
    throw unknownPath();
  }
  if (subresource === 'log' && name !== undefined && namespace !== undefined) {
    if (method !== 'GET') throw methodNotAllowed();
    return servePodLog(ctx.store, res, ctx.rest.get({ type, version, namespace, name }), q);
  }
  // exec and portforward stream over an upgraded connection (upgrade.ts); a plain request cannot carry them.
  if (subresource === 'exec' || subresource === 'portforward') throw badRequest('Upgrade request required');
  const target: Target = { type, version, namespace, name, subresource };
  const warnings: string[] = [];
  const isApply = (req.headers['content-type'] ?? '').startsWith('application/apply-patch');
  const writeOpts = {
    dryRun: q.get('dryRun') === 'All', force: boolParam(q, 'force'),
    // Apply needs an explicit manager; other writes default to the client's user agent, as the real server does.
    fieldManager: q.get('fieldManager') ?? (isApply ? undefined : (req.headers['user-agent'] ?? 'unknown').split('/')[0]),
    fieldValidation: q.get('fieldValidation') ?? undefined, warnings,
  };
  const sendWrite = (result: { code: number; object: unknown }): void => {
    const headers: Record<string, string> = {};
    if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', ');
    send(res, result.code, result.object, headers);
  };
  if (subresource === 'binding' && name !== undefined) {
    if (method !== 'POST') throw methodNotAllowed();
    return sendWrite(ctx.rest.create(target, parseJson(body), writeOpts));
  }
  if (name === undefined) {
    if (type.namespaced && namespace === undefined && method !== 'GET') throw unknownPath();
    if (method === 'GET') return listOrWatch(ctx, req, res, target, q);
    if (method === 'POST') return sendWrite(ctx.rest.create(target, parseJson(body), writeOpts));
    if (method === 'DELETE') return deleteCollection(ctx, res, target, q, body);
    throw methodNotAllowed();
  }
  switch (method) {
    case 'GET': {
      const obj = ctx.rest.get(target);
      if (!subresource && wantsTable(req.headers.accept)) {
        return send(res, 200, toTable(type, version, [obj], { resourceVersion: obj.metadata.resourceVersion }, { includeObject: includeObjectParam(q) }));
      }
      return send(res, 200, obj);
    }
    case 'PUT': return sendWrite(ctx.rest.update(target, parseJson(body), writeOpts));
    case 'PATCH': return sendWrite(ctx.rest.patch(target, req.headers['content-type'] ?? '', body, writeOpts));
    case 'DELETE': {
      const result = ctx.rest.delete(target, deleteOptions(q, body));
      return send(res, result.code, result.object);
    }
    default: throw methodNotAllowed();
  }
}

function deleteOptions(q: URLSearchParams, body: string): DeleteOptions {
  const parsed = parseJson(body);
  const opts: DeleteOptions = isObject(parsed) ? (parsed as DeleteOptions) : {};
  const grace = intParam(q, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  const policy = q.get('propagationPolicy');
  if (policy) opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  if (isObject(parsed) && parsed.orphanDependents === true && !opts.propagationPolicy) opts.propagationPolicy = 'Orphan';
  if (q.get('dryRun') === 'All') opts.dryRun = true;
  return opts;
}

function selectedItems(ctx: RouterContext, target: Target, q: URLSearchParams): KubeObject[] {
  const t = target.type;
  const byLabel = parseLabelSelector(q.get('labelSelector'));
  const byField = parseFieldSelector(q.get('fieldSelector'), t.kind, t.builtin);
  return ctx.store.list(typeKey(t), target.namespace).filter((o) => byLabel(o) && byField(o));
}

function listOrWatch(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, target: Target, q: URLSearchParams): void {
  const t = target.type;
  if (boolParam(q, 'watch')) {
    const byLabel = parseLabelSelector(q.get('labelSelector'));
    const byField = parseFieldSelector(q.get('fieldSelector'), t.kind, t.builtin);
    return serveWatch(ctx.store, res, {
      type: t, version: target.version, namespace: target.namespace, matches: (o) => byLabel(o) && byField(o),
      resourceVersion: q.get('resourceVersion') ?? undefined, allowBookmarks: boolParam(q, 'allowWatchBookmarks'),
      sendInitialEvents: boolParam(q, 'sendInitialEvents'), timeoutSeconds: intParam(q, 'timeoutSeconds'), bookmarkIntervalMs: ctx.bookmarkIntervalMs,
      // `kubectl get -w`: each event's object is a one-row Table.
      asTable: wantsTable(req.headers.accept)
        ? (obj, noHeaders) => toTable(t, target.version, [obj], { resourceVersion: obj.metadata.resourceVersion }, { includeObject: includeObjectParam(q), noHeaders })
        : undefined,
    }, ctx.watches);
  }
  const rv = ctx.store.currentRv();
  let items = selectedItems(ctx, target, q);
  const token = q.get('continue');
  let listRv = rv;
  if (token) {
    let parsed: ContinueToken;
    try {
      parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    } catch {
      throw badRequest('continue key is not valid: illegal base64 data');
    }
    if (parsed.rv < ctx.store.oldestResumableRv()) {
      throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
    }
    listRv = parsed.rv;
    items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > parsed.after);
  }
  const limit = intParam(q, 'limit');
  const metadata: Record<string, unknown> = { resourceVersion: String(listRv) };
  if (limit !== undefined && limit > 0 && items.length > limit) {
    const remaining = items.length - limit;
    items = items.slice(0, limit);
    const last = items[items.length - 1];
    const next: ContinueToken = { rv: listRv, after: `${last.metadata.namespace ?? ''}/${last.metadata.name}` };
    metadata.continue = Buffer.from(JSON.stringify(next)).toString('base64url');
    metadata.remainingItemCount = remaining;
  }
  const presented = items.map((o) => ctx.rest.present(t, target.version, o));
  if (wantsTable(req.headers.accept)) return send(res, 200, toTable(t, target.version, presented, metadata, { includeObject: includeObjectParam(q) }));
  send(res, 200, { kind: t.listKind, apiVersion: presented[0]?.apiVersion ?? (t.group ? `${t.group}/${target.version}` : target.version), metadata, items: presented });
}

function deleteCollection(ctx: RouterContext, res: ServerResponse, target: Target, q: URLSearchParams, body: string): void {
  const opts = deleteOptions(q, body);
  const items = selectedItems(ctx, target, q);
  const deleted = items.map((o) => ctx.rest.delete({ ...target, namespace: o.metadata.namespace, name: o.metadata.name }, opts).object);
  const t = target.type;
  send(res, 200, { kind: t.listKind, apiVersion: t.group ? `${t.group}/${target.version}` : target.version, metadata: { resourceVersion: String(ctx.store.currentRv()) }, items: deleted });
}
