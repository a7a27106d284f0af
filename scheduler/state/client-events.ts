// Handlers for what clients do: submit graphs, hold and drop references, cancel.
// Each one updates references and leaves the consequences to recommendations.
import type { Core, TaskRecord } from './core.js';
import { transition } from './transitions.js';
import type { EventOf } from './types.js';

/** Tells one client where a key it just asked for already stands. */
function reportCurrent(c: Core, clientId: string, ts: TaskRecord): void {
  if (ts.state === 'memory') c.emit({ type: 'client-key', clientId, key: ts.key, state: 'finished', nbytes: ts.nbytes });
  else if (ts.state === 'erred') c.emit({ type: 'client-key', clientId, key: ts.key, state: 'erred', error: ts.error });
}

export function onUpdateGraph(c: Core, e: EventOf<'update-graph'>): void {
  c.client(e.clientId);
  const created: Array<[TaskRecord, string[]]> = [];
  for (const def of e.tasks) {
    if (!c.tasks.has(def.key)) created.push([c.newTask(def), def.dependencies]);
  }
  const missing: Array<[TaskRecord, string]> = [];
  for (const [ts, deps] of created) {
    for (const key of deps) {
      const dep = c.tasks.get(key);
      if (!dep || dep === ts) {
        missing.push([ts, key]);
        continue;
      }
      ts.dependencies.add(dep);
      dep.dependents.add(ts);
    }
  }
  wantKeys(c, e.clientId, e.wanted);
  for (const [ts] of created) c.recommend(ts, 'settle');
  // validateGraph should have refused these; if a dependency vanished meanwhile, fail the task.
  for (const [ts, key] of missing) {
    if (ts.state !== 'released') continue;
    ts.erredBy = {
      key: ts.key,
      error: { name: 'MissingDependency', message: `task "${ts.key}" depends on "${key}", which the scheduler does not know`, stack: '', worker: '' },
    };
    transition(c, ts, 'erred');
  }
}

export function onClientConnected(c: Core, e: EventOf<'client-connected'>): void {
  c.client(e.clientId);
}

export function onClientDisconnected(c: Core, e: EventOf<'client-disconnected'>): void {
  const refs = c.clients.get(e.clientId);
  c.clients.delete(e.clientId);
  for (const ts of refs ?? []) {
    ts.wantedBy.delete(e.clientId);
    c.recommend(ts, 'settle');
  }
}

export function onClientWantsKeys(c: Core, e: EventOf<'client-wants-keys'>): void {
  wantKeys(c, e.clientId, e.keys);
}

/** Gives the client a reference to each key and tells it the key's state now. */
function wantKeys(c: Core, clientId: string, keys: string[]): void {
  for (const key of keys) {
    const ts = c.tasks.get(key);
    if (!ts) {
      c.emit({ type: 'client-key', clientId, key, state: 'lost' });
      continue;
    }
    c.want(clientId, ts);
    reportCurrent(c, clientId, ts);
    if (ts.state === 'released') c.recommend(ts, 'settle'); // kept as lineage: recompute it
  }
}

export function onClientReleasesKeys(c: Core, e: EventOf<'client-releases-keys'>): void {
  for (const key of e.keys) {
    const ts = c.tasks.get(key);
    if (ts && c.unwant(e.clientId, ts)) c.recommend(ts, 'settle');
  }
}

/** Drops this client's references to the keys and everything downstream of them. */
export function onCancel(c: Core, e: EventOf<'cancel'>): void {
  const seen = new Set<TaskRecord>();
  const stack: TaskRecord[] = [];
  for (const key of e.keys) {
    const ts = c.tasks.get(key);
    if (ts) stack.push(ts);
  }
  for (let ts = stack.pop(); ts; ts = stack.pop()) {
    if (seen.has(ts)) continue;
    seen.add(ts);
    if (c.unwant(e.clientId, ts)) {
      c.emit({ type: 'client-key', clientId: e.clientId, key: ts.key, state: 'cancelled' });
      c.recommend(ts, 'settle');
    }
    for (const dts of ts.dependents) if (!seen.has(dts)) stack.push(dts);
  }
}
