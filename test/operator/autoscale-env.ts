// Shared by the autoscaler's end-to-end tests: manifests for autoscaled clusters and policies,
// the autoscaler's decisions as the operator logged them. The recorded task lives with the
// autoscale bench (bench/autoscale-trace.ts), which shares it.
import type { DaskAutoscalingPolicySpec, WorkerGroupTemplate } from '../../operator/api/types.js';
import type { KubeEnv, OperatorProcess } from './kube-env.js';

export interface Scaled { time: string; cluster: string; group: string; from: number; to: number; recommended: number; reason: string }

/** The operator's "autoscaled" log lines for one cluster (namespace/name), in order. */
export function decisions(op: OperatorProcess, cluster: string, group?: string): Scaled[] {
  return op.output().split('\n').filter((l) => l.startsWith('{') && l.includes('"autoscaled"'))
    .map((l) => JSON.parse(l) as Scaled & { msg: string })
    .filter((d) => d.msg === 'autoscaled' && d.cluster === cluster && (group === undefined || d.group === group));
}

export async function applyCluster(env: KubeEnv, namespace: string, name: string, groups: WorkerGroupTemplate[], targetDuration = '2s'): Promise<void> {
  await env.apply(JSON.stringify({
    apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name, namespace },
    spec: {
      scheduler: { resources: { requests: { cpu: '100m', memory: '128Mi' } } },
      workerGroups: groups.map((g) => ({ resources: { requests: { cpu: '100m', memory: '128Mi' } }, ...g })),
      autoscaling: { enabled: true, targetDuration },
    },
  }));
}

export async function applyPolicy(env: KubeEnv, name: string, spec: DaskAutoscalingPolicySpec): Promise<void> {
  await env.apply(JSON.stringify({ apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskAutoscalingPolicy', metadata: { name }, spec }));
}

export async function createNamespace(env: KubeEnv, name: string): Promise<void> {
  await env.apply(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
}
