// operator/builders: defaults, labels, owner references, the scheduler's Deployment and Service,
// worker groups, template hashes and the DaskJob's cluster and runner pod. Worker pods, merging
// and the secure defaults are in operator-builders-pods.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION, ANNOTATIONS, LABELS, type DaskCluster, type DaskClusterSpec, type DaskJob, type DaskWorkerGroup } from '../../operator/api/types.js';
import {
  buildJobCluster, buildRunnerPod, buildSchedulerDeployment, buildSchedulerService, buildWorkerGroup, canonicalJson, clusterLabels,
  DEFAULT_IMAGE, fnv1a64, MissingFieldError, ownerReference, schedulerTemplateHash, selectorString, withClusterDefaults,
  workerGroupSelector, workerTemplateHash,
} from '../../operator/builders/index.js';
import { completeArgs } from '../../operator/builders/args.js';
import { checkBuiltin } from '../../sim/schema/builtin.js';

const cluster = (spec: DaskClusterSpec = {}, name = 'demo'): DaskCluster => ({
  apiVersion: API_VERSION, kind: 'DaskCluster', metadata: { name, namespace: 'ns1', uid: 'uid-cluster' }, spec,
});
const withUid = (g: DaskWorkerGroup): DaskWorkerGroup => ({ ...g, metadata: { ...g.metadata, uid: 'uid-group' } });
const groupOf = (c: DaskCluster, i = 0) => withUid(buildWorkerGroup(c, withClusterDefaults(c.spec).workerGroups[i]!));
const job = (spec: Partial<DaskJob['spec']> = {}): DaskJob => ({
  apiVersion: API_VERSION, kind: 'DaskJob', metadata: { name: 'etl', namespace: 'ns1', uid: 'uid-job' },
  spec: { cluster: {}, runner: { template: { spec: { containers: [{ name: 'main', args: ['node', 'job.js'] }] } } }, ...spec },
});
function assertValid(o: { apiVersion: string; kind: string }): void {
  assert.deepEqual(checkBuiltin(o.apiVersion, o.kind, o as unknown as Record<string, unknown>), []);
}

describe('withClusterDefaults', () => {
  it('fills image, one default group and autoscaling', () => {
    const d = withClusterDefaults({});
    assert.equal(d.image, DEFAULT_IMAGE);
    assert.deepEqual(d.workerGroups, [{ name: 'default', replicas: 1, minReplicas: 0, threads: 1, gpus: 0 }]);
    assert.deepEqual(d.autoscaling, { enabled: false, targetDuration: '30s' });
  });

  it('defaults replicas to minReplicas (1 when neither is set) and leaves maxReplicas unbounded unless given', () => {
    const spec: DaskClusterSpec = { image: 'img:1', workerGroups: [{ name: 'a', minReplicas: 2 }, { name: 'b', replicas: 3, minReplicas: 1 }, { name: 'c', replicas: 0 }, { name: 'd', threads: 4, maxReplicas: 9 }] };
    const [a, b, c, d] = withClusterDefaults(spec).workerGroups;
    assert.deepEqual([a!.replicas, a!.maxReplicas], [2, undefined]);
    assert.deepEqual([b!.replicas, b!.maxReplicas], [3, undefined]);
    // A group started at 0 can still be grown by the autoscaler.
    assert.deepEqual([c!.replicas, c!.minReplicas, c!.maxReplicas], [0, 0, undefined]);
    assert.deepEqual([d!.replicas, d!.threads, d!.maxReplicas], [1, 4, 9]);
    assert.equal(withClusterDefaults(spec).image, 'img:1');
    assert.equal(spec.workerGroups![0]!.replicas, undefined, 'input not modified');
  });

  it('spec.replicas (the scale subresource\'s) sizes the first group only, over its own replicas', () => {
    const spec: DaskClusterSpec = { replicas: 5, workerGroups: [{ name: 'a', replicas: 2 }, { name: 'b', replicas: 3 }] };
    assert.deepEqual(withClusterDefaults(spec).workerGroups.map((g) => g.replicas), [5, 3]);
    assert.deepEqual(withClusterDefaults({ replicas: 0 }).workerGroups.map((g) => [g.name, g.replicas]), [['default', 0]]);
    assert.equal(spec.workerGroups![0]!.replicas, 2, 'input not modified');
  });
});

