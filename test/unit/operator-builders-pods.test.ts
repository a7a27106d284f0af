// operator/builders: worker pods (flags, GPUs, TLS), merging the user's template and the
// secure defaults with their overrides.
import { describe, it } from 'node:test';
import { WORKER_GLIBC_TUNABLES } from '../../operator/builders/worker-malloc.js';
import assert from 'node:assert/strict';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPod } from 'kubernetes-models/v1/Pod';
import { API_VERSION, ANNOTATIONS, LABELS, type DaskCluster, type DaskClusterSpec, type DaskWorkerGroup, type PodTemplate } from '../../operator/api/types.js';
import { buildSchedulerDeployment, buildWorkerGroup, buildWorkerPod, DEFAULT_IMAGE, withClusterDefaults, workerTemplateHash } from '../../operator/builders/index.js';
import { checkBuiltin } from '../../sim/schema/builtin.js';

const cluster = (spec: DaskClusterSpec = {}): DaskCluster => ({
  apiVersion: API_VERSION, kind: 'DaskCluster', metadata: { name: 'demo', namespace: 'ns1', uid: 'uid-cluster' }, spec,
});
function podFor(spec: DaskClusterSpec): { pod: IPod; worker: IContainer; group: DaskWorkerGroup; c: DaskCluster } {
  const c = cluster(spec);
  const built = buildWorkerGroup(c, withClusterDefaults(spec).workerGroups[0]!);
  const group = { ...built, metadata: { ...built.metadata, uid: 'uid-group' } };
  const pod = buildWorkerPod(group, c, 'demo-default-abcde');
  assert.deepEqual(checkBuiltin('v1', 'Pod', pod as unknown as Record<string, unknown>), []);
  return { pod, worker: pod.spec!.containers.find((x) => x.name === 'worker')!, group, c };
}
const withTemplate = (template: PodTemplate): DaskClusterSpec => ({ workerGroups: [{ name: 'default', template }] });
const count = (args: string[], flag: string) => args.filter((a) => a === flag || a.startsWith(`${flag}=`)).length;

