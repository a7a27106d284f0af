// Shared helpers for the API emulator tests: a started server with real client-node clients,
// raw HTTP, waiting on conditions with deadlines, and collecting watch events.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { waitUntil } from '../helpers/wait.js';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from '../../sim/server/api-server.js';

export interface Sim {
  server: RunningApiServer;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  custom: k8s.CustomObjectsApi;
  ext: k8s.ApiextensionsV1Api;
  close(): Promise<void>;
}

export async function startSim(options: ApiServerOptions = {}): Promise<Sim> {
  const server = await startApiServer({ watchHistory: 50, ...options });
  const kc = new k8s.KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return {
    server, kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    ext: kc.makeApiClient(k8s.ApiextensionsV1Api),
    close: () => server.close(),
  };
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

/** A raw request, for what client-node cannot express (odd content types, bodies). */
export async function raw(sim: Sim, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<RawResponse> {
  const init: RequestInit = { method, headers: { 'Content-Type': contentType, Accept: 'application/json' } };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await fetch(sim.server.url + path, init);
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = {};
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Runs a client call expected to fail; returns the Status body it answered. */
export async function expectApiError(call: Promise<unknown>, code: number): Promise<Record<string, unknown>> {
  try {
    await call;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    assert.equal(e.code, code, `expected HTTP ${code}, got ${String(e.code)}: ${String(e.body)}`);
    return (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as Record<string, unknown>;
  }
  return assert.fail(`expected HTTP ${code}, but the call succeeded`);
}

export interface WatchEventRecord {
  type: string;
  object: k8s.KubernetesObject & { code?: number; status?: unknown; spec?: unknown };
}

export interface CollectedWatch {
  events: WatchEventRecord[];
  ended: Promise<unknown>;
  stop(): void;
  waitForEvents(n: number, what?: string): Promise<WatchEventRecord[]>;
}

/** Starts a k8s.Watch on `path` and records its events. */
export async function collectWatch(sim: Sim, path: string, query: Record<string, string | number | boolean> = {}): Promise<CollectedWatch> {
  const events: WatchEventRecord[] = [];
  let resolveEnded: (err: unknown) => void = () => {};
  const ended = new Promise<unknown>((r) => (resolveEnded = r));
  const watch = new k8s.Watch(sim.kc);
  const controller = await watch.watch(path, query, (type, object) => events.push({ type, object: object as WatchEventRecord['object'] }), (err) => resolveEnded(err ?? null));
  return {
    events, ended,
    stop: () => controller.abort(),
    waitForEvents: (n, what = `${n} watch events`) => waitUntil(() => (events.length >= n ? events.slice() : undefined), what),
  };
}

export const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'], categories: ['all'] },
    versions: [{
      name: 'v1', served: true, storage: true,
      schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
    }],
  },
};

/**
 * Creates the Widget CRD and waits until it is Established. Sent as raw JSON: client-node's typed
 * model would need camelCase schema keys (xKubernetesPreserveUnknownFields) to serialize them.
 */
export async function createWidgetCrd(sim: Sim): Promise<void> {
  const created = await raw(sim, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', WIDGET_CRD);
  assert.equal(created.status, 201, created.text);
  await waitUntil(async () => {
    const crd = await sim.ext.readCustomResourceDefinition({ name: WIDGET_CRD.metadata.name });
    return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  }, 'Widget CRD established');
}

export function widget(name: string, spec: Record<string, unknown> = { replicas: 1 }): Record<string, unknown> {
  return { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec };
}

export const W = { group: 'example.com', version: 'v1', plural: 'widgets' } as const;
