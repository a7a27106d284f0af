// Reading a pod's status the way a person would: is it going away, done, ready, stuck in
// scheduling, or failing to start? The answers feed plans and the truthful conditions.
import type { IPod } from 'kubernetes-models/v1/Pod';

export const isTerminating = (o: { metadata?: { deletionTimestamp?: string } }): boolean => Boolean(o.metadata?.deletionTimestamp);
export const isFinished = (p: IPod): boolean => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
export const isReady = (p: IPod): boolean =>
  p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Why a pod cannot start, or undefined while it is fine (or simply still starting). */
export interface PodProblem { reason: string; message: string }

/** Waiting reasons of a container whose image the node cannot get. */
const IMAGE_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);
/** Waiting reasons of a container that waiting does not cure. */
export const START_FAILURES: ReadonlySet<string> = new Set(['CrashLoopBackOff', ...IMAGE_FAILURES, 'CreateContainerError', 'CreateContainerConfigError', 'RunContainerError']);

export function podProblem(p: IPod): PodProblem | undefined {
  const scheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { reason: 'Unschedulable', message: `pod ${p.metadata?.name} cannot be scheduled: ${scheduled.message ?? 'no node fits it'}` };
  }
  for (const c of p.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && IMAGE_FAILURES.has(waiting.reason)) {
      // Named from the spec, whatever the runtime's message says (or leaves out).
      const image = p.spec?.containers.find((s) => s.name === c.name)?.image ?? c.image;
      return { reason: waiting.reason, message: `pod ${p.metadata?.name}: container ${c.name} cannot pull image "${image}" (${waiting.reason})${waiting.message ? `: ${waiting.message}` : ''}` };
    }
    if (waiting?.reason && START_FAILURES.has(waiting.reason)) {
      const last = c.lastState?.terminated;
      const exit = last ? ` (last exit code ${last.exitCode}${last.message ? `: ${last.message}` : ''})` : '';
      return { reason: waiting.reason, message: `container ${c.name} of pod ${p.metadata?.name}: ${waiting.message ?? waiting.reason}${exit}` };
    }
    // Between two crashes the container runs for a moment: still crash-looping, so the
    // condition does not flip with every restart.
    const last = c.lastState?.terminated;
    if (!c.ready && (c.restartCount ?? 0) >= 1 && last && last.exitCode !== 0) {
      return { reason: 'CrashLoopBackOff', message: `container ${c.name} of pod ${p.metadata?.name} keeps exiting (last exit code ${last.exitCode}${last.message ? `: ${last.message}` : ''})` };
    }
  }
  if (p.status?.phase === 'Failed') {
    const t = p.status.containerStatuses?.find((c) => c.state?.terminated)?.state?.terminated;
    return { reason: 'PodFailed', message: `pod ${p.metadata?.name} failed${t ? ` with exit code ${t.exitCode}` : ''}${p.status.message ? `: ${p.status.message}` : ''}` };
  }
  return undefined;
}
