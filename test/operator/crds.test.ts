// The kubedask.io CRDs: accepted by the API server's CRD checks, defaults, cross-field rules and
// the real PodTemplateSpec schema (through kube-sim's admission), and end to end through the
// real kubectl against the emulator: apply of the generated YAML and the examples, printer
// columns, strict unknown-field rejection and the scale subresource.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { crds } from '../../operator/api/crds.js';
import { DEFAULT_IMAGE, PLURAL, type Condition, type DaskAutoscalingPolicySpec, type DaskClusterSpec, type DaskClusterStatus, type DaskJobSpec, type DaskJobStatus, type DaskWorkerGroupSpec, type DaskWorkerGroupStatus, type Kind, type WorkerGroupTemplate } from '../../operator/api/types.js';
import { admitCustomResource, validateCrd, type FieldCause } from '../../sim/schema/index.js';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { kubeTools, runTool, type KubeTools } from '../helpers/kube-tools.js';
import { waitUntil } from '../helpers/wait.js';

type Obj = Record<string, unknown>;
const root = fileURLToPath(new URL('../../../', import.meta.url));
const KINDS: Kind[] = ['DaskCluster', 'DaskWorkerGroup', 'DaskJob', 'DaskAutoscalingPolicy'];

function crdOf(kind: Kind): Obj {
  const crd = crds().find((c) => (c.spec as { names: { kind: string } }).names.kind === kind);
  assert.ok(crd, `a CRD for ${kind}`);
  return crd;
}
const schemaOf = (kind: Kind): Obj => (crdOf(kind).spec as { versions: { schema: { openAPIV3Schema: Obj } }[] }).versions[0]!.schema.openAPIV3Schema;
const admit = (kind: Kind, spec: unknown, name = 'x') =>
  admitCustomResource(schemaOf(kind), { apiVersion: 'kubedask.io/v1alpha1', kind, metadata: { name }, spec });
const runner = { template: { spec: { containers: [{ name: 'runner', image: 'img' }] } } };

