// Shared by the autoscaler's end-to-end tests: manifests for autoscaled clusters and policies,
// the autoscaler's decisions as the operator logged them, and a task that records each run.
import { readFileSync } from 'node:fs';
import type { DaskAutoscalingPolicySpec, WorkerGroupTemplate } from '../../operator/api/types.js';
import type { KubeEnv, OperatorProcess } from './kube-env.js';

export interface Scaled { time: string; cluster: string; group: string; from: number; to: number; recommended: number; reason: string }

/** The operator's "autoscaled" log lines for one cluster (namespace/name), in order. */
export function decisions(op: OperatorProcess, cluster: string, group?: string): Scaled[] {
  return op.output().split('\n').filter((l) => l.startsWith('{') && l.includes('"autoscaled"'))
    .map((l) => JSON.parse(l) as Scaled & { msg: string })
    .filter((d) => d.msg === 'autoscaled' && d.cluster === cluster && (group === undefined || d.group === group));
}

/** How often the direction of scaling changed (up then down counts one). */
export function directionChanges(ds: { from: number; to: number }[]): number {
  let changes = 0;
  let last = 0;
  for (const d of ds) {
    const dir = Math.sign(d.to - d.from);
    if (dir !== 0 && last !== 0 && dir !== last) changes++;
    if (dir !== 0) last = dir;
  }
  return changes;
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

/** A task that appends its number to `log` (so a second run shows), sleeps `ms`, and returns 2i. */
export const recordedSleep = async (a: { i: number; log: string; ms: number }): Promise<number> => {
  const fs = await import('node:fs');
  fs.appendFileSync(a.log, `${a.i}\n`);
  await new Promise((resolve) => setTimeout(resolve, a.ms));
  return a.i * 2;
};

/** How many times each task number ran, from its log. */
export function runCounts(log: string): Map<number, number> {
  const counts = new Map<number, number>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line) counts.set(Number(line), (counts.get(Number(line)) ?? 0) + 1);
  }
  return counts;
}
