// The helm chart (helm/kubedask) through the real helm binary: lint, what it renders in both
// RBAC modes, the values schema, the CRD copies, the emulator's validation of every built-in
// object, and `helm install` into the emulator bringing the operator pod to Ready. Also the
// Dockerfiles, which cannot be built here, against the files they name.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { kubeTools, runTool, type KubeTools, type RunResult } from '../helpers/kube-tools.js';
import { LOG_LEVELS } from '../../protocol/log.js';
import { parse } from '../helpers/cli-program.js';
import { checkBuiltin, isKnownBuiltin } from '../../sim/schema/builtin.js';
import { admitCustomResource, type JSONSchemaProps } from '../../sim/schema/index.js';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { startKubelet, type RunningKubelet } from '../../sim/kubelet/kubelet.js';
import { waitUntil } from '../helpers/wait.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const chart = join(root, 'helm', 'kubedask');

type Obj = Record<string, unknown>;
interface Manifest { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown }
interface Rule { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[] }
interface Container {
  name: string; image: string; command?: string[]; args?: string[];
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  readinessProbe?: { httpGet?: { path: string; port: number } }; livenessProbe?: { httpGet?: { path: string; port: number } };
  securityContext?: Obj; volumeMounts?: { name: string; mountPath: string }[]; resources?: Obj;
  ports?: { name: string; containerPort: number }[];
}
interface PodSpec { serviceAccountName?: string; securityContext?: Obj; containers: Container[]; volumes?: { name: string; emptyDir?: Obj }[] }

type Run = RunResult;
const run = (bin: string, args: string[], env: Record<string, string> = {}): Promise<Run> => runTool(bin, args, { env, timeoutMs: 120_000 });

function docs(yamlText: string): Manifest[] {
  return parseAllDocuments(yamlText).map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m !== null);
}

const byKind = (ms: Manifest[], kind: string) => ms.filter((m) => m.kind === kind);
function one(ms: Manifest[], kind: string): Manifest {
  const found = byKind(ms, kind);
  assert.equal(found.length, 1, `exactly one ${kind}, got ${found.map((m) => m.metadata.name).join(', ') || 'none'}`);
  return found[0]!;
}
const rulesOf = (m: Manifest) => (m.rules ?? []) as Rule[];

/** True when one of the rules grants verb on group/resource (optionally on one named object). */
function allows(rules: Rule[], group: string, resource: string, verb: string, name?: string): boolean {
  return rules.some((r) => (r.apiGroups ?? []).some((g) => g === group || g === '*')
    && (r.resources ?? []).some((x) => x === resource || x === '*')
    && r.verbs.some((v) => v === verb || v === '*')
    && (!r.resourceNames?.length || (name !== undefined && r.resourceNames.includes(name))));
}

function operatorContainer(ms: Manifest[]): { pod: PodSpec; c: Container } {
  const deploy = one(ms, 'Deployment') as Manifest & { spec: { template: { spec: PodSpec } } };
  const pod = deploy.spec.template.spec;
  const c = pod.containers.find((x) => x.name === 'operator');
  assert.ok(c, 'the Deployment has an operator container');
  return { pod, c };
}