describe('worker pod', () => {
  it('is owned by its group, labelled, hashed, and runs the worker with every flag', () => {
    const { pod, worker, group, c } = podFor({});
    assert.equal(pod.metadata!.name, 'demo-default-abcde');
    assert.equal(pod.metadata!.namespace, 'ns1');
    assert.deepEqual(pod.metadata!.ownerReferences, [{ apiVersion: API_VERSION, kind: 'DaskWorkerGroup', name: 'demo-default', uid: 'uid-group', controller: true, blockOwnerDeletion: true }]);
    const labels = pod.metadata!.labels!;
    assert.equal(labels[LABELS.cluster], 'demo');
    assert.equal(labels[LABELS.role], 'worker');
    assert.equal(labels[LABELS.group], 'default');
    assert.equal(labels[LABELS.name], 'kubedask');
    assert.equal(pod.metadata!.annotations![ANNOTATIONS.templateHash], workerTemplateHash(group, c));
    assert.deepEqual([pod.metadata!.annotations!['prometheus.io/scrape'], pod.metadata!.annotations!['prometheus.io/port'], pod.metadata!.annotations!['prometheus.io/path']],
      ['true', '8790', '/metrics'], 'scrapable by annotation, on the metrics port');
    assert.equal(worker.image, DEFAULT_IMAGE);
    assert.deepEqual(worker.command, ['kubedask']);
    assert.deepEqual(worker.args, [
      'worker', '--scheduler', 'demo-scheduler.ns1.svc:8786', '--nthreads', '1', '--name', '$(POD_NAME)', '--group', 'default',
      '--host', '0.0.0.0', '--advertise-host', '$(POD_IP)', '--port', '8789', '--metrics-port', '8790',
    ]);
    assert.deepEqual(worker.env, [
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'KUBEDASK_CLUSTER', value: 'demo' },
      { name: 'GLIBC_TUNABLES', value: WORKER_GLIBC_TUNABLES },
    ]);
    assert.deepEqual(worker.ports, [{ name: 'data', containerPort: 8789, protocol: 'TCP' }, { name: 'metrics', containerPort: 8790, protocol: 'TCP' }]);
    assert.deepEqual(worker.readinessProbe!.grpc, { port: 8789 });
    assert.equal(pod.spec!.restartPolicy, 'OnFailure');
    assert.equal(pod.spec!.terminationGracePeriodSeconds, 30);
    assert.equal(pod.spec!.tolerations, undefined);
  });

  it('passes the memory limit in bytes and the thread count', () => {
    const { worker } = podFor({ workerGroups: [{ name: 'default', threads: 4, resources: { limits: { memory: '4Gi' }, requests: { cpu: '2' } } }] });
    const args = worker.args!;
    assert.equal(args[args.indexOf('--nthreads') + 1], '4');
    assert.equal(args[args.indexOf('--memory-limit') + 1], String(4 * 2 ** 30));
    assert.deepEqual(worker.resources, { limits: { memory: '4Gi' }, requests: { cpu: '2' } });
  });

  it('gives GPU workers the GPU limit, the toleration and --resources', () => {
    const { pod, worker } = podFor({ workerGroups: [{ name: 'default', gpus: 2, taskResources: { MEMORY_HEAVY: 1, A: 3 }, resources: { limits: { cpu: '4' } } }] });
    assert.deepEqual(worker.resources, { limits: { cpu: '4', 'nvidia.com/gpu': '2' }, requests: { 'nvidia.com/gpu': '2' } });
    assert.deepEqual(pod.spec!.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    const args = worker.args!;
    assert.equal(args[args.indexOf('--resources') + 1], 'GPU=2,A=3,MEMORY_HEAVY=1');
  });

  it('keeps the flags and env the user set and adds only the missing ones', () => {
    const { worker } = podFor(withTemplate({ spec: { containers: [{
      name: 'worker',
      args: ['--nthreads', '8', '--memory-limit=1GiB', '--tls-ca', '/mine/ca.crt'],
      env: [{ name: 'KUBEDASK_CLUSTER', value: 'renamed' }, { name: 'EXTRA', value: '1' }],
    }] } }));
    const args = worker.args!;
    assert.equal(args[0], 'worker');
    assert.equal(count(args, '--nthreads'), 1);
    assert.equal(args[args.indexOf('--nthreads') + 1], '8');
    assert.equal(count(args, '--memory-limit'), 1);
    assert.equal(count(args, '--scheduler'), 1);
    assert.equal(count(args, '--name'), 1);
    assert.equal(count(args, '--tls-ca'), 1);
    assert.deepEqual(worker.env!.map((e) => [e.name, e.value]), [['POD_NAME', undefined], ['POD_IP', undefined], ['KUBEDASK_CLUSTER', 'renamed'], ['GLIBC_TUNABLES', WORKER_GLIBC_TUNABLES], ['EXTRA', '1']]);
  });

  it('takes the memory limit from the user container when it sets one', () => {
    const { worker } = podFor({ workerGroups: [{ name: 'default', resources: { limits: { memory: '1Gi' } }, template: { spec: { containers: [{ name: 'worker', resources: { limits: { memory: '2Gi' } } }] } } }] });
    assert.equal(worker.args![worker.args!.indexOf('--memory-limit') + 1], String(2 * 2 ** 30));
    assert.deepEqual(worker.resources, { limits: { memory: '2Gi' } });
  });

  it('with TLS mounts the secret, passes the files and probes TCP', () => {
    const { pod, worker } = podFor({ security: { tls: { secretName: 'demo-tls' } } });
    const args = worker.args!;
    assert.equal(args[args.indexOf('--tls-cert') + 1], '/etc/kubedask/tls/tls.crt');
    assert.equal(args[args.indexOf('--tls-key') + 1], '/etc/kubedask/tls/tls.key');
    assert.deepEqual(worker.readinessProbe!.tcpSocket, { port: 8789 });
    assert.ok(worker.volumeMounts!.some((m) => m.name === 'kubedask-tls' && m.mountPath === '/etc/kubedask/tls' && m.readOnly));
    assert.equal(pod.spec!.volumes!.find((v) => v.name === 'kubedask-tls')!.secret!.secretName, 'demo-tls');
  });

  it('uses the group image over the cluster image', () => {
    const c = cluster({ image: 'img:1' });
    const g = buildWorkerGroup(c, { name: 'x' });
    const own = { ...g, metadata: { ...g.metadata, uid: 'u' }, spec: { ...g.spec, image: 'img:custom' } };
    assert.equal(buildWorkerPod(own, c, 'p').spec!.containers[0]!.image, 'img:custom');
  });
});

