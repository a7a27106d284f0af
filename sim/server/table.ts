// meta.k8s.io/v1 Table answers for `kubectl get`: Name, the CRD's printer columns, Age.
import type { PrinterColumn, ResourceType } from './resource-types.js';
import { isObject, type KubeObject } from './types.js';

export function wantsTable(accept: string | undefined): boolean {
  return Boolean(accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept));
}

function humanAge(since: string | undefined): string {
  if (!since) return '<unknown>';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** Evaluates the simple JSONPath forms printer columns use: `.a.b`, `.a[0].b`. */
function evalPath(obj: unknown, path: string): unknown {
  const tokens = path.replace(/^\{?\.?/, '').replace(/\}$/, '').split(/\.|\[(\d+)\]/).filter((t) => t !== undefined && t !== '');
  let cur = obj;
  for (const t of tokens) {
    if (Array.isArray(cur) && /^\d+$/.test(t)) cur = cur[Number(t)];
    else if (isObject(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

type Column = PrinterColumn & { compute?: (obj: KubeObject) => unknown };

const count = (obj: KubeObject, path: string): number => Number(evalPath(obj, path) ?? 0);

function builtinColumns(t: ResourceType): Column[] {
  switch (t.kind) {
    case 'Pod': return [
      { name: 'Ready', type: 'string', jsonPath: '', compute: (o) => {
        const statuses = (evalPath(o, '.status.containerStatuses') ?? []) as Array<{ ready?: boolean }>;
        return `${statuses.filter((s) => s.ready).length}/${((evalPath(o, '.spec.containers') ?? []) as unknown[]).length}`;
      } },
      { name: 'Status', type: 'string', jsonPath: '', compute: (o) => (o.metadata.deletionTimestamp ? 'Terminating' : evalPath(o, '.status.phase')) },
      { name: 'Restarts', type: 'integer', jsonPath: '', compute: (o) => ((evalPath(o, '.status.containerStatuses') ?? []) as Array<{ restartCount?: number }>).reduce((n, s) => n + (s.restartCount ?? 0), 0) },
      { name: 'Node', type: 'string', jsonPath: '.spec.nodeName', priority: 1 },
      { name: 'IP', type: 'string', jsonPath: '.status.podIP', priority: 1 },
    ];
    case 'Deployment': return [
      { name: 'Ready', type: 'string', jsonPath: '', compute: (o) => `${count(o, '.status.readyReplicas')}/${count(o, '.spec.replicas')}` },
      { name: 'Up-to-date', type: 'integer', jsonPath: '', compute: (o) => count(o, '.status.updatedReplicas') },
      { name: 'Available', type: 'integer', jsonPath: '', compute: (o) => count(o, '.status.availableReplicas') },
    ];
    case 'Namespace': return [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }];
    case 'Service': return [
      { name: 'Type', type: 'string', jsonPath: '.spec.type' },
      { name: 'Cluster-IP', type: 'string', jsonPath: '.spec.clusterIP' },
      { name: 'External-IP', type: 'string', jsonPath: '', compute: () => '<none>' },
      { name: 'Port(s)', type: 'string', jsonPath: '', compute: (o) => ((evalPath(o, '.spec.ports') ?? []) as Array<{ port?: number; protocol?: string }>).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',') || '<none>' },
    ];
    case 'Node': return [
      { name: 'Status', type: 'string', jsonPath: '', compute: (o) => {
        const ready = ((evalPath(o, '.status.conditions') ?? []) as Array<{ type?: string; status?: string }>).find((c) => c.type === 'Ready');
        return ready?.status === 'True' ? 'Ready' : 'NotReady';
      } },
      { name: 'Version', type: 'string', jsonPath: '.status.nodeInfo.kubeletVersion' },
    ];
    default: return [];
  }
}

export function toTable(t: ResourceType, version: string, items: KubeObject[], metadata: Record<string, unknown>): Record<string, unknown> {
  const custom: Column[] = t.printerColumns?.[version] ?? builtinColumns(t);
  const hasAge = custom.some((c) => c.name.toLowerCase() === 'age');
  const columnDefinitions = [
    { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', priority: 0 },
    ...custom.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    ...(hasAge ? [] : [{ name: 'Age', type: 'string', format: '', description: 'CreationTimestamp', priority: 0 }]),
  ];
  const rows = items.map((obj) => {
    const cells: unknown[] = [obj.metadata.name];
    for (const c of custom) {
      const v = c.compute ? c.compute(obj) : evalPath(obj, c.jsonPath);
      cells.push(c.type === 'date' ? humanAge(typeof v === 'string' ? v : undefined) : v ?? (c.type === 'integer' || c.type === 'number' ? null : ''));
    }
    if (!hasAge) cells.push(humanAge(obj.metadata.creationTimestamp));
    return { cells, object: obj };
  });
  return { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata, columnDefinitions, rows };
}
