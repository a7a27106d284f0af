// Turns submit()/map() calls into wire TaskSpecs: futures among the arguments become
// dependencies, everything else is encoded as a literal value.
import { encodeValue, keyPlaceholder } from '../protocol/values.js';
import { Future } from './future.js';
import type { FunctionDef, TaskArg, TaskSpec } from './messages.js';
import { replaceNested } from './nested.js';
import { functionDef, type TaskFunction } from './task-functions.js';

export interface TaskOptions {
  /** Key to use instead of a generated one. */
  key?: string;
  /** Resources each run needs, e.g. { GPU: 1 }. */
  resources?: Record<string, number>;
  retries?: number;
  priority?: number;
  /** The task group (dashboard, progress); the function's name by default. */
  group?: string;
  /**
   * Internal (the DataFrame's shuffles): the task waits for its dependencies without their
   * data and runs with where each one is; they stay in memory while its result does.
   */
  barrier?: boolean;
  /**
   * Internal (ML shard kernels, predictOnnx): the task runs where its largest own dependency
   * (one no other task reads; else its largest) is, never moved to balance load, as Dask's
   * workers= with allow_other_workers=False.
   */
  stayWithData?: boolean;
}

export interface BuiltTask {
  spec: TaskSpec;
  fn: FunctionDef;
  /** Whether the client holds a Future for it (interior nodes of a delayed graph do not). */
  wanted: boolean;
}

/** A dependency on a key without holding a Future for it (delayed graphs' interior edges). */
export class KeyRef {
  constructor(readonly key: string) {}
}

let counter = 0;
const session = Math.random().toString(36).slice(2, 8);

export function newKey(prefix: string): string {
  counter += 1;
  return `${prefix}-${session}${counter.toString(36)}`;
}

export function buildTask(fn: TaskFunction, args: unknown[], options: TaskOptions = {}, wanted = true): BuiltTask {
  const def = functionDef(fn);
  const key = options.key ?? newKey(def.name || 'task');
  const dependencies = new Set<string>();
  const wireArgs = args.map((arg, i): TaskArg => encodeArg(arg, dependencies, `argument ${i} of ${def.name || 'task'}`));
  return {
    fn: def,
    wanted,
    spec: {
      key,
      functionId: def.id,
      args: wireArgs,
      dependencies: [...dependencies],
      resources: options.resources ?? {},
      retries: options.retries ?? 0,
      priority: options.priority ?? 0,
      group: options.group ?? (def.name || 'task'),
      ...(options.barrier ? { barrier: true } : {}),
      ...(options.stayWithData ? { stayWithData: true } : {}),
    },
  };
}

function encodeArg(arg: unknown, dependencies: Set<string>, where: string): TaskArg {
  if (arg instanceof Future || arg instanceof KeyRef) {
    dependencies.add(arg.key);
    return { key: arg.key };
  }
  return { value: encodeValue(replaceFutures(arg, dependencies), where) };
}

/**
 * Futures nested in arrays and plain objects become {"$kd_key": key} placeholders; everything
 * else is left to the codec, which sends it faithfully or refuses it naming where it was.
 */
function replaceFutures(value: unknown, dependencies: Set<string>): unknown {
  return replaceNested(value, (v) => {
    if (!(v instanceof Future || v instanceof KeyRef)) return undefined;
    dependencies.add(v.key);
    return { value: keyPlaceholder(v.key) };
  });
}