describe('merging the user template', () => {
  it('pins the selector labels, appends sidecars, volumes and tolerations, merges mounts by path', () => {
    const { pod, worker } = podFor(withTemplate({
      metadata: { labels: { [LABELS.group]: 'hijack', team: 'ml' }, annotations: { [ANNOTATIONS.templateHash]: 'forged', a: 'b' } },
      spec: {
        tolerations: [{ key: 'spot', operator: 'Exists' }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'pvc' } }],
        initContainers: [{ name: 'fetch', image: 'busybox:1', command: ['true'] }],
        containers: [
          { name: 'worker', volumeMounts: [{ name: 'data', mountPath: '/data' }], imagePullPolicy: 'Always' },
          { name: 'log-shipper', image: 'fluent-bit:3' },
        ],
      },
    }));
    assert.equal(pod.metadata!.labels![LABELS.group], 'default');
    assert.equal(pod.metadata!.labels!.team, 'ml');
    assert.notEqual(pod.metadata!.annotations![ANNOTATIONS.templateHash], 'forged');
    assert.equal(pod.metadata!.annotations!.a, 'b');
    assert.deepEqual(pod.spec!.containers.map((c) => c.name), ['worker', 'log-shipper']);
    assert.deepEqual(pod.spec!.initContainers!.map((c) => c.name), ['fetch']);
    assert.equal(worker.imagePullPolicy, 'Always');
    assert.equal(worker.args![0], 'worker');
    assert.ok(worker.volumeMounts!.some((m) => m.mountPath === '/data'));
    assert.deepEqual(pod.spec!.tolerations, [{ key: 'spot', operator: 'Exists' }]);
    assert.ok(pod.spec!.volumes!.some((v) => v.name === 'data'));
  });
});

describe('secure defaults', () => {
  it('run as non-root with a read-only root, no privileges, and writable /tmp and /app/.kubedask', () => {
    const { pod } = podFor({});
    const sched = buildSchedulerDeployment(cluster()).spec!.template.spec!;
    for (const spec of [pod.spec!, sched]) {
      assert.deepEqual(spec.securityContext, { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
      const c = spec.containers[0]!;
      assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      assert.deepEqual(c.volumeMounts!.map((m) => m.mountPath), ['/tmp', '/app/.kubedask']);
      assert.deepEqual(spec.volumes!.filter((v) => v.emptyDir).map((v) => v.name), ['kubedask-tmp', 'kubedask-state']);
      assert.equal(spec.automountServiceAccountToken, false);
    }
  });

  it('are overridden field by field by the user template, and apply to user containers too', () => {
    const { pod, worker } = podFor(withTemplate({ spec: {
      securityContext: { runAsUser: 0 },
      automountServiceAccountToken: true,
      volumes: [{ name: 'scratch', emptyDir: { medium: 'Memory' } }],
      containers: [
        { name: 'worker', securityContext: { readOnlyRootFilesystem: false, capabilities: { add: ['SYS_PTRACE'] } }, volumeMounts: [{ name: 'scratch', mountPath: '/tmp' }] },
        { name: 'side', image: 'busybox:1' },
      ],
    } }));
    const sc = pod.spec!.securityContext!;
    assert.equal(sc.runAsUser, 0);
    assert.equal(sc.runAsNonRoot, false, 'root asked for: runAsNonRoot would refuse to start it');
    assert.equal(sc.fsGroup, 10001);
    assert.equal(pod.spec!.automountServiceAccountToken, true);
    assert.deepEqual(worker.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, capabilities: { drop: ['ALL'], add: ['SYS_PTRACE'] } });
    assert.deepEqual(worker.volumeMounts!.filter((m) => m.mountPath === '/tmp'), [{ name: 'scratch', mountPath: '/tmp' }]);
    const mounted = new Set(pod.spec!.containers.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
    for (const v of pod.spec!.volumes!) assert.ok(mounted.has(v.name), `volume ${v.name} is mounted`);
    const side = pod.spec!.containers[1]!;
    assert.equal(side.securityContext!.readOnlyRootFilesystem, true);
    assert.ok(side.volumeMounts!.some((m) => m.mountPath === '/tmp'));
  });
});
