// Watch streams: one JSON event per line, resumable from the store's history, with
// selector transitions (ADDED/DELETED), bookmarks, timeouts and 410 past the window.
import type { ServerResponse } from 'node:http';
import { expired } from './errors.js';
import { apiVersionOf, typeKey, type ResourceType } from './resource-types.js';
import type { Predicate } from './selectors.js';
import type { ObjectStore, StoreEvent } from './store.js';
import { clone, type KubeObject } from './types.js';

export interface WatchRequest {
  type: ResourceType;
  version: string;
  namespace?: string;
  matches: Predicate;
  resourceVersion?: string;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds?: number;
  bookmarkIntervalMs: number;
  /** Set for Table watches: an event's object as a one-row Table, columns only in the first. */
  asTable?: (obj: KubeObject, noHeaders: boolean) => unknown;
}

/** A live watch that fault injection can drop or stall. */
export interface WatchHandle {
  close(): void;
  stall(ms: number): void;
}

const CRD_KEY = 'apiextensions.k8s.io/customresourcedefinitions';

type WireEvent = { type: string; object: unknown };

/** One serialization per store event, wire type and apiVersion, shared by all watchers. */
const serialized = new WeakMap<StoreEvent, Map<string, string>>();

function serializeOnce(e: StoreEvent, type: string, apiVersion: string): string {
  let byForm = serialized.get(e);
  if (!byForm) serialized.set(e, (byForm = new Map()));
  const form = `${type}|${apiVersion}`;
  let line = byForm.get(form);
  if (line === undefined) {
    line = JSON.stringify({ type, object: { ...e.object, apiVersion } }) + '\n';
    byForm.set(form, line);
  }
  return line;
}

export function serveWatch(store: ObjectStore, res: ServerResponse, req: WatchRequest, active: Set<WatchHandle>): void {
  const key = typeKey(req.type);
  const apiVersion = apiVersionOf(req.type.group, req.version);
  const inScope = (obj: KubeObject | undefined): boolean =>
    obj !== undefined && (req.namespace === undefined || obj.metadata.namespace === req.namespace) && req.matches(obj);
  const present = (obj: KubeObject): KubeObject => ({ ...clone(obj), apiVersion });

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  let closed = false;
  let stalledUntil = 0;
  const timers: NodeJS.Timeout[] = [];
  // Events of one loop turn go out in one socket write: a syscall per event per watcher is the bottleneck.
  let corked = false;
  const writeLine = (line: string): void => {
    if (closed) return;
    if (!corked) {
      corked = true;
      res.cork();
      setImmediate(() => {
        corked = false;
        res.uncork();
      });
    }
    res.write(line);
  };
  const write = (evt: WireEvent): void => writeLine(JSON.stringify(evt) + '\n');
  /** The wire event type this watcher sees for a store event, if any (selector transitions included). */
  const translate = (e: StoreEvent): string | undefined => {
    const now = inScope(e.object);
    const before = e.type === 'ADDED' ? false : inScope(e.old);
    if (e.type === 'DELETED') return now || before ? 'DELETED' : undefined;
    if (now && before) return 'MODIFIED';
    if (now) return 'ADDED';
    if (before) return 'DELETED';
    return undefined;
  };
  let tableHeadersSent = false;
  const asTable = (obj: KubeObject): unknown => {
    const table = req.asTable!(obj, tableHeadersSent);
    tableHeadersSent = true;
    return table;
  };
  const send = (e: StoreEvent): void => {
    const type = translate(e);
    if (!type) return;
    if (req.asTable) write({ type, object: asTable(present(e.object)) });
    else writeLine(serializeOnce(e, type, apiVersion));
  };
  const bookmark = (annotations?: Record<string, string>): void => {
    const metadata: Record<string, unknown> = { resourceVersion: String(store.currentRv()) };
    if (annotations) metadata.annotations = annotations;
    write({ type: 'BOOKMARK', object: { kind: req.type.kind, apiVersion, metadata } });
  };

  const handle: WatchHandle = {
    close: () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      timers.forEach((t) => clearTimeout(t));
      active.delete(handle);
      res.end();
    },
    // A stalled watch delivers nothing, then drops: clients resume from their last resourceVersion.
    stall: (ms) => {
      stalledUntil = Date.now() + ms;
      timers.push(setTimeout(() => handle.close(), ms));
    },
  };
  let lastSent = 0;
  const unsubscribe = store.subscribe((e) => {
    // The kind stops being served when its CRD goes: its watches end, as on a real server.
    if (req.type.crdName && e.type === 'DELETED' && e.key === CRD_KEY && e.object.metadata.name === req.type.crdName) return handle.close();
    if (e.key !== key || e.rv <= lastSent || Date.now() < stalledUntil) return;
    lastSent = e.rv;
    send(e);
  });
  active.add(handle);
  res.on('close', () => handle.close());

  const rv = req.resourceVersion;
  if (!rv || rv === '0') {
    for (const obj of store.list(key, req.namespace)) {
      if (inScope(obj)) write({ type: 'ADDED', object: req.asTable ? asTable(present(obj)) : present(obj) });
    }
    lastSent = store.currentRv();
    if (req.allowBookmarks && req.sendInitialEvents) bookmark({ 'k8s.io/initial-events-end': 'true' });
  } else {
    const from = Number(rv);
    const history = Number.isFinite(from) ? store.eventsSince(from, key) : 'expired';
    if (history === 'expired') {
      const status = expired(`too old resource version: ${rv} (${store.oldestResumableRv() + 1})`).toStatus();
      write({ type: 'ERROR', object: status });
      handle.close();
      return;
    }
    for (const e of history) send(e);
    lastSent = Math.max(from, store.currentRv());
  }
  if (req.allowBookmarks) {
    const ticker = setInterval(bookmark, req.bookmarkIntervalMs);
    timers.push(ticker);
  }
  if (req.timeoutSeconds !== undefined && req.timeoutSeconds > 0) {
    timers.push(setTimeout(() => handle.close(), req.timeoutSeconds * 1000));
  }
}
