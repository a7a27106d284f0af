// How task functions travel: a self-contained function by its source, or an export of a
// module uploaded with client.upload(). Both get a stable id so each travels once.
import { createHash } from 'node:crypto';
import type { FunctionDef } from './messages.js';

// Carries the export's signature in the type only: a ModuleFunction is plain data at run time.
declare const signature: unique symbol;

/** Parameters that take anything: those of a function whose signature is not known. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyArgs = any[];

/** Any function a task may run. */
export type AnyFunction = (...args: AnyArgs) => unknown;

/**
 * A reference to an export of an uploaded module, usable wherever a function is. F is the
 * export's type when client.upload was given the module's type (see Client.upload).
 */
export interface ModuleFunction<F extends AnyFunction = AnyFunction> {
  readonly kind: 'kubedask-module-function';
  readonly module: string;
  readonly export: string;
  readonly [signature]?: F;
}

/**
 * A function, or an uploaded module's export, taking A and returning R (or a promise of it).
 * Plain `TaskFunction` is any of them: submit then checks nothing and gives a Future<unknown>.
 */
export type TaskFunction<A extends unknown[] = AnyArgs, R = unknown> =
  | ((...args: A) => R) | ModuleFunction<(...args: A) => R> | BuiltinFunction<(...args: A) => R> | AdaptedFunction<(...args: A) => R>;

/** A kernel built into kubedask (DataFrame, ML), run by name in the worker's own process. */
export interface BuiltinFunction<F extends AnyFunction = AnyFunction> {
  readonly kind: 'kubedask-builtin';
  readonly builtin: string;
  readonly [signature]?: F;
}

const builtins = new Map<string, BuiltinFunction>();

/** The built-in kernel `name` as a task function (one object per name, so its definition is cached). */
export function builtinFunction(name: string): BuiltinFunction {
  let fn = builtins.get(name);
  if (!fn) builtins.set(name, (fn = { kind: 'kubedask-builtin', builtin: name }));
  return fn;
}

/**
 * How a task thread hands values to a user function: "polars" passes Arrow IPC arguments as
 * nodejs-polars DataFrames and encodes a returned DataFrame as Arrow IPC (mapPartitions).
 */
export type FunctionAdapter = 'polars';

/** A user function (its source or an uploaded export) that its task thread calls through an adapter. */
export interface AdaptedFunction<F extends AnyFunction = AnyFunction> {
  readonly kind: 'kubedask-adapted';
  readonly adapter: FunctionAdapter;
  readonly fn: AnyFunction | ModuleFunction;
  readonly [signature]?: F;
}

const adapted = new WeakMap<object, AdaptedFunction>();

/** `fn` called through `adapter` (one object per function, so its definition is cached). */
export function adaptedFunction(fn: AnyFunction | ModuleFunction, adapter: FunctionAdapter): AdaptedFunction {
  if (typeof fn !== 'function' && !isModuleFunction(fn)) throw new TypeError(`expected a function or an uploaded module's export, got ${fn === null ? 'null' : typeof fn}`);
  let a = adapted.get(fn);
  if (!a) adapted.set(fn, (a = { kind: 'kubedask-adapted', adapter, fn }));
  return a;
}

function isAdapted(fn: unknown): fn is AdaptedFunction {
  return typeof fn === 'object' && fn !== null && (fn as AdaptedFunction).kind === 'kubedask-adapted';
}

function isBuiltin(fn: unknown): fn is BuiltinFunction {
  return typeof fn === 'object' && fn !== null && (fn as BuiltinFunction).kind === 'kubedask-builtin';
}

function isModuleFunction(fn: unknown): fn is ModuleFunction {
  return typeof fn === 'object' && fn !== null && (fn as ModuleFunction).kind === 'kubedask-module-function';
}

const cache = new WeakMap<object, FunctionDef>();

export function functionDef(fn: TaskFunction): FunctionDef {
  const hit = cache.get(fn);
  if (hit) return hit;
  let def: FunctionDef;
  if (isBuiltin(fn)) {
    def = { id: `builtin:${fn.builtin}`, name: fn.builtin.replace(/\W+/g, '-'), builtin: fn.builtin };
  } else if (isAdapted(fn)) {
    const inner = functionDef(fn.fn);
    if (inner.builtin) throw new TypeError(`a built-in kernel (${inner.builtin}) cannot run through an adapter`);
    def = { ...inner, id: `${fn.adapter}:${inner.id}`, adapter: fn.adapter };
  } else if (isModuleFunction(fn)) {
    def = { id: `module:${fn.module}#${fn.export}`, name: fn.export, module: fn.module, export: fn.export };
  } else if (typeof fn === 'function') {
    const source = fn.toString();
    if (source.includes('[native code]')) {
      throw new TypeError(`function ${fn.name || '(anonymous)'} is native or bound and cannot be sent to workers; wrap it in a plain function`);
    }
    const id = `src:${createHash('sha256').update(source).digest('hex').slice(0, 24)}`;
    def = { id, name: fn.name || 'lambda', source };
  } else {
    throw new TypeError(`expected a function or an uploaded module's export, got ${typeof fn}`);
  }
  cache.set(fn, def);
  return def;
}

/** client.upload's result: each function export of M as a task function with its signature. */
export type ModuleFunctions<M> = {
  [K in keyof M as M[K] extends AnyFunction ? K : never]: M[K] extends AnyFunction ? ModuleFunction<M[K]> : never;
};