describe('kubedask CRDs: schema', () => {
  it('all four are accepted, with short names, the kubedask category and the right scope', () => {
    const shorts: Record<Kind, string> = { DaskCluster: 'dc', DaskWorkerGroup: 'dwg', DaskJob: 'dj', DaskAutoscalingPolicy: 'dap' };
    for (const kind of KINDS) {
      const crd = crdOf(kind);
      assert.deepEqual(validateCrd(crd), [], `${kind} CRD`);
      const spec = crd.spec as { scope: string; names: { plural: string; shortNames: string[]; categories: string[] } };
      assert.equal(spec.names.plural, PLURAL[kind]);
      assert.deepEqual(spec.names.shortNames, [shorts[kind]]);
      assert.deepEqual(spec.names.categories, ['kubedask']);
      assert.equal(spec.scope, kind === 'DaskAutoscalingPolicy' ? 'Cluster' : 'Namespaced');
    }
  });

  it('the committed YAML (crds/ and the Helm chart) is what crds() generates', () => {
    for (const dir of ['crds', join('helm', 'kubedask', 'crds')]) {
      const files = readdirSync(join(root, dir)).filter((f) => f.endsWith('.yaml')).sort();
      assert.deepEqual(files, KINDS.map((k) => `${PLURAL[k]}.yaml`).sort(), dir);
      for (const kind of KINDS) assert.deepEqual(parseYaml(readFileSync(join(root, dir, `${PLURAL[kind]}.yaml`), 'utf8')), crdOf(kind), `${dir}/${PLURAL[kind]}.yaml`);
    }
  });

  it('defaults appear', () => {
    const dc = admit('DaskCluster', {});
    assert.deepEqual(dc.causes, []);
    assert.deepEqual(dc.object.spec, {
      image: DEFAULT_IMAGE,
      workerGroups: [{ name: 'default', replicas: 1, threads: 1, gpus: 0 }],
      autoscaling: { enabled: false, targetDuration: '30s' },
    });
    const dj = admit('DaskJob', { runner });
    assert.deepEqual(dj.causes, []);
    const spec = dj.object.spec as { backoffLimit: number; cluster: { image: string; workerGroups: unknown[] } };
    assert.equal(spec.backoffLimit, 0);
    assert.equal(spec.cluster.image, DEFAULT_IMAGE);
    assert.equal(spec.cluster.workerGroups.length, 1);
    const dwg = admit('DaskWorkerGroup', { cluster: 'c', groupName: 'g' });
    assert.deepEqual(dwg.object.spec, { cluster: 'c', groupName: 'g', threads: 1, gpus: 0 });
    // Scaled to zero below its minimum (idle scale-to-zero, or paused with kubectl scale).
    assert.deepEqual(admit('DaskWorkerGroup', { cluster: 'c', groupName: 'g', replicas: 0, minReplicas: 2 }).causes, []);
  });

  it('pod template overrides take the real PodSpec: quantities, int-or-string ports, partial specs', () => {
    const template = {
      metadata: { labels: { team: 'a' }, annotations: { note: 'b' } },
      spec: {
        nodeSelector: { disk: 'ssd' },
        tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{
          name: 'worker',
          resources: { requests: { cpu: 1, memory: '512Mi' }, limits: { cpu: '1500m' } },
          readinessProbe: { httpGet: { path: '/health', port: 'dashboard' }, periodSeconds: 5 },
          ports: [{ containerPort: 8787, name: 'dashboard' }],
        }],
        volumes: [{ name: 'scratch', emptyDir: { sizeLimit: '1Gi' } }],
      },
    };
    const r = admit('DaskCluster', { scheduler: { template: { spec: { priorityClassName: 'high' } } }, workerGroups: [{ name: 'a', template }] });
    assert.deepEqual(r.causes, []);
    assert.deepEqual((r.object.spec as { workerGroups: { template: unknown }[] }).workerGroups[0]!.template, template, 'nothing pruned');
    // An unknown PodSpec field is pruned (and refused under kubectl's strict validation, below).
    const pruned = admit('DaskCluster', { workerGroups: [{ name: 'a', template: { spec: { nodeSelectr: { a: 'b' } } } }] });
    assert.deepEqual((pruned.object.spec as { workerGroups: { template: unknown }[] }).workerGroups[0]!.template, { spec: {} });
  });

  // Required<...> makes tsc insist on every field of types.ts, so a field the schema lacks (and
  // the server would prune from the operator's status patches) fails here.
  it('every field of the spec and status types survives admission unpruned', () => {
    const condition: Required<Condition> = { type: 'Ready', status: 'True', reason: 'AllReady', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 2 };
    const wg: Required<WorkerGroupTemplate> = {
      name: 'gpu', replicas: 1, minReplicas: 0, maxReplicas: 2, threads: 2, resources: { limits: { 'nvidia.com/gpu': 1 } }, gpus: 1,
      taskResources: { MEMORY_HEAVY: 1 }, template: { spec: { containers: [{ name: 'worker', env: [{ name: 'A', value: 'b' }] }] } },
    };
    const dc: Required<DaskClusterSpec> = {
      image: 'img', imagePullPolicy: 'IfNotPresent', replicas: 1,
      scheduler: { resources: { requests: { cpu: '1' } }, service: { type: 'NodePort', annotations: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } } } },
      workerGroups: [wg], autoscaling: { enabled: true, policy: 'default', targetDuration: '1m30s' }, idleTimeout: '1h', suspend: false, security: { tls: { secretName: 'tls' } },
    };
    const dcStatus: Required<DaskClusterStatus> = {
      phase: 'Running', observedGeneration: 3, conditions: [condition], schedulerAddress: 'a:8786', dashboardURL: 'http://a:8787', workers: '1/1', readyWorkers: 1, desiredWorkers: 1,
      groups: [{ name: 'gpu', desired: 1, ready: 1, pending: 0, outdated: 0 }], replicas: 1, selector: 'a=b', lastAutoscaling: { time: '2026-01-01T00:00:00Z', group: 'gpu', from: 0, to: 1, reason: 'queued work' },
    };
    const { name: _name, ...groupFields } = wg;
    const dwg: Required<DaskWorkerGroupSpec> = { ...groupFields, cluster: 'c', groupName: 'gpu', image: 'img', imagePullPolicy: 'Always' };
    const dwgStatus: Required<DaskWorkerGroupStatus> = { observedGeneration: 1, replicas: 1, readyReplicas: 1, pendingReplicas: 0, outdatedReplicas: 0, selector: 'a=b', conditions: [condition] };
    const dj: Required<DaskJobSpec> = { cluster: dc, runner, backoffLimit: 2, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 60 };
    const djStatus: Required<DaskJobStatus> = {
      phase: 'Succeeded', observedGeneration: 1, conditions: [condition], clusterName: 'j-cluster', runnerPod: 'j-runner-0', failures: 0,
      startTime: '2026-01-01T00:00:00Z', completionTime: '2026-01-01T00:01:00Z', message: 'done',
    };
    const dap: Required<DaskAutoscalingPolicySpec> = {
      namespaces: ['a'], namespaceSelector: { matchLabels: { team: 'a' } },
      limits: { maxWorkersPerCluster: 1, maxGpusPerCluster: 1, maxWorkersPerNamespace: 2, maxGpusPerNamespace: 2 },
      behavior: { scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 15 }], selectPolicy: 'Max' }, scaleDown: { selectPolicy: 'Disabled' } },
      idle: { scaleToZeroAfterSeconds: 60, deleteClusterAfterSeconds: 3600 },
    };
    const all: [Kind, unknown, unknown][] = [['DaskCluster', dc, dcStatus], ['DaskWorkerGroup', dwg, dwgStatus], ['DaskJob', dj, djStatus], ['DaskAutoscalingPolicy', dap, undefined]];
    for (const [kind, spec, status] of all) {
      const object = { apiVersion: 'kubedask.io/v1alpha1', kind, metadata: { name: 'x' }, spec, ...(status ? { status } : {}) };
      const r = admitCustomResource(schemaOf(kind), structuredClone(object));
      assert.deepEqual(r.causes, [], kind);
      assert.deepEqual(r.object, object, `${kind}: nothing pruned or defaulted`);
    }
  });

  const group = (g: Obj) => ({ workerGroups: [{ name: 'a', ...g }] });
  const wgTemplate = (spec: Obj) => group({ template: { spec } });
  const cases: [string, Kind, unknown, string, RegExp][] = [
    ['minReplicas > maxReplicas', 'DaskCluster', group({ minReplicas: 3, maxReplicas: 2 }), 'spec.workerGroups[0].minReplicas', /minReplicas must be less than or equal to maxReplicas/],
    ['replicas > maxReplicas', 'DaskCluster', group({ replicas: 5, maxReplicas: 2 }), 'spec.workerGroups[0].replicas', /replicas must be less than or equal to maxReplicas/],
    ['replicas < minReplicas', 'DaskCluster', group({ replicas: 1, minReplicas: 2 }), 'spec.workerGroups[0].replicas', /replicas must be greater than or equal to minReplicas/],
    ['spec.replicas > first group maxReplicas', 'DaskCluster', { replicas: 3, ...group({ maxReplicas: 2 }) }, 'spec.replicas', /replicas must be less than or equal to workerGroups\[0\]\.maxReplicas/],
    ['spec.replicas < first group minReplicas', 'DaskCluster', { replicas: 1, ...group({ minReplicas: 2 }) }, 'spec.replicas', /replicas must be greater than or equal to workerGroups\[0\]\.minReplicas/],
    ['spec.replicas with no worker group', 'DaskCluster', { replicas: 1, workerGroups: [] }, 'spec.replicas', /replicas sizes the first worker group, and workerGroups is empty/],
    ['duplicate group names', 'DaskCluster', { workerGroups: [{ name: 'a' }, { name: 'a' }] }, 'spec.workerGroups[1]', /Duplicate value/],
    ['threads 0', 'DaskCluster', group({ threads: 0 }), 'spec.workerGroups[0].threads', /threads in body should be greater than or equal to 1/],
    ['negative gpus', 'DaskCluster', group({ gpus: -1 }), 'spec.workerGroups[0].gpus', /gpus in body should be greater than or equal to 0/],
    ['fractional gpus', 'DaskCluster', group({ gpus: 0.5 }), 'spec.workerGroups[0].gpus', /must be of type integer/],
    ['group name not a DNS label', 'DaskCluster', { workerGroups: [{ name: 'GPU_group' }] }, 'spec.workerGroups[0].name', /name in body should match/],
    ['negative task resource', 'DaskCluster', group({ taskResources: { MEMORY: -1 } }), 'spec.workerGroups[0].taskResources.MEMORY', /greater than or equal to 0/],
    ['container image not a string', 'DaskCluster', wgTemplate({ containers: [{ name: 'x', image: 1 }] }), 'spec.workerGroups[0].template.spec.containers[0].image', /must be of type string/],
    ['container without a name', 'DaskCluster', wgTemplate({ containers: [{ image: 'x' }] }), 'spec.workerGroups[0].template.spec.containers[0].name', /Required value/],
    ['nodeSelector not a map', 'DaskCluster', wgTemplate({ nodeSelector: 'gpu' }), 'spec.workerGroups[0].template.spec.nodeSelector', /must be of type object/],
    ['bad quantity', 'DaskCluster', group({ resources: { requests: { cpu: 'lots' } } }), 'spec.workerGroups[0].resources.requests.cpu', /should match/],
    ['bad scheduler template field', 'DaskCluster', { scheduler: { template: { spec: { terminationGracePeriodSeconds: 'soon' } } } }, 'spec.scheduler.template.spec.terminationGracePeriodSeconds', /must be of type integer/],
    ['bad idleTimeout', 'DaskCluster', { idleTimeout: '10 minutes' }, 'spec.idleTimeout', /idleTimeout in body should match/],
    ['bad targetDuration', 'DaskCluster', { autoscaling: { targetDuration: '30' } }, 'spec.autoscaling.targetDuration', /targetDuration in body should match/],
    ['bad imagePullPolicy', 'DaskCluster', { imagePullPolicy: 'Sometimes' }, 'spec.imagePullPolicy', /Unsupported value: "Sometimes"/],
    ['bad service type', 'DaskCluster', { scheduler: { service: { type: 'Ingress' } } }, 'spec.scheduler.service.type', /Unsupported value/],
    ['tls without secretName', 'DaskCluster', { security: { tls: {} } }, 'spec.security.tls.secretName', /Required value/],
    ['job: negative backoffLimit', 'DaskJob', { runner, backoffLimit: -1 }, 'spec.backoffLimit', /backoffLimit in body should be greater than or equal to 0/],
    ['job: no runner', 'DaskJob', {}, 'spec.runner', /Required value/],
    ['job: runner without containers', 'DaskJob', { runner: { template: { spec: { containers: [] } } } }, 'spec.runner.template.spec.containers', /must list the runner container/],
    ['job: runner spec without containers field', 'DaskJob', { runner: { template: { spec: {} } } }, 'spec.runner.template.spec.containers', /Required value/],
    ['job: cluster rules apply', 'DaskJob', { runner, cluster: group({ threads: 0 }) }, 'spec.cluster.workerGroups[0].threads', /greater than or equal to 1/],
    ['group: no cluster', 'DaskWorkerGroup', { groupName: 'g' }, 'spec.cluster', /Required value/],
    ['group: 0 < replicas < minReplicas', 'DaskWorkerGroup', { cluster: 'c', groupName: 'g', replicas: 1, minReplicas: 2 }, 'spec.replicas', /replicas must be 0 or greater than or equal to minReplicas/],
    ['group: replicas > maxReplicas', 'DaskWorkerGroup', { cluster: 'c', groupName: 'g', replicas: 3, maxReplicas: 2 }, 'spec.replicas', /replicas must be less than or equal to maxReplicas/],
    ['policy: bad policy type', 'DaskAutoscalingPolicy', { behavior: { scaleUp: { policies: [{ type: 'Nodes', value: 1, periodSeconds: 15 }] } } }, 'spec.behavior.scaleUp.policies[0].type', /Unsupported value: "Nodes"/],
    ['policy: per-cluster above per-namespace', 'DaskAutoscalingPolicy', { limits: { maxWorkersPerCluster: 10, maxWorkersPerNamespace: 5 } }, 'spec.limits.maxWorkersPerCluster', /maxWorkersPerCluster must be less than or equal to maxWorkersPerNamespace/],
    ['policy: negative idle', 'DaskAutoscalingPolicy', { idle: { scaleToZeroAfterSeconds: -1 } }, 'spec.idle.scaleToZeroAfterSeconds', /greater than or equal to 0/],
  ];
  for (const [what, kind, spec, field, message] of cases) {
    it(`rejects ${what}, naming ${field}`, () => {
      const { causes } = admit(kind, spec);
      const hit = causes.find((c: FieldCause) => c.field === field);
      assert.ok(hit, `a cause on ${field}; got ${JSON.stringify(causes)}`);
      assert.match(hit.message, message);
    });
  }

  it('limits object names that derived names are built from', () => {
    assert.match(admit('DaskCluster', {}, 'a'.repeat(54)).causes.map((c) => c.field).join(), /metadata\.name/);
    assert.deepEqual(admit('DaskCluster', {}, 'a'.repeat(53)).causes, []);
    assert.match(admit('DaskJob', { runner }, 'j'.repeat(46)).causes.map((c) => c.field).join(), /metadata\.name/);
  });
});

