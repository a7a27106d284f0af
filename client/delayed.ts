// Lazy task graphs, as dask.delayed: nothing runs until client.compute() or persist().
import { newKey, type TaskOptions } from './graph-builder.js';
import { functionDef, type TaskFunction } from './task-functions.js';

export class Delayed {
  constructor(
    readonly key: string,
    readonly fn: TaskFunction,
    readonly args: unknown[],
    readonly options: Omit<TaskOptions, 'key'>,
  ) {}
}

/** Wraps fn so that calling it builds a Delayed node instead of running it. */
export function delayed(fn: TaskFunction, options: Omit<TaskOptions, 'key'> = {}): (...args: unknown[]) => Delayed {
  const name = functionDef(fn).name || 'task';
  return (...args: unknown[]) => new Delayed(newKey(name), fn, args, options);
}

/** Every Delayed reachable from the roots (top-level arguments), dependencies first. */
export function collectGraph(roots: Delayed[]): Delayed[] {
  const order: Delayed[] = [];
  const seen = new Set<string>();
  const stack: { node: Delayed; expanded: boolean }[] = roots.map((node) => ({ node, expanded: false }));
  while (stack.length) {
    const top = stack.pop()!;
    if (top.expanded) {
      order.push(top.node);
      continue;
    }
    if (seen.has(top.node.key)) continue;
    seen.add(top.node.key);
    stack.push({ node: top.node, expanded: true });
    for (const arg of top.node.args) if (arg instanceof Delayed && !seen.has(arg.key)) stack.push({ node: arg, expanded: false });
  }
  return order;
}