describe('helm chart helm/kubedask', () => {
  let tools: KubeTools;
  const appVersion = (parseYaml(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as { appVersion: string }).appVersion;
  const helm = (...args: string[]) => run(tools.helm, args);
  const template = async (...args: string[]): Promise<Manifest[]> => {
    const r = await helm('template', 'kd', chart, '--namespace', 'kubedask-system', ...args);
    assert.equal(r.status, 0, `helm template ${args.join(' ')} failed: ${r.stderr}`);
    return docs(r.stdout);
  };
  const namespacedArgs = ['--set', 'rbac.scope=namespaced', '--set', 'watchNamespaces={team-a,team-b}'];

  before(() => {
    tools = kubeTools();
  });

  it('Chart.yaml: kubedask 0.1.0, appVersion 0.1.0', () => {
    const meta = parseYaml(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as Obj;
    assert.equal(meta.apiVersion, 'v2');
    assert.equal(meta.name, 'kubedask');
    assert.equal(meta.version, '0.1.0');
    assert.equal(meta.appVersion, '0.1.0');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal(meta.appVersion, pkg.version, 'appVersion follows package.json, so the default image is this release');
  });

  it('helm lint passes, also with --strict, in both RBAC modes', async () => {
    for (const extra of [[], namespacedArgs]) {
      const r = await helm('lint', '--strict', chart, ...extra);
      assert.equal(r.status, 0, `helm lint --strict ${extra.join(' ')}:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
    }
  });

  it('cluster mode: ClusterRole and binding, the operator watches every namespace', async () => {
    const ms = await template();
    assert.deepEqual([...new Set(ms.map((m) => m.kind))].sort(),
      ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    const cr = one(ms, 'ClusterRole');
    const rules = rulesOf(cr);
    for (const r of rules) {
      assert.ok(!r.verbs.includes('*') && !(r.resources ?? []).includes('*') && !(r.apiGroups ?? []).includes('*'), `no wildcards: ${JSON.stringify(r)}`);
    }
    for (const res of ['daskclusters', 'daskworkergroups', 'daskjobs']) {
      for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) assert.ok(allows(rules, 'kubedask.io', res, verb), `${verb} ${res}`);
      assert.ok(allows(rules, 'kubedask.io', `${res}/status`, 'update'), `${res}/status`);
      assert.ok(allows(rules, 'kubedask.io', `${res}/finalizers`, 'update'), `${res}/finalizers`);
    }
    assert.ok(allows(rules, 'kubedask.io', 'daskworkergroups/scale', 'update'));
    for (const verb of ['get', 'list', 'watch']) assert.ok(allows(rules, 'kubedask.io', 'daskautoscalingpolicies', verb));
    for (const verb of ['create', 'update', 'patch', 'delete']) assert.ok(!allows(rules, 'kubedask.io', 'daskautoscalingpolicies', verb), `no ${verb} on policies`);
    for (const verb of ['get', 'list', 'watch', 'create', 'delete', 'patch']) assert.ok(allows(rules, '', 'pods', verb), `${verb} pods`);
    assert.ok(!allows(rules, '', 'pods', 'update'), 'pods are patched, not updated');
    for (const verb of ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']) {
      assert.ok(allows(rules, '', 'services', verb), `${verb} services`);
      assert.ok(allows(rules, 'apps', 'deployments', verb), `${verb} deployments`);
    }
    assert.ok(allows(rules, '', 'events', 'create') && allows(rules, '', 'events', 'patch'));
    assert.ok(allows(rules, '', 'secrets', 'get') && allows(rules, '', 'secrets', 'watch'));
    for (const verb of ['create', 'update', 'patch', 'delete']) assert.ok(!allows(rules, '', 'secrets', verb), `secrets are read only (${verb})`);
    for (const verb of ['get', 'list', 'watch']) assert.ok(allows(rules, '', 'namespaces', verb));
    assert.ok(!allows(rules, '', 'namespaces', 'create'));
    assert.ok(!allows(rules, '', 'configmaps', 'get') && !allows(rules, '', 'nodes', 'list'), 'nothing beyond what the operator needs');

    const crb = one(ms, 'ClusterRoleBinding') as Manifest & { roleRef: { kind: string; name: string }; subjects: Obj[] };
    assert.deepEqual(crb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: cr.metadata.name });
    const sa = one(ms, 'ServiceAccount');
    assert.deepEqual(crb.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'kubedask-system' }]);

    const { pod, c } = operatorContainer(ms);
    assert.equal(pod.serviceAccountName, sa.metadata.name);
    assert.equal(c.image, `ghcr.io/kubedask/kubedask:${appVersion}`);
    assert.deepEqual(c.command, ['kubedask']);
    assert.equal(c.args?.[0], 'operator');
    assert.ok(!c.args?.some((a) => a.startsWith('--namespace')), `no --namespace in cluster mode: ${c.args?.join(' ')}`);
    for (const flag of ['--leader-elect', '--leader-election-id=kubedask-operator', '--leader-election-namespace=kubedask-system',
      '--health-port=8081', '--metrics-port=8080', '--qps=20', '--burst=40', '--log-level=info']) {
      assert.ok(c.args?.includes(flag), `${flag} in ${c.args?.join(' ')}`);
    }
    // The operator's own command line reads what the chart rendered.
    assert.deepEqual(await parse(c.args!), {
      namespace: [], leaderElect: true, leaderElectionId: 'kubedask-operator', leaderElectionNamespace: 'kubedask-system', host: '0.0.0.0',
      healthPort: 8081, metricsPort: 8080, qps: 20, burst: 40, resync: 300, workers: 4, logLevel: 'info',
    });
    assert.deepEqual(c.env?.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
      [['POD_NAMESPACE', 'metadata.namespace'], ['POD_NAME', 'metadata.name']]);
    assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: 8081 });
    assert.deepEqual(c.livenessProbe?.httpGet, { path: '/healthz', port: 8081 });
    assert.ok(c.resources && Object.keys(c.resources).length > 0, 'resources are set');
    assert.deepEqual(c.ports?.map((p) => [p.name, p.containerPort]), [['metrics', 8080], ['health', 8081]]);
    // Secure defaults.
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(pod.securityContext?.runAsUser, 10001);
    assert.deepEqual(pod.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.deepEqual((c.securityContext?.capabilities as { drop?: string[] } | undefined)?.drop, ['ALL']);
    assert.deepEqual(c.volumeMounts, [{ name: 'tmp', mountPath: '/tmp' }]);
    assert.ok(pod.volumes?.some((v) => v.name === 'tmp' && v.emptyDir), 'an emptyDir for /tmp');

    // Leader election: the Lease, in the release namespace, and nothing else there.
    const lease = one(ms, 'Role');
    assert.equal(lease.metadata.namespace, 'kubedask-system');
    const leaseRules = rulesOf(lease);
    assert.ok(allows(leaseRules, 'coordination.k8s.io', 'leases', 'create'));
    assert.ok(allows(leaseRules, 'coordination.k8s.io', 'leases', 'get', 'kubedask-operator'));
    assert.ok(allows(leaseRules, 'coordination.k8s.io', 'leases', 'update', 'kubedask-operator'));
    assert.ok(!allows(leaseRules, 'coordination.k8s.io', 'leases', 'update', 'someone-elses-lease'));
    assert.ok(!allows(leaseRules, 'coordination.k8s.io', 'leases', 'delete', 'kubedask-operator'));
    assert.ok(!allows(leaseRules, '', 'pods', 'get'));

    const svc = one(ms, 'Service') as Manifest & { spec: { selector: Record<string, string>; ports: Obj[] } };
    assert.deepEqual(svc.spec.ports, [{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);
    const podLabels = (one(ms, 'Deployment') as Manifest & { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
    for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(podLabels[k], v, `the metrics Service selects the operator pod (${k})`);
    // Standard labels on everything.
    for (const m of ms) {
      for (const label of ['helm.sh/chart', 'app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by']) {
        assert.ok(m.metadata.labels?.[label], `${m.kind}/${m.metadata.name} has ${label}`);
      }
    }
  });

  it('namespaced mode with two namespaces: a Role per namespace, policies the only cluster-wide grant', async () => {
    const ms = await template(...namespacedArgs);
    const roles = byKind(ms, 'Role');
    const sa = one(ms, 'ServiceAccount');
    for (const ns of ['team-a', 'team-b']) {
      const role = roles.find((r) => r.metadata.namespace === ns);
      assert.ok(role, `a Role in ${ns}`);
      const rules = rulesOf(role);
      for (const verb of ['get', 'list', 'watch', 'create', 'delete', 'patch']) assert.ok(allows(rules, '', 'pods', verb), `${verb} pods in ${ns}`);
      assert.ok(allows(rules, 'kubedask.io', 'daskclusters', 'watch'));
      assert.ok(allows(rules, 'kubedask.io', 'daskworkergroups/scale', 'update'));
      assert.ok(allows(rules, 'apps', 'deployments', 'create'));
      assert.ok(allows(rules, '', 'secrets', 'get') && !allows(rules, '', 'secrets', 'create'));
      assert.ok(allows(rules, '', 'namespaces', 'get', ns), `reads its own Namespace ${ns}`);
      assert.ok(!allows(rules, '', 'namespaces', 'get', 'kube-system'));
      const binding = byKind(ms, 'RoleBinding').find((b) => b.metadata.namespace === ns) as (Manifest & { roleRef: Obj; subjects: Obj[] }) | undefined;
      assert.ok(binding, `a RoleBinding in ${ns}`);
      assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
      assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'kubedask-system' }]);
    }
    assert.deepEqual(roles.map((r) => r.metadata.namespace).sort(), ['kubedask-system', 'team-a', 'team-b'], 'the watched namespaces and the Lease');

    const clusterRoles = byKind(ms, 'ClusterRole');
    assert.equal(clusterRoles.length, 1);
    for (const rule of rulesOf(clusterRoles[0]!)) {
      assert.deepEqual(rule.apiGroups, ['kubedask.io']);
      assert.deepEqual(rule.resources, ['daskautoscalingpolicies']);
      assert.deepEqual([...rule.verbs].sort(), ['get', 'list', 'watch']);
    }
    for (const cr of clusterRoles) {
      for (const res of ['pods', 'services', 'secrets', 'namespaces', 'events']) {
        assert.ok(!allows(rulesOf(cr), '', res, 'get'), `no ClusterRole grants ${res}`);
      }
    }
    const crb = one(ms, 'ClusterRoleBinding') as Manifest & { roleRef: { name: string } };
    assert.equal(crb.roleRef.name, clusterRoles[0]!.metadata.name);

    const { c } = operatorContainer(ms);
    assert.deepEqual(c.args?.filter((a) => a.startsWith('--namespace')), ['--namespace=team-a', '--namespace=team-b']);
    assert.ok(c.args?.includes('--leader-election-namespace=kubedask-system'));
    const o = await parse(c.args!);
    assert.deepEqual([o.namespace, o.leaderElectionNamespace], [['team-a', 'team-b'], 'kubedask-system']);
  });

  it('renders the optional ServiceMonitor and default DaskAutoscalingPolicy only when enabled', async () => {
    const off = await template();
    assert.equal(byKind(off, 'ServiceMonitor').length, 0);
    assert.equal(byKind(off, 'DaskAutoscalingPolicy').length, 0);
    const on = await template('--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.serviceMonitor.labels.release=prom',
      '--set', 'defaultPolicy.enabled=true', '--set', 'defaultPolicy.spec.limits.maxWorkersPerCluster=7');
    // The operator's own; the schedulers' one beside it is tested in helm-monitoring.test.ts.
    assert.deepEqual(byKind(on, 'ServiceMonitor').map((m) => m.metadata.name), ['kd-kubedask', 'kd-kubedask-schedulers']);
    const sm = byKind(on, 'ServiceMonitor')[0] as Manifest & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Obj[] } };
    assert.equal(sm.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(sm.metadata.labels?.release, 'prom');
    assert.equal(sm.spec.endpoints[0]?.port, 'metrics');
    const svc = one(on, 'Service');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata.labels?.[k], v, 'the ServiceMonitor selects the metrics Service');
    const policy = one(on, 'DaskAutoscalingPolicy') as Manifest & { spec: { limits: Obj } };
    assert.equal(policy.apiVersion, 'kubedask.io/v1alpha1');
    assert.equal(policy.metadata.namespace, undefined, 'cluster-scoped');
    assert.equal(policy.spec.limits.maxWorkersPerCluster, 7);

    // When the CRD exists, the policy the chart renders is valid against it.
    const crdFile = existsSync(join(root, 'crds')) ? readdirSync(join(root, 'crds')).find((f) => /autoscalingpolic/i.test(f)) : undefined;
    if (crdFile) {
      const crd = parseYaml(readFileSync(join(root, 'crds', crdFile), 'utf8')) as { spec: { versions: { name: string; schema: { openAPIV3Schema: JSONSchemaProps } }[] } };
      const version = crd.spec.versions.find((v) => v.name === 'v1alpha1');
      assert.ok(version, `${crdFile} serves v1alpha1`);
      const admitted = admitCustomResource(version.schema.openAPIV3Schema, policy as unknown as Obj);
      assert.deepEqual(admitted.causes, [], 'the default policy is valid against the CRD schema');
    }
  });

  it('operator.logLevel takes exactly the levels the operator\'s --log-level takes', () => {
    const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8')) as { properties: { operator: { properties: { logLevel: { enum: string[] } } } } };
    assert.deepEqual(schema.properties.operator.properties.logLevel.enum, [...LOG_LEVELS]);
  });

  it('values.schema.json makes typos and wrong types fail', async () => {
    const cases: [string[], RegExp][] = [
      [['--set', 'replicaCount=x'], /replicaCount/],
      [['--set', 'replicaCont=2'], /replicaCont/],
      [['--set', 'operator.loglevel=debug'], /loglevel/],
      [['--set', 'rbac.scope=everything'], /scope/],
      [['--set', 'image.pullPolicy=Sometimes'], /pullPolicy/],
      [['--set', 'metrics.port=99999'], /port/],
      [['--set', 'defaultPolicy.spec.limits.maxWorkers=3'], /maxWorkers/],
    ];
    for (const [args, message] of cases) {
      const r = await helm('template', 'kd', chart, ...args);
      assert.notEqual(r.status, 0, `helm template ${args.join(' ')} should fail`);
      assert.match(r.stderr, /schema/, `${args.join(' ')}: the schema rejects it: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    // A values file with an unknown top-level key fails helm install too (same validation).
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-helm-'));
    writeFileSync(join(dir, 'values.yaml'), 'replicas: 2\n');
    const install = await helm('install', 'kd', chart, '--dry-run=client', '-f', join(dir, 'values.yaml'));
    assert.notEqual(install.status, 0);
    assert.match(install.stderr, /additional properties 'replicas' not allowed/);
    // Combinations the schema cannot express fail with a clear message.
    const noNs = await helm('template', 'kd', chart, '--set', 'rbac.scope=namespaced');
    assert.notEqual(noNs.status, 0);
    assert.match(noNs.stderr, /needs at least one namespace in watchNamespaces/);
    const noLease = await helm('template', 'kd', chart, '--set', 'replicaCount=2', '--set', 'leaderElection.enabled=false');
    assert.notEqual(noLease.status, 0);
    assert.match(noLease.stderr, /leaderElection/);
  });

  it('helm/kubedask/crds/*.yaml equal crds/*.yaml byte for byte', (t) => {
    const source = join(root, 'crds');
    if (!existsSync(source)) {
      t.skip('crds/ does not exist yet (scripts/gen-crds.mjs generates it and the chart copy)');
      return;
    }
    const yamls = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort() : []);
    const want = yamls(source);
    assert.ok(want.length > 0, 'crds/ holds CRD manifests');
    assert.deepEqual(yamls(join(chart, 'crds')), want, 'the chart carries the same CRD files');
    for (const f of want) {
      assert.ok(readFileSync(join(chart, 'crds', f)).equals(readFileSync(join(source, f))), `helm/kubedask/crds/${f} differs from crds/${f}; run scripts/gen-crds.mjs`);
    }
  });

  it('every rendered built-in object passes the emulator\'s built-in validation', async () => {
    const renders = [
      await template(),
      await template(...namespacedArgs, '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.podMonitor.enabled=true',
        '--set', 'grafana.dashboard.enabled=true', '--set', 'defaultPolicy.enabled=true',
        '--set', 'replicaCount=2', '--set', 'operator.workers=4', '--set', 'operator.resyncSeconds=600'),
      await template('--set', 'rbac.create=false', '--set', 'serviceAccount.create=false', '--set', 'serviceAccount.name=existing',
        '--set', 'leaderElection.enabled=false', '--set', 'metrics.service.enabled=false'),
    ];
    let checked = 0;
    for (const ms of renders) {
      for (const m of ms) {
        if (!isKnownBuiltin(m.apiVersion, m.kind)) {
          assert.ok(['ServiceMonitor', 'PodMonitor', 'DaskAutoscalingPolicy'].includes(m.kind), `${m.apiVersion} ${m.kind} is neither built in nor expected`);
          continue;
        }
        assert.deepEqual(checkBuiltin(m.apiVersion, m.kind, m as unknown as Obj), [], `${m.kind}/${m.metadata.name} is valid`);
        checked++;
      }
    }
    assert.ok(checked >= 19, `checked ${checked} objects`);
    const bare = renders[2]!;
    assert.deepEqual(bare.map((m) => m.kind), ['Deployment'], 'rbac, service account, lease and metrics Service all switch off');
    assert.equal(operatorContainer(bare).pod.serviceAccountName, 'existing');
  });

  describe('helm install into the emulator', () => {
    let api: RunningApiServer;
    let kubelet: RunningKubelet;
    let kubeconfig: string;
    let core: k8s.CoreV1Api;
    let coordination: k8s.CoordinationV1Api;
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-helm-install-'));
    const logDir = join(dir, 'logs');
    const ns = 'kubedask-system';

    before(async () => {
      api = await startApiServer();
      kubeconfig = join(dir, 'kubeconfig');
      await api.writeKubeconfig(kubeconfig);
      kubelet = await startKubelet({ server: api.url, kubeconfig, logDir, nodes: [{ name: 'node-1', cpu: '4', memory: '8Gi' }] });
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      core = kc.makeApiClient(k8s.CoreV1Api);
      coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    });
    after(async () => {
      await kubelet?.close();
      await api?.close();
    });

    // The chart's defaults as they are (kube-sim's pod network shim gives each pod its own
    // 0.0.0.0), with debug logs for the failure messages.
    const podIpValues = join(dir, 'debug.yaml');
    writeFileSync(podIpValues, ['operator:', '  logLevel: debug', ''].join('\n'));
    const helmK = (...args: string[]) => run(tools.helm, args, { KUBECONFIG: kubeconfig });
    const kubectl = (...args: string[]) => run(tools.kubectl, args, { KUBECONFIG: kubeconfig });
    const operatorPods = async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/instance=kd,app.kubernetes.io/component=operator' })).items;
    const isReady = (p: k8s.V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    /** What the operator pod did, for a failure message. */
    const diagnose = async (): Promise<string> => {
      const pods = await operatorPods().catch(() => []);
      const logs = await Promise.all(pods.map(async (p) => `--- ${p.metadata?.name}\n${(await kubectl('logs', '-n', ns, p.metadata?.name ?? '', '--tail', '30')).stdout}`));
      return `pods: ${JSON.stringify(pods.map((p) => ({ name: p.metadata?.name, phase: p.status?.phase, containers: p.status?.containerStatuses })), null, 1)}\n${logs.join('\n')}`;
    };

    it('installs the CRDs and the operator, whose pod becomes Ready and takes the Lease', async () => {
      const withCrds = existsSync(join(chart, 'crds'));
      const args = ['install', 'kd', chart, '--namespace', ns, '--create-namespace', '-f', podIpValues];
      // The default policy is a custom resource: it needs the chart's CRDs.
      if (withCrds) args.push('--set', 'defaultPolicy.enabled=true');
      const install = await helmK(...args);
      assert.equal(install.status, 0, `helm install: ${install.stderr}`);
      assert.match(install.stdout, /kubectl apply -n default -f examples\/cluster\.yaml/, 'NOTES.txt says how to create a cluster');
      if (withCrds) {
        for (const crd of ['daskclusters', 'daskworkergroups', 'daskjobs', 'daskautoscalingpolicies']) {
          const r = await kubectl('get', 'crd', `${crd}.kubedask.io`);
          assert.equal(r.status, 0, `CRD ${crd}.kubedask.io installed from the chart: ${r.stderr}`);
        }
        const policy = await kubectl('get', 'daskautoscalingpolicy', 'default', '-o', 'jsonpath={.spec.limits.maxWorkersPerCluster}');
        assert.equal(policy.status, 0, policy.stderr);
        assert.equal(policy.stdout, '50');
      }
      for (const [kind, name] of [['serviceaccount', 'kd-kubedask'], ['service', 'kd-kubedask-metrics'], ['role', 'kd-kubedask-leader-election'], ['rolebinding', 'kd-kubedask-leader-election']]) {
        const r = await kubectl('get', kind!, name!, '-n', ns);
        assert.equal(r.status, 0, `${kind}/${name}: ${r.stderr}`);
      }
      assert.equal((await kubectl('get', 'clusterrole', `kd-kubedask-${ns}`)).status, 0);

      try {
        await waitUntil(async () => (await operatorPods()).some(isReady), 'the operator pod to be Ready', 120_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${await diagnose()}`);
      }
      const [pod] = (await operatorPods()).filter(isReady);
      const podName = pod!.metadata!.name!;
      // POD_NAME reached the operator: the Lease it holds names this pod.
      try {
        await waitUntil(async () => {
          const lease = await coordination.readNamespacedLease({ name: 'kubedask-operator', namespace: ns }).catch(() => undefined);
          return lease?.spec?.holderIdentity?.startsWith(podName) ?? false;
        }, 'the operator to hold the kubedask-operator Lease', 60_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${await diagnose()}`);
      }
      const metrics = await fetch(`http://${pod!.status!.podIP}:8080/metrics`);
      assert.equal(metrics.status, 200, 'the metrics port serves /metrics');
      await metrics.arrayBuffer();
      const healthz = await fetch(`http://${pod!.status!.podIP}:8081/healthz`);
      assert.equal(healthz.status, 200);
      await healthz.arrayBuffer();

      // The installed operator does its job: the example cluster comes up Ready.
      const apply = await kubectl('apply', '-f', join(root, 'examples', 'cluster.yaml'));
      assert.equal(apply.status, 0, apply.stderr);
      try {
        await waitUntil(async () => (await kubectl('get', 'dc', 'demo', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')).stdout === 'True',
          'the example DaskCluster to be Ready under the helm-installed operator', 120_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${(await kubectl('get', 'dc', 'demo', '-o', 'yaml')).stdout}\n${await diagnose()}`);
      }
      assert.equal((await kubectl('delete', 'dc', 'demo', '--wait=true', '--timeout=60s')).status, 0);
    });

    it('helm upgrade to namespaced mode: Roles in the watched namespaces, a new operator pod Ready', async () => {
      for (const n of ['team-a', 'team-b']) {
        const r = await kubectl('create', 'namespace', n);
        assert.equal(r.status, 0, r.stderr);
      }
      const upgrade = await helmK('upgrade', 'kd', chart, '--namespace', ns, '-f', podIpValues, '--set', 'rbac.scope=namespaced', '--set', 'watchNamespaces={team-a,team-b}');
      assert.equal(upgrade.status, 0, `helm upgrade: ${upgrade.stderr}`);
      for (const n of ['team-a', 'team-b']) {
        assert.equal((await kubectl('get', 'role', 'kd-kubedask', '-n', n)).status, 0, `a Role in ${n}`);
        assert.equal((await kubectl('get', 'rolebinding', 'kd-kubedask', '-n', n)).status, 0, `a RoleBinding in ${n}`);
      }
      assert.notEqual((await kubectl('get', 'clusterrole', `kd-kubedask-${ns}`)).status, 0, 'the cluster-wide ClusterRole is gone');
      assert.equal((await kubectl('get', 'clusterrole', `kd-kubedask-${ns}-policies`)).status, 0, 'only the policy reader stays cluster-wide');
      const namespacedPodReady = async () => {
        const pods = await operatorPods();
        return pods.length === 1 && isReady(pods[0]!) && (pods[0]!.spec?.containers[0]?.args ?? []).includes('--namespace=team-a');
      };
      try {
        await waitUntil(namespacedPodReady, 'only the upgraded operator pod, Ready, watching team-a and team-b', 120_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${await diagnose()}`);
      }
    });

    it('helm uninstall removes the operator', async () => {
      const r = await helmK('uninstall', 'kd', '--namespace', ns);
      assert.equal(r.status, 0, r.stderr);
      await waitUntil(async () => (await operatorPods()).length === 0, 'the operator pods to go', 60_000);
      assert.notEqual((await kubectl('get', 'clusterrole', `kd-kubedask-${ns}`)).status, 0, 'the ClusterRole goes with the release');
    });
  });
});

describe('Dockerfiles', () => {
  const read = (f: string) => readFileSync(join(root, f), 'utf8');
  const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  /** Instructions of a Dockerfile, with continuation lines joined. */
  const instructions = (text: string) => text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages = (text: string) => {
    const out: string[][] = [];
    for (const line of instructions(text)) {
      if (/^FROM\s/i.test(line)) out.push([]);
      out.at(-1)?.push(line);
    }
    return out;
  };

  for (const file of ['Dockerfile', 'Dockerfile.gpu']) {
    it(`${file}: copies files that exist and are not ignored, builds the product alone (npm ci / npm run build:image), carries no tests, runs as non-root`, () => {
      const text = read(file);
      const all = stages(text);
      assert.ok(all.length >= 2, 'multi-stage');
      const build = all.find((s) => /^FROM\s+\S+\s+AS\s+build$/i.test(s[0]!));
      assert.ok(build, 'a build stage');
      assert.match(build.join('\n'), /FROM (node:20-bookworm-slim|\$\{NODE_IMAGE\}) AS build/i);
      if (build[0]!.includes('NODE_IMAGE')) assert.match(text, /ARG NODE_IMAGE=node:20-bookworm-slim/);
      const buildRuns = build.filter((l) => l.startsWith('RUN ')).join('\n');
      assert.match(buildRuns, /npm ci/);
      assert.match(buildRuns, /npm run build:image/);
      assert.match(buildRuns, /npm prune --omit=dev/);
      // Every context path it copies exists and survives .dockerignore.
      const copied: string[] = [];
      for (const line of build.filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l))) {
        const parts = line.split(/\s+/).slice(1).filter((p) => !p.startsWith('--'));
        for (const src of parts.slice(0, -1)) {
          const path = src.replace(/\/$/, '');
          copied.push(path);
          assert.ok(existsSync(join(root, path)), `${file} copies ${src}, which exists`);
          assert.ok(!ignored.includes(path) && !ignored.includes(`${path}/`), `${src} is not in .dockerignore`);
        }
      }
      // Everything the image build compiles (tsconfig.build.json include) and the build script
      // reads is copied; tests are neither compiled nor copied.
      const tsconfig = JSON.parse(read('tsconfig.build.json')) as { include: string[] };
      assert.ok(!copied.includes('test'), `${file} copies no tests`);
      assert.ok(!tsconfig.include.some((p) => p.startsWith('test')), 'the image build compiles no tests');
      for (const pattern of tsconfig.include) {
        const top = pattern.split('/')[0]!;
        assert.ok(copied.includes(top), `${file} copies ${top} (tsconfig includes ${pattern})`);
      }
      // Every top-level folder of product code is compiled into the image (a folder the build
      // leaves out fails the image build, or the import, only where it is built).
      const included = new Set(tsconfig.include.map((p) => p.split('/')[0]!));
      for (const dir of readdirSync(root, { withFileTypes: true })) {
        if (!dir.isDirectory() || ['test', 'scripts', 'node_modules', 'dist'].includes(dir.name) || dir.name.startsWith('.')) continue;
        if (!readdirSync(join(root, dir.name), { recursive: true }).some((f) => String(f).endsWith('.ts'))) continue;
        assert.ok(included.has(dir.name), `tsconfig.build.json includes ${dir.name}/, which holds product code`);
      }
      for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts']) assert.ok(copied.includes(f), `${file} copies ${f}`);
      const pkg = JSON.parse(read('package.json')) as { bin: Record<string, string>; scripts: Record<string, string> };
      assert.match(pkg.scripts['build:image'] ?? '', /tsc -p tsconfig\.build\.json/, 'package.json builds the image from tsconfig.build.json');

      const runtime = all.at(-1)!;
      const runtimeText = runtime.join('\n');
      const users = runtime.filter((l) => /^USER\s/i.test(l));
      assert.ok(users.length > 0, 'the runtime stage sets USER');
      const user = users.at(-1)!.split(/\s+/)[1]!;
      assert.match(user, /^10001(:\d+)?$/, 'a numeric non-root user (runAsNonRoot can check it)');
      assert.match(runtimeText, /WORKDIR \/app/);
      assert.match(runtimeText, /ENTRYPOINT \["kubedask"\]/);
      // `kubedask` on PATH is the package's bin, which exists.
      assert.equal(pkg.bin.kubedask, 'bin/kubedask.js');
      assert.ok(existsSync(join(root, pkg.bin.kubedask)));
      assert.match(runtimeText, /ln -s \/app\/bin\/kubedask\.js \/usr\/local\/bin\/kubedask/);
      for (const need of ['bin', 'dist', 'node_modules', 'package.json']) {
        assert.ok(runtime.some((l) => /^COPY\s+--from=build\s/.test(l) && l.includes(`/app/${need}`)), `the runtime stage copies /app/${need}`);
      }
      if (file === 'Dockerfile') {
        assert.match(text, /ONNXRUNTIME_NODE_INSTALL=skip/);
      } else {
        assert.match(buildRuns + build.join('\n'), /ONNXRUNTIME_NODE_INSTALL_CUDA=v12/);
        assert.doesNotMatch(build.join('\n'), /ONNXRUNTIME_NODE_INSTALL=/, 'ONNXRUNTIME_NODE_INSTALL would override the CUDA choice');
        assert.match(text, /nvidia\/cuda:12[\w.-]*cudnn[\w.-]*runtime/);
      }
    });
  }

  it('the chart\'s default image is the one these Dockerfiles build', () => {
    const values = parseYaml(readFileSync(join(chart, 'values.yaml'), 'utf8')) as { image: { repository: string } };
    assert.equal(values.image.repository, 'ghcr.io/kubedask/kubedask');
    assert.match(read('Dockerfile'), /ghcr\.io\/kubedask\/kubedask/);
  });
});
