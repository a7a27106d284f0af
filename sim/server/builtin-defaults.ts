// Defaults the real API server fills in for built-in kinds that clients rely on
// (a Service's clusterIP, a Pod's restartPolicy, a Deployment's replicas, ...).
import type { ObjectStore } from './store.js';
import { isObject, type JsonObject, type KubeObject } from './types.js';

function defaultPorts(ports: unknown, forService: boolean): void {
  if (!Array.isArray(ports)) return;
  for (const p of ports) {
    if (!isObject(p)) continue;
    p.protocol ??= 'TCP';
    if (forService) p.targetPort ??= p.port;
  }
}

function defaultPodSpec(spec: JsonObject): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.serviceAccountName ??= spec.serviceAccount ?? 'default';
  for (const list of ['containers', 'initContainers']) {
    for (const c of Array.isArray(spec[list]) ? (spec[list] as unknown[]) : []) {
      if (!isObject(c)) continue;
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.imagePullPolicy ??= typeof c.image === 'string' && (c.image.endsWith(':latest') || !c.image.includes(':')) ? 'Always' : 'IfNotPresent';
      defaultPorts(c.ports, false);
    }
  }
}

/** Picks an unused 10.96.0.0/16 address, as the service IP allocator does. */
function allocateClusterIp(store: ObjectStore): string {
  const used = new Set(store.list('/services').map((s) => (s.spec as { clusterIP?: string } | undefined)?.clusterIP));
  for (let i = 10; i < 65_000; i++) {
    const ip = `10.96.${Math.floor(i / 254)}.${(i % 254) + 1}`;
    if (!used.has(ip)) return ip;
  }
  throw new Error('service IP range exhausted');
}

export function applyBuiltinDefaults(kind: string, obj: KubeObject, store: ObjectStore, creating: boolean): void {
  const spec = isObject(obj.spec) ? obj.spec : undefined;
  switch (kind) {
    case 'Pod':
      if (spec) defaultPodSpec(spec);
      break;
    case 'Deployment':
      if (!spec) break;
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } };
      if (isObject(spec.template) && isObject(spec.template.spec)) defaultPodSpec(spec.template.spec);
      break;
    case 'Service':
      if (!spec) break;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      defaultPorts(spec.ports, true);
      if (creating && spec.type !== 'ExternalName' && spec.clusterIP === undefined) spec.clusterIP = allocateClusterIp(store);
      if (typeof spec.clusterIP === 'string') spec.clusterIPs ??= [spec.clusterIP];
      break;
    case 'Secret':
      obj.type ??= 'Opaque';
      if (isObject(obj.stringData)) {
        const data = (isObject(obj.data) ? obj.data : {}) as Record<string, unknown>;
        for (const [k, v] of Object.entries(obj.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        obj.data = data;
        delete obj.stringData;
      }
      break;
    default:
      break;
  }
}
