// The chart's monitoring (helm/kubedask) through the real helm binary: the ServiceMonitors
// (operator, scheduler Services), the PodMonitor (worker pods) and the Grafana dashboard
// ConfigMap render only when switched on; the monitors select what the operator's builders
// really make, on ports those objects really have; and every series the dashboard queries is
// one the code registers (names read from the scheduler's, workers', operator's and process's
// registries), with labels those series carry or the monitors add.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Registry } from 'prom-client';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { API_VERSION, LABELS, type DaskCluster } from '../../operator/api/types.js';
import { buildSchedulerService, buildWorkerGroup, buildWorkerPod, withClusterDefaults } from '../../operator/builders/index.js';
import { operatorMetrics } from '../../operator/runtime/metrics.js';
import { exposition } from '../../protocol/prometheus.js';
import { SchedulerCore } from '../../scheduler/server/core.js';
import { schedulerRegistry } from '../../scheduler/server/prometheus.js';
import { workerPrometheus } from '../../worker/runtime/prometheus.js';
import { kubeTools, runTool } from '../helpers/kube-tools.js';
import { parsePrometheus } from '../helpers/prometheus.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const chart = join(root, 'helm', 'kubedask');

interface Manifest { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Monitor; data?: Record<string, string> }
interface Endpoint { port: string; path: string; interval: string; relabelings: { sourceLabels: string[]; targetLabel: string }[] }
interface Monitor {
  selector: { matchLabels: Record<string, string> };
  namespaceSelector: { any?: boolean; matchNames?: string[] };
  endpoints?: Endpoint[];
  podMetricsEndpoints?: Endpoint[];
}
interface Target { expr?: string }
interface Panel { type: string; title: string; targets?: Target[]; panels?: Panel[] }
interface Dashboard { title: string; uid: string; panels: Panel[]; templating: { list: { name: string; query?: string | { query: string } }[] } }

/** Labels a series gets from being scraped (Prometheus, the Prometheus Operator, our relabelings). */
const TARGET_LABELS = new Set(['namespace', 'pod', 'service', 'container', 'endpoint', 'job', 'instance', 'kubedask_cluster', 'kubedask_component']);
/** PromQL functions and keywords the dashboard uses; any other name in a query must be a series. */
const PROMQL = new Set(['sum', 'avg', 'max', 'min', 'count', 'rate', 'increase', 'histogram_quantile', 'label_values', 'by', 'without']);
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

/** Every series name the code can expose, with its labels. */
async function codeSeries(): Promise<Map<string, Set<string>>> {
  const registries = [
    schedulerRegistry(new SchedulerCore({})),
    workerPrometheus({ name: 'w', group: 'g', nthreads: 1, memoryLimit: 0, memoryUsed: () => 0, spilledBytes: () => 0, tasks: () => ({ executing: 0, ready: 0 }) }).registry,
  ];
  const operator = new Registry();
  operatorMetrics(operator, { queueDepth: () => 0 });
  registries.push(operator);
  const series = new Map<string, Set<string>>();
  for (const registry of registries) {
    for (const metric of registry.getMetricsAsArray()) {
      const labels = new Set((metric as unknown as { labelNames?: string[] }).labelNames ?? []);
      const names = String(metric.type) === 'histogram' ? HISTOGRAM_SUFFIXES.map((s) => metric.name + s) : [metric.name];
      for (const name of names) series.set(name, name.endsWith('_bucket') ? new Set([...labels, 'le']) : labels);
    }
  }
  // The process's own series (process_*, nodejs_*) come with every scrape.
  for (const [name, family] of parsePrometheus((await exposition(new Registry())).text)) {
    for (const s of family.samples) series.set(s.name, new Set(Object.keys(s.labels)));
    if (!series.has(name)) series.set(name, new Set());
  }
  return series;
}

/** The series a query reads, the labels it selects each by, and the labels it aggregates by. */
function queried(expr: string): { series: { name: string; labels: string[] }[]; by: string[] } {
  const series: { name: string; labels: string[] }[] = [];
  const withSelectors = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g;
  for (const m of expr.matchAll(withSelectors)) {
    series.push({ name: m[1]!, labels: [...m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!) });
  }
  const by = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean));
  const rest = expr.replace(withSelectors, ' ').replace(/\b(?:by|without)\s*\([^)]*\)/g, ' ').replace(/\[[^\]]*\]/g, ' ').replace(/"[^"]*"/g, ' ');
  for (const m of rest.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    if (!PROMQL.has(m[0])) series.push({ name: m[0], labels: [] });
  }
  return { series, by };
}

const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