describe('labels and owners', () => {
  it('builds the controller owner reference and refuses an owner without a uid', () => {
    assert.deepEqual(ownerReference(cluster()), { apiVersion: API_VERSION, kind: 'DaskCluster', name: 'demo', uid: 'uid-cluster', controller: true, blockOwnerDeletion: true });
    assert.throws(() => ownerReference({ apiVersion: 'v1', kind: 'X', metadata: { name: 'x' } }), (e: unknown) => e instanceof MissingFieldError && e.field === 'metadata.uid');
  });

  it('labels by cluster and component, selects groups, formats selectors', () => {
    assert.deepEqual(clusterLabels('demo', 'worker'), {
      'app.kubernetes.io/name': 'kubedask', 'app.kubernetes.io/instance': 'demo', 'app.kubernetes.io/component': 'worker',
      'app.kubernetes.io/managed-by': 'kubedask-operator', 'kubedask.io/cluster': 'demo', 'kubedask.io/component': 'worker',
    });
    assert.deepEqual(clusterLabels(cluster(), 'scheduler'), clusterLabels('demo', 'scheduler'));
    const sel = workerGroupSelector('demo', 'gpu');
    assert.equal(selectorString(sel), 'kubedask.io/cluster=demo,kubedask.io/component=worker,kubedask.io/worker-group=gpu');
    assert.equal(selectorString({ b: '2', a: '1' }), 'a=1,b=2');
  });
});

describe('scheduler Deployment', () => {
  it('runs one scheduler with the project image, ports, gRPC probes and default requests', () => {
    const d = buildSchedulerDeployment(cluster());
    assert.equal(d.metadata!.name, 'demo-scheduler');
    assert.equal(d.metadata!.namespace, 'ns1');
    assert.equal(d.metadata!.ownerReferences![0]!.uid, 'uid-cluster');
    assert.equal(d.spec!.replicas, 1);
    assert.deepEqual(d.spec!.strategy, { type: 'Recreate' });
    const labels = d.spec!.template.metadata!.labels!;
    for (const [k, v] of Object.entries(d.spec!.selector.matchLabels!)) assert.equal(labels[k], v);
    assert.equal(labels[LABELS.role], 'scheduler');
    const c = d.spec!.template.spec!.containers[0]!;
    assert.equal(c.name, 'scheduler');
    assert.equal(c.image, DEFAULT_IMAGE);
    assert.deepEqual(c.command, ['kubedask']);
    assert.deepEqual(c.args, ['scheduler', '--port', '8786', '--dashboard-port', '8787', '--metrics-port', '8788']);
    assert.deepEqual(c.ports!.map((p) => [p.name, p.containerPort]), [['grpc', 8786], ['dashboard', 8787], ['metrics', 8788]]);
    assert.deepEqual(c.readinessProbe!.grpc, { port: 8786 });
    assert.deepEqual(c.livenessProbe!.grpc, { port: 8786 });
    assert.deepEqual(c.resources, { requests: { cpu: '100m', memory: '256Mi' } });
    assert.equal(d.spec!.template.metadata!.annotations![ANNOTATIONS.templateHash], schedulerTemplateHash(cluster()));
    assertValid(d);
  });

  it('uses the given resources and, with TLS, mounts the secret, passes the flags and probes TCP', () => {
    const resources = { limits: { cpu: '2', memory: '4Gi' } };
    const d = buildSchedulerDeployment(cluster({ scheduler: { resources }, security: { tls: { secretName: 'demo-tls' } } }));
    const spec = d.spec!.template.spec!;
    const c = spec.containers[0]!;
    assert.deepEqual(c.resources, resources);
    assert.deepEqual(c.args!.slice(7), ['--tls-ca', '/etc/kubedask/tls/ca.crt', '--tls-cert', '/etc/kubedask/tls/tls.crt', '--tls-key', '/etc/kubedask/tls/tls.key']);
    assert.deepEqual(c.readinessProbe!.tcpSocket, { port: 8786 });
    assert.equal(c.readinessProbe!.grpc, undefined);
    assert.deepEqual(c.volumeMounts!.find((m) => m.mountPath === '/etc/kubedask/tls'), { name: 'kubedask-tls', mountPath: '/etc/kubedask/tls', readOnly: true });
    assert.equal(spec.volumes!.find((v) => v.name === 'kubedask-tls')!.secret!.secretName, 'demo-tls');
    assertValid(d);
  });

  it('merges the user template: labels, pod fields, their args completed, sidecars appended; selector labels stay ours', () => {
    const d = buildSchedulerDeployment(cluster({
      scheduler: {
        template: {
          metadata: { labels: { team: 'data', [LABELS.cluster]: 'other' }, annotations: { note: 'x' } },
          spec: {
            nodeSelector: { pool: 'system' },
            priorityClassName: 'high',
            containers: [
              { name: 'scheduler', args: ['--port=9000', '--no-dashboard'], env: [{ name: 'A', value: '1' }] },
              { name: 'proxy', image: 'envoy:1' },
            ],
          },
        },
      },
    }));
    const t = d.spec!.template;
    assert.equal(t.metadata!.labels!.team, 'data');
    assert.equal(t.metadata!.labels![LABELS.cluster], 'demo');
    assert.equal(t.metadata!.annotations!.note, 'x');
    assert.ok(t.metadata!.annotations![ANNOTATIONS.templateHash]);
    assert.deepEqual(t.spec!.nodeSelector, { pool: 'system' });
    assert.equal(t.spec!.priorityClassName, 'high');
    assert.deepEqual(t.spec!.containers.map((c) => c.name), ['scheduler', 'proxy']);
    const c = t.spec!.containers[0]!;
    assert.deepEqual(c.args, ['scheduler', '--port=9000', '--no-dashboard', '--metrics-port', '8788']);
    assert.equal(c.image, DEFAULT_IMAGE);
    assert.deepEqual(c.env, [{ name: 'A', value: '1' }]);
    assertValid(d);
  });
});