describe('kubedask CRDs: kubectl against the emulator', () => {
  let api: RunningApiServer;
  let tools: KubeTools;
  let kubeconfig: string;

  before(async () => {
    tools = kubeTools();
    api = await startApiServer();
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'crds-test-')), 'config');
    await api.writeKubeconfig(kubeconfig);
  });
  after(async () => api?.close());

  const run = (args: string[], input?: string) => runTool(tools.kubectl, args, { env: { KUBECONFIG: kubeconfig }, input });
  const kubectl = async (...args: string[]) => {
    const r = await run(args);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  const rejected = async (manifest: string, message: RegExp) => {
    const r = await run(['apply', '-f', '-'], manifest);
    assert.notEqual(r.status, 0, `accepted: ${manifest}`);
    assert.match(r.stderr, message);
  };

  it('client-side apply of crds/ establishes all four', async () => {
    await kubectl('apply', '-f', join(root, 'crds'));
    for (const kind of KINDS) await kubectl('wait', '--for=condition=Established', `crd/${PLURAL[kind]}.kubedask.io`, '--timeout=20s');
  });

  it('every example applies; defaults appear', async () => {
    for (const f of ['policy.yaml', 'cluster.yaml', 'gpu-cluster.yaml', 'job.yaml']) await kubectl('apply', '-f', join(root, 'examples', f));
    const dc = parseYaml(await kubectl('get', 'dc', 'demo', '-o', 'yaml')) as { spec: { workerGroups: Obj[]; autoscaling: Obj } };
    assert.deepEqual(dc.spec.autoscaling, { enabled: false, targetDuration: '30s' });
    assert.equal(dc.spec.workerGroups[0]!.gpus, 0);
    assert.equal(dc.spec.workerGroups[0]!.threads, 1);
    assert.equal(await kubectl('get', 'dj', 'demo-job', '-o', 'jsonpath={.spec.backoffLimit}'), '1');
    // (How a list cell is rendered is left to the server's table printer.)
    assert.match(await kubectl('get', 'dap'), /^default\s+\S*data-science\S*\s?\S*ml\S*\s+20\s+4\s+\d+s$/m);
    assert.match(await kubectl('get', 'kubedask'), /daskcluster\.kubedask\.io\/gpu-demo/);
  });

  it('kubectl get dc prints Phase, Workers, Scheduler and Age from the status', async () => {
    const status = { phase: 'Running', workers: '2/2', readyWorkers: 2, desiredWorkers: 2, schedulerAddress: 'demo-scheduler.default.svc:8786' };
    await kubectl('patch', 'dc', 'demo', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status }));
    const [header, row] = (await kubectl('get', 'dc', 'demo')).trim().split('\n');
    assert.match(header!, /^NAME\s+PHASE\s+WORKERS\s+SCHEDULER\s+AGE$/);
    assert.match(row!, /^demo\s+Running\s+2\/2\s+demo-scheduler\.default\.svc:8786\s+\d+s$/);
  });

  it('rejects invalid manifests with a message naming the field', async () => {
    const dc = (spec: string) => `apiVersion: kubedask.io/v1alpha1\nkind: DaskCluster\nmetadata: {name: bad}\nspec: ${spec}\n`;
    await rejected(dc('{workerGroups: [{name: a, replicas: 5, maxReplicas: 2}]}'), /spec\.workerGroups\[0\]\.replicas: Invalid value: "object": replicas must be less than or equal to maxReplicas/);
    await rejected(dc('{workerGroups: [{name: a}, {name: a}]}'), /spec\.workerGroups\[1\]: Duplicate value/);
    await rejected(dc('{workerGroups: [{name: a, template: {spec: {containers: [{name: x, image: 1}]}}}]}'), /spec\.workerGroups\[0\]\.template\.spec\.containers\[0\]\.image: Invalid value/);
    // kubectl validates strictly by default: an unknown (mistyped) PodSpec field is refused, not pruned.
    await rejected(dc('{workerGroups: [{name: a, template: {spec: {nodeSelectr: {a: b}}}}]}'), /unknown field "spec\.workerGroups\[0\]\.template\.spec\.nodeSelectr"/);
    await rejected(dc('{idleTimeout: soon}'), /spec\.idleTimeout: Invalid value: "soon"/);
    await rejected(`apiVersion: kubedask.io/v1alpha1\nkind: DaskJob\nmetadata: {name: bad}\nspec: {backoffLimit: -1, runner: {template: {spec: {containers: [{name: r}]}}}}\n`, /spec\.backoffLimit: Invalid value: -1/);
  });

  it('kubectl scale drives a DaskWorkerGroup through the scale subresource', async () => {
    const manifest = 'apiVersion: kubedask.io/v1alpha1\nkind: DaskWorkerGroup\nmetadata: {name: demo-extra}\nspec: {cluster: demo, groupName: extra, replicas: 1, maxReplicas: 5}\n';
    assert.equal((await run(['apply', '-f', '-'], manifest)).status, 0);
    await kubectl('patch', 'dwg', 'demo-extra', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { replicas: 1, readyReplicas: 1, selector: 'kubedask.io/cluster=demo,kubedask.io/worker-group=extra' } }));
    await kubectl('scale', 'dwg/demo-extra', '--replicas', '3');
    await waitUntil(async () => (await kubectl('get', 'dwg', 'demo-extra', '-o', 'jsonpath={.spec.replicas}')) === '3', 'spec.replicas to be 3');
    const scale = JSON.parse(await kubectl('get', '--raw', '/apis/kubedask.io/v1alpha1/namespaces/default/daskworkergroups/demo-extra/scale')) as { spec: { replicas: number }; status: { replicas: number; selector: string } };
    assert.deepEqual([scale.spec.replicas, scale.status.replicas, scale.status.selector], [3, 1, 'kubedask.io/cluster=demo,kubedask.io/worker-group=extra']);
    const [header, row] = (await kubectl('get', 'dwg', 'demo-extra')).trim().split('\n');
    assert.match(header!, /^NAME\s+CLUSTER\s+DESIRED\s+READY\s+AGE$/);
    assert.match(row!, /^demo-extra\s+demo\s+3\s+1\s+\d+s$/);
    const over = await run(['scale', 'dwg/demo-extra', '--replicas', '9']);
    assert.notEqual(over.status, 0, 'scaling past maxReplicas is refused');
    assert.match(over.stderr, /replicas must be less than or equal to maxReplicas/);
  });

  it('kubectl scale drives a DaskCluster\'s first worker group through its scale subresource (spec.replicas)', async () => {
    const manifest = 'apiVersion: kubedask.io/v1alpha1\nkind: DaskCluster\nmetadata: {name: scaled}\nspec: {workerGroups: [{name: default, replicas: 1, maxReplicas: 4}]}\n';
    assert.equal((await run(['apply', '-f', '-'], manifest)).status, 0);
    const selector = 'kubedask.io/cluster=scaled,kubedask.io/component=worker,kubedask.io/worker-group=default';
    await kubectl('patch', 'dc', 'scaled', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { replicas: 1, selector } }));
    await kubectl('scale', 'dc/scaled', '--replicas', '3');
    await waitUntil(async () => (await kubectl('get', 'dc', 'scaled', '-o', 'jsonpath={.spec.replicas}')) === '3', 'spec.replicas to be 3');
    const scale = JSON.parse(await kubectl('get', '--raw', '/apis/kubedask.io/v1alpha1/namespaces/default/daskclusters/scaled/scale')) as { spec: { replicas: number }; status: { replicas: number; selector: string } };
    assert.deepEqual([scale.spec.replicas, scale.status.replicas, scale.status.selector], [3, 1, selector]);
    const over = await run(['scale', 'dc/scaled', '--replicas', '5']);
    assert.notEqual(over.status, 0, 'scaling past the first group\'s maxReplicas is refused');
    assert.match(over.stderr, /replicas must be less than or equal to workerGroups\[0\]\.maxReplicas/);
  });
});
