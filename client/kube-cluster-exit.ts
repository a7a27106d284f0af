// Best effort, as dask-kubernetes does: a DaskCluster this process created is deleted when the
// process is interrupted (SIGINT, SIGTERM) or runs out of work without close(), so a Ctrl-C
// during or after create() does not leave it running (and billing) forever.
import type { KubeSession } from './kube-cluster-session.js';

interface Owned { session: KubeSession; namespace: string; name: string; uid: string }

const owned = new Set<Owned>();
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
let installed = false;

/** Deletes `c` at exit unless forgotten first (close() or a failed create() took care of it). */
export function deleteAtExit(c: Owned): () => void {
  install();
  owned.add(c);
  return () => { owned.delete(c); };
}

async function deleteAll(): Promise<void> {
  const all = [...owned];
  owned.clear();
  // The uid precondition: never a cluster of the same name made since by someone else.
  await Promise.all(all.map((c) => c.session.delete(c.namespace, c.name, c.uid).catch(() => undefined)));
}

function onSignal(signal: NodeJS.Signals): void {
  void deleteAll().finally(() => {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    installed = false;
    // With no other handler the signal's default (ending the process) applies, as without ours.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  });
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('beforeExit', () => { if (owned.size) void deleteAll(); });
}