describe('scheduler Service', () => {
  it('exposes gRPC, dashboard and metrics to the scheduler pod, annotated for Prometheus', () => {
    const c = cluster();
    const s = buildSchedulerService(c);
    assert.equal(s.metadata!.name, 'demo-scheduler');
    assert.equal(s.spec!.type, 'ClusterIP');
    assert.deepEqual(s.spec!.ports!.map((p) => [p.name, p.port, p.targetPort]), [['grpc', 8786, 8786], ['dashboard', 8787, 8787], ['metrics', 8788, 8788]]);
    const podLabels = buildSchedulerDeployment(c).spec!.template.metadata!.labels!;
    for (const [k, v] of Object.entries(s.spec!.selector!)) assert.equal(podLabels[k], v);
    assert.deepEqual(s.metadata!.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8788', 'prometheus.io/path': '/metrics' });
    assert.equal(s.metadata!.ownerReferences![0]!.kind, 'DaskCluster');
    assertValid(s);
  });

  it('takes the type and annotations from the spec, the user winning', () => {
    const s = buildSchedulerService(cluster({ scheduler: { service: { type: 'LoadBalancer', annotations: { 'prometheus.io/scrape': 'false', lb: 'internal' } } } }));
    assert.equal(s.spec!.type, 'LoadBalancer');
    assert.equal(s.metadata!.annotations!['prometheus.io/scrape'], 'false');
    assert.equal(s.metadata!.annotations!.lb, 'internal');
    assertValid(s);
  });
});

describe('DaskWorkerGroup', () => {
  it('copies the defaulted group, the cluster image and the replicas it was given', () => {
    const c = cluster({ image: 'img:2', imagePullPolicy: 'Always', workerGroups: [{ name: 'cpu', minReplicas: 2, threads: 4, taskResources: { BIG: 1 } }] });
    const g = buildWorkerGroup(c, c.spec.workerGroups![0]!);
    assert.equal(g.metadata.name, 'demo-cpu');
    assert.equal(g.metadata.namespace, 'ns1');
    assert.deepEqual(g.metadata.ownerReferences, [ownerReference(c)]);
    assert.equal(g.metadata.labels![LABELS.group], 'cpu');
    assert.equal(g.metadata.annotations![ANNOTATIONS.clusterReplicas], '2');
    assert.deepEqual(g.spec, { cluster: 'demo', groupName: 'cpu', image: 'img:2', imagePullPolicy: 'Always', replicas: 2, minReplicas: 2, threads: 4, gpus: 0, taskResources: { BIG: 1 } });
  });
});

describe('template hashes', () => {
  const base: DaskClusterSpec = { image: 'img:1', workerGroups: [{ name: 'g', threads: 2, resources: { limits: { cpu: '1', memory: '1Gi' } } }] };
  const hashFor = (spec: DaskClusterSpec) => { const c = cluster(spec); return workerTemplateHash(groupOf(c), c); };

  it('is FNV-1a 64 over canonical JSON', () => {
    assert.equal(fnv1a64(''), 'cbf29ce484222325');
    assert.equal(fnv1a64('a'), 'af63dc4c8601ec8c');
    assert.equal(canonicalJson({ b: [1, { d: 1, c: undefined }], a: 'x' }), '{"a":"x","b":[1,{"d":1}]}');
  });

  it('is stable across key order and replica counts, and changes with what shapes the pod', () => {
    const h = hashFor(base);
    assert.match(h, /^[0-9a-f]{16}$/);
    const reordered: DaskClusterSpec = { workerGroups: [{ resources: { limits: { memory: '1Gi', cpu: '1' } }, threads: 2, name: 'g' }], image: 'img:1' };
    assert.equal(hashFor(reordered), h);
    assert.equal(hashFor({ ...base, workerGroups: [{ ...base.workerGroups![0]!, replicas: 7, minReplicas: 1, maxReplicas: 20 }] }), h);
    assert.equal(hashFor({ ...base, autoscaling: { enabled: true } }), h);
    assert.notEqual(hashFor({ ...base, workerGroups: [{ ...base.workerGroups![0]!, threads: 3 }] }), h);
    assert.notEqual(hashFor({ ...base, image: 'img:2' }), h);
    assert.notEqual(hashFor({ ...base, workerGroups: [{ ...base.workerGroups![0]!, template: { metadata: { labels: { a: 'b' } } } }] }), h);
    assert.notEqual(hashFor({ ...base, security: { tls: { secretName: 's' } } }), h);
  });

  it('hashes the scheduler from its own inputs only', () => {
    const h = schedulerTemplateHash(cluster(base));
    assert.equal(schedulerTemplateHash(cluster({ ...base, workerGroups: [{ name: 'other', threads: 8 }] })), h);
    assert.notEqual(schedulerTemplateHash(cluster({ ...base, scheduler: { resources: { limits: { cpu: '2' } } } })), h);
    assert.notEqual(schedulerTemplateHash(cluster({ ...base, image: 'img:2' })), h);
  });
});

describe('DaskJob', () => {
  it('makes a cluster owned by the job from a copy of its spec', () => {
    const j = job({ cluster: { image: 'img:3', workerGroups: [{ name: 'a' }] } });
    const c = buildJobCluster(j);
    assert.equal(c.metadata.name, 'etl-cluster');
    assert.equal(c.metadata.labels![LABELS.job], 'etl');
    assert.equal(c.metadata.ownerReferences![0]!.kind, 'DaskJob');
    assert.deepEqual(c.spec, j.spec.cluster);
    assert.notEqual(c.spec.workerGroups, j.spec.cluster.workerGroups);
  });

  it('runs the runner once per attempt with the scheduler address, the cluster image and secure defaults', () => {
    const j = job({
      cluster: { image: 'img:3' },
      runner: { template: { metadata: { labels: { app: 'etl' } }, spec: { restartPolicy: 'OnFailure', containers: [
        { name: 'main', args: ['node', 'job.js'] },
        { name: 'side', image: 'busybox:1', env: [{ name: 'KUBEDASK_SCHEDULER_ADDRESS', value: 'mine:1' }] },
      ] } } },
    });
    const p = buildRunnerPod(j, 2, 'etl-cluster-scheduler.ns1.svc:8786');
    assert.equal(p.metadata!.name, 'etl-runner-2');
    assert.equal(p.metadata!.ownerReferences![0]!.uid, 'uid-job');
    assert.equal(p.metadata!.labels![LABELS.job], 'etl');
    assert.equal(p.metadata!.labels![LABELS.role], 'job-runner');
    assert.equal(p.metadata!.labels!.app, 'etl');
    assert.equal(p.spec!.restartPolicy, 'Never');
    const [main, side] = p.spec!.containers;
    assert.equal(main!.image, 'img:3');
    assert.equal(side!.image, 'busybox:1');
    assert.deepEqual(main!.env, [{ name: 'KUBEDASK_SCHEDULER_ADDRESS', value: 'etl-cluster-scheduler.ns1.svc:8786' }]);
    assert.deepEqual(side!.env, [{ name: 'KUBEDASK_SCHEDULER_ADDRESS', value: 'mine:1' }]);
    assert.equal(p.spec!.securityContext!.runAsNonRoot, true);
    assert.equal(main!.securityContext!.readOnlyRootFilesystem, true);
    assertValid(p);
  });

  it('mounts the TLS secret in every runner container and says where the files are', () => {
    const p = buildRunnerPod(job({ cluster: { security: { tls: { secretName: 'etl-tls' } } } }), 0, 'a:8786');
    const main = p.spec!.containers[0]!;
    assert.equal(main.image, DEFAULT_IMAGE);
    assert.ok(main.volumeMounts!.some((m) => m.mountPath === '/etc/kubedask/tls' && m.readOnly));
    assert.equal(main.env!.find((e) => e.name === 'KUBEDASK_TLS_CA')!.value, '/etc/kubedask/tls/ca.crt');
    assert.equal(p.spec!.volumes!.find((v) => v.name === 'kubedask-tls')!.secret!.secretName, 'etl-tls');
    assertValid(p);
  });
});

describe('helpers', () => {

  it('completes user args with our subcommand and missing flags only', () => {
    const ours = ['worker', '--scheduler', 's:1', '--nthreads', '1'];
    assert.deepEqual(completeArgs(ours, ['--nthreads', '4']), ['worker', '--nthreads', '4', '--scheduler', 's:1']);
    assert.deepEqual(completeArgs(ours, ['worker', '--scheduler=x:2']), ['worker', '--scheduler=x:2', '--nthreads', '1']);
  });
});
