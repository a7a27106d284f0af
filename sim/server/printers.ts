// The real API server's table printers (pkg/printers/internalversion) for the built-in kinds
// the emulator serves: the same columns, wide ones at priority 1, and the same cell wording.
import type { ResourceType } from './resource-types.js';
import type { KubeObject } from './types.js';

export interface Column {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  cell: (obj: KubeObject) => unknown;
}

/** apimachinery's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${years}y`;
}

/** translateTimestampSince: `<unknown>` for no time. */
export function humanAge(since: string | undefined): string {
  if (!since || Number.isNaN(Date.parse(since))) return '<unknown>';
  return humanDuration(Date.now() - Date.parse(since));
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const specOf = (o: KubeObject): Obj => (o.spec ?? {}) as Obj;
const statusOf = (o: KubeObject): Obj => (o.status ?? {}) as Obj;
const orNone = (s: string | undefined): string => (s ? s : '<none>');
/** labels.FormatLabels: sorted k=v pairs, `<none>` when empty. */
const formatLabels = (m: Record<string, string> | undefined): string =>
  orNone(Object.keys(m ?? {}).sort().map((k) => `${k}=${m![k]}`).join(','));

export const NAME: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name };
const AGE: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp', cell: (o) => humanAge(o.metadata.creationTimestamp) };
const col = (name: string, cell: Column['cell'], extra: Partial<Column> = {}): Column => ({ name, type: 'string', cell, ...extra });
const wide = (name: string, cell: Column['cell']): Column => col(name, cell, { priority: 1 });

interface ContainerStatus {
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; running?: unknown; terminated?: { reason?: string; exitCode?: number; signal?: number } };
  lastState?: { terminated?: { finishedAt?: string } };
}

/** printPod's READY, STATUS and RESTARTS (init containers aside, which the emulator does not run). */
function podSummary(o: KubeObject): { ready: string; reason: string; restarts: string } {
  const spec = specOf(o);
  const status = statusOf(o);
  const statuses = (status.containerStatuses ?? []) as ContainerStatus[];
  let reason: string = status.reason || status.phase || '';
  if ((status.conditions ?? []).some((c: Obj) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';
  let restarts = 0;
  let ready = 0;
  let lastRestart = 0;
  let hasRunning = false;
  for (let i = statuses.length - 1; i >= 0; i--) {
    const c = statuses[i]!;
    restarts += c.restartCount ?? 0;
    const finished = Date.parse(c.lastState?.terminated?.finishedAt ?? '');
    if (finished > lastRestart) lastRestart = finished;
    const st = c.state ?? {};
    if (st.waiting?.reason) reason = st.waiting.reason;
    else if (st.terminated?.reason) reason = st.terminated.reason;
    else if (st.terminated) reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode ?? 0}`;
    else if (c.ready && st.running) { hasRunning = true; ready++; }
  }
  if (reason === 'Completed' && hasRunning) {
    reason = (status.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  const phase = status.phase as string | undefined;
  if (o.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (o.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  const since = lastRestart > 0 ? ` (${humanDuration(Date.now() - lastRestart)} ago)` : '';
  return { ready: `${ready}/${(spec.containers ?? []).length}`, reason, restarts: `${restarts}${restarts !== 0 ? since : ''}` };
}

/** One podSummary per pod object, for the three cells a row takes from it. */
const summaries = new WeakMap<KubeObject, ReturnType<typeof podSummary>>();
function summaryOf(o: KubeObject): ReturnType<typeof podSummary> {
  let s = summaries.get(o);
  if (!s) summaries.set(o, (s = podSummary(o)));
  return s;
}

function servicePorts(o: KubeObject): string {
  const ports = (specOf(o).ports ?? []) as Obj[];
  return orNone(ports.map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`)).join(','));
}

