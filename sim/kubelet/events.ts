// The kubelet's Events about a pod (Failed, BackOff, ...), counted as the real event recorder
// counts them: the same reason and message about the same object raises `count` on one
// Event instead of writing another, so a back-off loop never floods `kubectl get events`.
import type { KubeObject, Rest } from './rest.js';

interface Recorded { name: string; count: number }

export class PodEventRecorder {
  /** pod uid -> (type, reason, message, fieldPath) -> the Event written for it. */
  private readonly recorded = new Map<string, Map<string, Recorded>>();
  /** The write in flight per pod and key: a repeat waits for it, so it never patches an Event
   *  whose create has not returned (and whose count it would then lose). */
  private readonly writing = new Map<string, Promise<void>>();
  private written = 0;

  constructor(private readonly rest: Rest) {}

  record(pod: KubeObject, fieldPath: string, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const key = JSON.stringify([uidOf(pod), type, reason, message, fieldPath]);
    const next = (this.writing.get(key) ?? Promise.resolve()).then(() => this.write(pod, key, fieldPath, type, reason, message));
    this.writing.set(key, next);
    void next.then(() => { if (this.writing.get(key) === next) this.writing.delete(key); });
    return next;
  }

  /** A deleted pod's events are not counted on any more. */
  forget(pod: KubeObject): void {
    this.recorded.delete(uidOf(pod));
  }

  private async write(pod: KubeObject, key: string, fieldPath: string, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = pod.metadata.namespace ?? 'default';
    const uid = uidOf(pod);
    const ofPod = this.recorded.get(uid) ?? new Map<string, Recorded>();
    this.recorded.set(uid, ofPod);
    const now = new Date().toISOString();
    const seen = ofPod.get(key);
    if (seen) {
      seen.count += 1;
      await this.rest.mergePatch(`/api/v1/namespaces/${ns}/events/${seen.name}`, { count: seen.count, lastTimestamp: now }).catch(() => undefined);
      return;
    }
    const name = `${pod.metadata.name}.${(Date.now() * 1000 + (this.written++ % 1000)).toString(16)}`;
    const host = String((pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '');
    // Not written: not remembered, so the next occurrence writes it afresh.
    await this.rest.create(`/api/v1/namespaces/${ns}/events`, {
      apiVersion: 'v1', kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, namespace: ns, uid: pod.metadata.uid, fieldPath },
      type, reason, message, count: 1, firstTimestamp: now, lastTimestamp: now,
      source: { component: 'kubelet', host }, reportingComponent: 'kubelet', reportingInstance: host,
    }).then(() => { ofPod.set(key, { name, count: 1 }); }, () => undefined);
  }
}

function uidOf(pod: KubeObject): string {
  return pod.metadata.uid ?? `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}
