// Where the operator's gRPC channel to a scheduler goes. In the cluster, the scheduler Service's
// DNS name (the address in the cluster's status). Run on a laptop against a cluster, or against
// kube-sim, that name does not resolve: then through a port-forward to the scheduler pod via the
// API server, opened once per cluster, reused by every call and closed when the cluster goes.
import { promises as dns } from 'node:dns';
import type { KubeApi } from '../k8s/kube-api.js';
import { forwardService, type LocalForward } from '../k8s/port-forward.js';

export interface SchedulerDialer {
  /** The gRPC target for a scheduler address (`host:port`). */
  target(address: string): Promise<string>;
  /** Closes what was opened for the address (the cluster is gone). */
  forget(address: string): void;
  close(): void;
}

/** Dials addresses as they are. */
export const directDialer: SchedulerDialer = { target: async (address) => address, forget: () => undefined, close: () => undefined };

/** `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`: a Service's name and namespace. */
export function serviceOf(host: string): { service: string; namespace: string } | undefined {
  const parts = host.replace(/\.$/, '').split('.');
  if (parts.length === 2 || (parts.length === 3 && parts[2] === 'svc') || (parts.length === 5 && parts.slice(2).join('.') === 'svc.cluster.local')) {
    return { service: parts[0]!, namespace: parts[1]! };
  }
  return undefined;
}

const UNRESOLVED = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL']);

export interface DialerOptions {
  /** Name resolution (tests replace it). */
  lookup?: (host: string) => Promise<unknown>;
  /** A tunnel could not be opened (no ready pod, the API server refused): the call will fail and be retried. */
  onError?: (address: string, err: Error) => void;
  /** A port-forward was opened for an address. */
  onForward?: (address: string, local: string) => void;
  /** The port-forward of an address was closed (its cluster is gone). */
  onClose?: (address: string) => void;
}

/** The Service address where its name resolves, else a port-forward through the API server. */
export function serviceDialer(api: KubeApi, o: DialerOptions = {}): SchedulerDialer {
  const kc = api.kubeConfig;
  // In a pod, Service names resolve: a failed lookup there is a DNS hiccup to retry, not a
  // reason to tunnel through the API server (whose RBAC the operator's role does not grant).
  if (!kc || api.inCluster) return directDialer;
  const lookup = o.lookup ?? ((host: string) => dns.lookup(host));
  const forwards = new Map<string, Promise<LocalForward>>();
  // Dials still resolving the name, per address: forget() cancels them, so a forward is not
  // opened after its cluster is gone (nothing would close it).
  const dialing = new Map<string, Set<{ cancelled: boolean }>>();
  const gone = (address: string) => new Error(`${address}: the cluster was forgotten while its address was being resolved`);
  return {
    async target(address) {
      const open = forwards.get(address);
      if (open) return (await open).address;
      const i = address.lastIndexOf(':');
      const host = address.slice(0, i);
      const svc = serviceOf(host);
      if (!svc || i < 0) return address;
      const dial = { cancelled: false };
      const pending = dialing.get(address) ?? new Set();
      dialing.set(address, pending.add(dial));
      try {
        await lookup(host);
        return address;
      } catch (err) {
        if (!UNRESOLVED.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      } finally {
        pending.delete(dial);
        if (pending.size === 0 && dialing.get(address) === pending) dialing.delete(address);
      }
      if (dial.cancelled) throw gone(address);
      // A second caller meanwhile shares the first one's forward.
      const again = forwards.get(address);
      if (again) return (await again).address;
      const forward = forwardService(kc, api, { ...svc, port: Number(address.slice(i + 1)) }, { onError: (err) => o.onError?.(address, err) });
      forwards.set(address, forward);
      forward.then((f) => o.onForward?.(address, f.address), () => forwards.delete(address));
      return (await forward).address;
    },
    forget(address) {
      for (const dial of dialing.get(address) ?? []) dial.cancelled = true;
      dialing.delete(address);
      const f = forwards.get(address);
      if (!f) return;
      forwards.delete(address);
      void f.then((x) => x.close(), () => undefined).then(() => o.onClose?.(address));
    },
    close() {
      for (const address of new Set([...forwards.keys(), ...dialing.keys()])) this.forget(address);
    },
  };
}