function serviceExternalIP(o: KubeObject): string {
  const spec = specOf(o);
  const external = (spec.externalIPs ?? []) as string[];
  switch (spec.type) {
    case 'LoadBalancer': {
      const ingress = ((statusOf(o).loadBalancer?.ingress ?? []) as Obj[]).map((i) => i.ip || i.hostname).filter(Boolean);
      const all = [...ingress, ...external];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName': return spec.externalName ?? '<none>';
    default: return external.length ? external.join(',') : '<none>';
  }
}

function nodeStatus(o: KubeObject): string {
  const ready = ((statusOf(o).conditions ?? []) as Obj[]).find((c) => c.type === 'Ready');
  const parts = [ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown'];
  if (specOf(o).unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(o: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 'node-role.kubernetes.io/'.length) roles.add(k.slice('node-role.kubernetes.io/'.length));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return orNone([...roles].sort().join(','));
}

const nodeAddress = (o: KubeObject, type: string): string =>
  orNone(((statusOf(o).addresses ?? []) as Obj[]).find((a) => a.type === type)?.address);

/** printEvent, for core/v1 Events and events.k8s.io/v1 ones (which name their fields differently). */
function eventColumns(): Column[] {
  const ev = (o: KubeObject): Obj => o as unknown as Obj;
  const first = (o: KubeObject): string => {
    const e = ev(o);
    const t = e.firstTimestamp ?? e.deprecatedFirstTimestamp;
    return t ? humanAge(t) : humanAge(e.eventTime);
  };
  const last = (o: KubeObject): string => {
    const e = ev(o);
    if (e.series?.lastObservedTime) return humanAge(e.series.lastObservedTime);
    const t = e.lastTimestamp ?? e.deprecatedLastTimestamp;
    return t ? humanAge(t) : first(o);
  };
  const count = (o: KubeObject): number => {
    const e = ev(o);
    return e.series?.count ?? (e.count || e.deprecatedCount || 1);
  };
  const involved = (o: KubeObject): Obj => ev(o).involvedObject ?? ev(o).regarding ?? {};
  const target = (o: KubeObject): string => {
    const i = involved(o);
    return i.name ? `${String(i.kind ?? '').toLowerCase()}/${i.name}` : String(i.kind ?? '').toLowerCase();
  };
  const source = (o: KubeObject): string => {
    const e = ev(o);
    const s = (e.source ?? e.deprecatedSource ?? {}) as Obj;
    const component = s.component || e.reportingController;
    const host = s.host || e.reportingInstance;
    return component ? (host ? `${component}, ${host}` : component) : '';
  };
  return [
    col('Last Seen', last),
    col('Type', (o) => ev(o).type ?? ''),
    col('Reason', (o) => ev(o).reason ?? ''),
    col('Object', target),
    wide('Subobject', (o) => involved(o).fieldPath ?? ''),
    wide('Source', source),
    col('Message', (o) => String(ev(o).message ?? ev(o).note ?? '').trim()),
    wide('First Seen', first),
    col('Count', count, { type: 'string', priority: 1 }),
    { ...NAME, priority: 1 },
  ];
}

const count = (v: unknown): number => (v && typeof v === 'object' ? Object.keys(v).length : 0);
/** The default table's second column (and the RBAC roles' printer's): the creation time in RFC 3339. */
export const CREATED_AT: Column = {
  name: 'Created At', type: 'date', description: 'CreationTimestamp',
  cell: (o) => (o.metadata.creationTimestamp ? new Date(o.metadata.creationTimestamp).toISOString().replace(/\.\d{3}Z$/, 'Z') : null),
};

function bindingColumns(): Column[] {
  const subjects = (o: KubeObject, kind: string): string =>
    ((o as unknown as Obj).subjects ?? []).filter((s: Obj) => s.kind === kind).map((s: Obj) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name)).join(', ');
  return [
    NAME,
    col('Role', (o) => { const r = (o as unknown as Obj).roleRef ?? {}; return `${r.kind}/${r.name}`; }),
    AGE,
    wide('Users', (o) => subjects(o, 'User')),
    wide('Groups', (o) => subjects(o, 'Group')),
    wide('ServiceAccounts', (o) => subjects(o, 'ServiceAccount')),
  ];
}

/** The columns of a built-in kind, or undefined where the real server uses the default table. */
export function builtinPrinter(t: ResourceType): Column[] | undefined {
  if (!t.builtin) return undefined;
  switch (t.kind) {
    case 'Pod': return [
      NAME,
      col('Ready', (o) => summaryOf(o).ready),
      col('Status', (o) => summaryOf(o).reason),
      col('Restarts', (o) => summaryOf(o).restarts),
      AGE,
      wide('IP', (o) => orNone(statusOf(o).podIPs?.[0]?.ip ?? statusOf(o).podIP)),
      wide('Node', (o) => orNone(specOf(o).nodeName)),
      wide('Nominated Node', (o) => orNone(statusOf(o).nominatedNodeName)),
      wide('Readiness Gates', (o) => {
        const gates = (specOf(o).readinessGates ?? []) as Obj[];
        if (!gates.length) return '<none>';
        const met = gates.filter((g) => ((statusOf(o).conditions ?? []) as Obj[]).some((c) => c.type === g.conditionType && c.status === 'True')).length;
        return `${met}/${gates.length}`;
      }),
    ];
    case 'Service': return [
      NAME,
      col('Type', (o) => specOf(o).type ?? 'ClusterIP'),
      col('Cluster-IP', (o) => orNone(specOf(o).clusterIP)),
      col('External-IP', serviceExternalIP),
      col('Port(s)', servicePorts),
      AGE,
      wide('Selector', (o) => formatLabels(specOf(o).selector)),
    ];
    case 'Node': return [
      NAME,
      col('Status', nodeStatus),
      col('Roles', nodeRoles),
      AGE,
      col('Version', (o) => statusOf(o).nodeInfo?.kubeletVersion ?? ''),
      wide('Internal-IP', (o) => nodeAddress(o, 'InternalIP')),
      wide('External-IP', (o) => nodeAddress(o, 'ExternalIP')),
      wide('OS-Image', (o) => orNone(statusOf(o).nodeInfo?.osImage)),
      wide('Kernel-Version', (o) => orNone(statusOf(o).nodeInfo?.kernelVersion)),
      wide('Container-Runtime', (o) => orNone(statusOf(o).nodeInfo?.containerRuntimeVersion)),
    ];
    case 'Event': return eventColumns();
    case 'Namespace': return [NAME, col('Status', (o) => statusOf(o).phase ?? ''), AGE];
    case 'ConfigMap': return [NAME, col('Data', (o) => count((o as unknown as Obj).data) + count((o as unknown as Obj).binaryData), { type: 'integer' }), AGE];
    case 'Secret': return [NAME, col('Type', (o) => (o as unknown as Obj).type ?? 'Opaque'), col('Data', (o) => count((o as unknown as Obj).data), { type: 'integer' }), AGE];
    case 'ServiceAccount': return [NAME, col('Secrets', (o) => ((o as unknown as Obj).secrets ?? []).length, { type: 'integer' }), AGE];
    case 'Endpoints': return [NAME, col('Endpoints', (o) => {
      const all = ((o as unknown as Obj).subsets ?? []).flatMap((s: Obj) => (s.addresses ?? []).flatMap((a: Obj) => ((s.ports ?? [{}]) as Obj[]).map((p) => (p.port ? `${a.ip}:${p.port}` : a.ip))));
      return all.length === 0 ? '<none>' : all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
    }), AGE];
    case 'PersistentVolumeClaim': return [
      NAME,
      col('Status', (o) => (o.metadata.deletionTimestamp ? 'Terminating' : statusOf(o).phase ?? '')),
      col('Volume', (o) => specOf(o).volumeName ?? ''),
      col('Capacity', (o) => statusOf(o).capacity?.storage ?? ''),
      col('Access Modes', (o) => ((statusOf(o).accessModes ?? []) as string[]).map((m) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' }[m] ?? m)).join(',')),
      col('StorageClass', (o) => specOf(o).storageClassName ?? ''),
      col('VolumeAttributesClass', (o) => orNone(specOf(o).volumeAttributesClassName)),
      AGE,
      wide('VolumeMode', (o) => specOf(o).volumeMode ?? 'Filesystem'),
    ];
    case 'Deployment': {
      const containers = (o: KubeObject): Obj[] => specOf(o).template?.spec?.containers ?? [];
      return [
        NAME,
        col('Ready', (o) => `${statusOf(o).readyReplicas ?? 0}/${specOf(o).replicas ?? 0}`),
        col('Up-to-date', (o) => statusOf(o).updatedReplicas ?? 0, { type: 'integer' }),
        col('Available', (o) => statusOf(o).availableReplicas ?? 0, { type: 'integer' }),
        AGE,
        wide('Containers', (o) => containers(o).map((c) => c.name).join(',')),
        wide('Images', (o) => containers(o).map((c) => c.image).join(',')),
        wide('Selector', (o) => {
          const sel = specOf(o).selector ?? {};
          const exprs = ((sel.matchExpressions ?? []) as Obj[]).map((e) => `${e.key} ${String(e.operator).toLowerCase()} (${(e.values ?? []).join(',')})`);
          return orNone([...(formatLabels(sel.matchLabels) === '<none>' ? [] : [formatLabels(sel.matchLabels)]), ...exprs].join(','));
        }),
      ];
    }
    case 'Lease': return [NAME, col('Holder', (o) => specOf(o).holderIdentity ?? ''), AGE];
    case 'Role':
    case 'ClusterRole': return [NAME, CREATED_AT];
    case 'RoleBinding':
    case 'ClusterRoleBinding': return bindingColumns();
    default: return undefined;
  }
}
