// Whole-graph validation before anything is added: duplicate keys, unknown functions,
// dependencies that exist nowhere, bad resources, and cycles. Iterative throughout, so chains
// of any length and graphs of 100k tasks cannot overflow the stack.
import { GraphValidationError } from './errors.js';
import type { TaskDef } from './types.js';

export function validateGraph(
  tasks: TaskDef[],
  isKnownKey: (key: string) => boolean,
  isKnownFunction: (functionId: string) => boolean,
): void {
  const byKey = new Map<string, TaskDef>();
  for (const t of tasks) {
    if (typeof t.key !== 'string' || t.key === '') {
      throw new GraphValidationError('a task has an empty key', { key: String(t.key ?? ''), reason: 'invalid-key' });
    }
    if (byKey.has(t.key)) {
      throw new GraphValidationError(`task "${t.key}" appears more than once in the graph`, { key: t.key, reason: 'duplicate-key' });
    }
    byKey.set(t.key, t);
  }
  for (const t of tasks) checkTask(t, byKey, isKnownKey, isKnownFunction);
  findCycle(byKey);
}

function checkTask(
  t: TaskDef,
  byKey: ReadonlyMap<string, TaskDef>,
  isKnownKey: (key: string) => boolean,
  isKnownFunction: (functionId: string) => boolean,
): void {
  if (!isKnownFunction(t.functionId)) {
    throw new GraphValidationError(
      `task "${t.key}" uses function "${t.functionId}", which was neither sent with the graph nor uploaded before`,
      { key: t.key, reason: 'unknown-function' },
    );
  }
  for (const [name, amount] of Object.entries(t.resources ?? {})) {
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new GraphValidationError(`task "${t.key}" asks for resource ${name}=${String(amount)}; amounts must be finite and >= 0`,
        { key: t.key, reason: 'invalid-resources' });
    }
  }
  if (!Number.isInteger(t.retries ?? 0) || (t.retries ?? 0) < 0) {
    throw new GraphValidationError(`task "${t.key}" has retries=${String(t.retries)}; it must be a whole number >= 0`,
      { key: t.key, reason: 'invalid-retries' });
  }
  if (!Number.isFinite(t.priority ?? 0)) {
    throw new GraphValidationError(`task "${t.key}" has priority=${String(t.priority)}; it must be a finite number`,
      { key: t.key, reason: 'invalid-priority' });
  }
  for (const dep of t.dependencies) {
    if (dep === t.key) {
      throw new GraphValidationError(`task "${t.key}" depends on itself`, { key: t.key, reason: 'cycle', cycle: [t.key] });
    }
    if (!byKey.has(dep) && !isKnownKey(dep)) {
      throw new GraphValidationError(
        `task "${t.key}" depends on "${dep}", which is neither in the graph nor known to the scheduler`,
        { key: t.key, reason: 'missing-dependency' },
      );
    }
  }
}

/**
 * Depth-first search with an explicit stack over the submitted tasks only (tasks the
 * scheduler already knows cannot depend on new ones). A dependency found "on the path"
 * closes a cycle; the path from it to the top of the stack is that cycle.
 */
function findCycle(byKey: ReadonlyMap<string, TaskDef>): void {
  const done = new Set<string>();
  const onPath = new Map<string, number>(); // key -> its index in `path`
  const path: string[] = [];
  const next: number[] = []; // per path entry: index of the next dependency to visit
  for (const start of byKey.keys()) {
    if (done.has(start)) continue;
    path.push(start);
    next.push(0);
    onPath.set(start, 0);
    while (path.length > 0) {
      const top = path.length - 1;
      const deps = (byKey.get(path[top] as string) as TaskDef).dependencies;
      const i = next[top] as number;
      if (i >= deps.length) {
        const key = path.pop() as string;
        next.pop();
        onPath.delete(key);
        done.add(key);
        continue;
      }
      next[top] = i + 1;
      const dep = deps[i] as string;
      if (done.has(dep) || !byKey.has(dep)) continue;
      const at = onPath.get(dep);
      if (at !== undefined) {
        const cycle = path.slice(at);
        throw new GraphValidationError(
          `the graph has a cycle: ${[...cycle, dep].map((k) => `"${k}"`).join(' -> ')}`,
          { key: dep, reason: 'cycle', cycle },
        );
      }
      onPath.set(dep, path.length);
      path.push(dep);
      next.push(0);
    }
  }
}
