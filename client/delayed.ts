// Lazy task graphs, as dask.delayed: nothing runs until client.compute() or persist().
import { KeyRef, newKey, type TaskOptions } from './graph-builder.js';
import { findNested, replaceNested } from './nested.js';
import { functionDef, type TaskFunction } from './task-functions.js';
import type { DelayedArgsOf, ResultOf } from './typed-args.js';

// The value's type, carried in the type only.
declare const valueType: unique symbol;

/** A node of a lazy graph whose task will give a T. */
export class Delayed<T = unknown> {
  declare readonly [valueType]?: T;

  constructor(
    readonly key: string,
    readonly fn: TaskFunction,
    readonly args: unknown[],
    readonly options: Omit<TaskOptions, 'key'>,
  ) {}
}

/**
 * Wraps fn so that calling it builds a Delayed node instead of running it. Each argument may be
 * a value, a Future or another Delayed of the type fn expects, also inside arrays and plain objects.
 */
export function delayed<A extends unknown[], R>(fn: TaskFunction<A, R>, options: Omit<TaskOptions, 'key'> = {}): (...args: DelayedArgsOf<A>) => Delayed<ResultOf<R>> {
  const name = functionDef(fn).name || 'task';
  return (...args) => new Delayed(newKey(name), fn, args, options);
}

const isDelayed = (v: unknown): v is Delayed => v instanceof Delayed;

/** A node's arguments as a task takes them: each Delayed in them becomes a reference to its key. */
export function argsWithKeyRefs(node: Delayed): unknown[] {
  return node.args.map((arg) => replaceNested(arg, (v) => (isDelayed(v) ? { value: new KeyRef(v.key) } : undefined)));
}

/** Every Delayed reachable from the roots (in arguments, arrays and plain objects), dependencies first. */
export function collectGraph(roots: readonly Delayed[]): Delayed[] {
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
    for (const dep of findNested(top.node.args, isDelayed)) if (!seen.has(dep.key)) stack.push({ node: dep, expanded: false });
  }
  return order;
}