describe('helm chart monitoring', () => {
  let helm: string;
  before(() => { helm = kubeTools().helm; });
  const template = async (...args: string[]): Promise<Manifest[]> => {
    const r = await runTool(helm, ['template', 'kd', chart, '--namespace', 'kubedask-system', ...args], { timeoutMs: 120_000 });
    assert.equal(r.status, 0, `helm template ${args.join(' ')} failed: ${r.stderr}`);
    return parseAllDocuments(r.stdout).map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m !== null);
  };
  const monitors = (ms: Manifest[]) => ms.filter((m) => m.kind === 'ServiceMonitor' || m.kind === 'PodMonitor');
  const dashboards = (ms: Manifest[]) => ms.filter((m) => m.kind === 'ConfigMap' && m.data?.['kubedask.json']);
  const all = ['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.podMonitor.enabled=true', '--set', 'grafana.dashboard.enabled=true'];

  const demo: DaskCluster = { apiVersion: API_VERSION, kind: 'DaskCluster', metadata: { name: 'demo', namespace: 'team-a', uid: 'u1' }, spec: {} };
  const schedulerService = buildSchedulerService(demo);
  const builtGroup = buildWorkerGroup(demo, withClusterDefaults(demo.spec).workerGroups[0]!);
  const workerPod = buildWorkerPod({ ...builtGroup, metadata: { ...builtGroup.metadata, uid: 'u2' } }, demo, 'demo-default-x');
  const metaLabel = (role: string, label: string) => `__meta_kubernetes_${role}_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;

  it('renders no monitor and no dashboard by default (the Prometheus Operator\'s CRDs may be absent)', async () => {
    const ms = await template();
    assert.deepEqual(monitors(ms), []);
    assert.deepEqual(dashboards(ms), []);
  });

  it('each switch renders its own objects only', async () => {
    const sm = await template('--set', 'metrics.serviceMonitor.enabled=true');
    assert.deepEqual(monitors(sm).map((m) => `${m.kind}/${m.metadata.name}`), ['ServiceMonitor/kd-kubedask', 'ServiceMonitor/kd-kubedask-schedulers']);
    assert.deepEqual(dashboards(sm), []);
    const pm = await template('--set', 'metrics.podMonitor.enabled=true');
    assert.deepEqual(monitors(pm).map((m) => `${m.kind}/${m.metadata.name}`), ['PodMonitor/kd-kubedask-workers']);
    const gd = await template('--set', 'grafana.dashboard.enabled=true');
    assert.deepEqual(monitors(gd), []);
    assert.equal(dashboards(gd).length, 1);
  });

  it('the scheduler ServiceMonitor and the worker PodMonitor select what the operator builds, on its metrics ports', async () => {
    for (const [args, namespaces] of [[all, { any: true }], [[...all, '--set', 'rbac.scope=namespaced', '--set', 'watchNamespaces={team-a,team-b}'], { matchNames: ['team-a', 'team-b'] }]] as const) {
      const ms = await template(...args);
      const schedulers = ms.find((m) => m.metadata.name === 'kd-kubedask-schedulers')!;
      const workers = ms.find((m) => m.kind === 'PodMonitor')!;
      assert.equal(schedulers.apiVersion, 'monitoring.coreos.com/v1');
      assert.equal(workers.apiVersion, 'monitoring.coreos.com/v1');
      for (const [monitor, labels, role, ports] of [
        [schedulers, schedulerService.metadata!.labels!, 'service', schedulerService.spec!.ports!.map((p) => p.name)],
        [workers, workerPod.metadata!.labels!, 'pod', workerPod.spec!.containers.flatMap((c: IContainer) => (c.ports ?? []).map((p) => p.name))],
      ] as const) {
        const spec = monitor.spec!;
        assert.deepEqual(spec.namespaceSelector, namespaces, `${monitor.metadata.name}: the namespaces the operator watches`);
        for (const [k, v] of Object.entries(spec.selector.matchLabels)) assert.equal(labels[k], v, `${monitor.metadata.name} selects by ${k}=${v}`);
        const [endpoint] = spec.endpoints ?? spec.podMetricsEndpoints ?? [];
        assert.ok(endpoint, `${monitor.metadata.name} has an endpoint`);
        assert.ok(ports.includes(endpoint.port), `${monitor.metadata.name} scrapes port ${endpoint.port}, one of ${ports.join(', ')}`);
        assert.equal(endpoint.path, '/metrics');
        // The dashboard's kubedask_cluster and kubedask_component come from labels the objects carry.
        const targets = new Map(endpoint.relabelings.map((r) => [r.targetLabel, r.sourceLabels]));
        assert.deepEqual(targets.get('kubedask_cluster'), [metaLabel(role, LABELS.cluster)]);
        assert.deepEqual(targets.get('kubedask_component'), [metaLabel(role, LABELS.role)]);
        for (const sources of targets.values()) {
          for (const source of sources) {
            assert.ok(Object.keys(labels).some((l) => metaLabel(role, l) === source), `${source} is a label of the ${role}`);
          }
        }
      }
      // Workers serve what the PodMonitor scrapes: `kubedask worker --metrics-port` on the `metrics` port.
      const worker = workerPod.spec!.containers.find((c: IContainer) => c.name === 'worker')!;
      const metricsPort = worker.ports!.find((p) => p.name === 'metrics')!.containerPort;
      assert.equal(worker.args![worker.args!.indexOf('--metrics-port') + 1], String(metricsPort));
    }
  });

  it('monitor labels and the dashboard ConfigMap\'s label, namespace and annotations come from values', async () => {
    const ms = await template(...all, '--set', 'metrics.serviceMonitor.labels.release=prom', '--set', 'metrics.podMonitor.labels.release=prom2',
      '--set', 'grafana.dashboard.label=my_dashboards', '--set', 'grafana.dashboard.labelValue=yes', '--set', 'grafana.dashboard.namespace=monitoring',
      '--set', 'grafana.dashboard.annotations.grafana_folder=Dask');
    for (const m of ms.filter((x) => x.kind === 'ServiceMonitor')) assert.equal(m.metadata.labels?.release, 'prom');
    assert.equal(ms.find((m) => m.kind === 'PodMonitor')!.metadata.labels?.release, 'prom2');
    const [cm] = dashboards(ms);
    assert.equal(cm!.metadata.labels?.my_dashboards, 'yes');
    assert.equal(cm!.metadata.labels?.grafana_dashboard, undefined);
    assert.equal(cm!.metadata.namespace, 'monitoring');
    assert.deepEqual(cm!.metadata.annotations, { grafana_folder: 'Dask' });
    const r = await runTool(helm, ['template', 'kd', chart, '--set', 'metrics.podMonitor.intervall=5s'], { timeoutMs: 120_000 });
    assert.notEqual(r.status, 0, 'the values schema rejects a typo');
    assert.match(r.stderr, /intervall/);
  });

  it('the Grafana dashboard parses, covers what the issue asks for, and queries only series the code registers', async () => {
    const [cm] = dashboards(await template('--set', 'grafana.dashboard.enabled=true'));
    assert.equal(cm!.metadata.labels?.grafana_dashboard, '1', 'the label kube-prometheus-stack\'s sidecar loads');
    const text = cm!.data!['kubedask.json']!;
    assert.equal(text.trim(), readFileSync(join(chart, 'dashboards', 'kubedask.json'), 'utf8').trim(), 'the ConfigMap carries the file as it is');
    const dashboard = JSON.parse(text) as Dashboard;
    assert.equal(dashboard.uid, 'kubedask-overview');
    const panels = allPanels(dashboard.panels).filter((p) => p.type !== 'row');
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr ?? '' })));
    for (const v of dashboard.templating.list) {
      const q = typeof v.query === 'string' ? v.query : v.query?.query;
      const m = q ? /^label_values\((.*),\s*[a-zA-Z_]+\)$/.exec(q) : null;
      if (m) exprs.push({ panel: `variable ${v.name}`, expr: m[1]! });
    }
    assert.ok(panels.every((p) => (p.targets ?? []).length > 0), 'every panel queries something');

    const series = await codeSeries();
    assert.ok(series.has('kubedask_worker_tasks_total') && series.has('kubedask_tasks') && series.has('kubedask_operator_reconciles_total'), 'the registries were read');
    const used = new Set<string>();
    for (const { panel, expr } of exprs) {
      const q = queried(expr);
      const labelsHere = new Set<string>(TARGET_LABELS);
      for (const s of q.series) {
        const known = series.get(s.name);
        assert.ok(known, `${panel}: ${s.name} is not a series the code registers (in ${expr})`);
        used.add(s.name);
        for (const l of known) labelsHere.add(l);
        for (const l of s.labels) assert.ok(known.has(l) || TARGET_LABELS.has(l), `${panel}: ${s.name} has no label ${l}`);
      }
      for (const l of q.by) assert.ok(labelsHere.has(l), `${panel}: aggregates by ${l}, which none of its series has (${expr})`);
    }
    // What issue 17 asks the dashboard to show.
    for (const needed of ['kubedask_tasks', 'kubedask_worker_task_duration_seconds_bucket', 'kubedask_worker_transfer_bytes_total',
      'kubedask_worker_memory_bytes', 'kubedask_worker_spilled_bytes', 'kubedask_scheduler_adaptive_target_workers', 'kubedask_scheduler_group_workers',
      'kubedask_autoscaler_decisions_total', 'kubedask_operator_reconciles_total']) {
      assert.ok(used.has(needed), `the dashboard shows ${needed}`);
    }
  });

  it('the query check catches a series that does not exist', () => {
    const q = queried('sum by (group) (rate(kubedask_no_such_total{namespace=~"$namespace"}[$__rate_interval])) / kubedask_other');
    assert.deepEqual(q.series.map((s) => s.name), ['kubedask_no_such_total', 'kubedask_other']);
    assert.deepEqual(q.series[0]!.labels, ['namespace']);
    assert.deepEqual(q.by, ['group']);
  });
});
