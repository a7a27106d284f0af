// The types that let submit, map, delayed and gather follow a task function's signature: a
// Future<T> (or, in a delayed graph, a Delayed<T>) may stand wherever a T is expected, at the
// top level or inside arrays and plain objects, because the worker passes the task its value.
import type { Delayed } from './delayed.js';
import type { Future } from './future.js';

/** Values that travel whole: a Future inside one is refused, so the types do not look inside. */
type Opaque = ReadonlyMap<unknown, unknown> | ReadonlySet<unknown> | Date | ArrayBuffer | ArrayBufferView | ((...args: never[]) => unknown);

type Handle<T, Lazy extends boolean> = Future<T> | (Lazy extends true ? Delayed<T> : never);

type StandIn<T, Lazy extends boolean> =
  | T
  | Handle<T, Lazy>
  | (T extends Opaque ? never
    : T extends object ? { [K in keyof T]: StandIn<T[K], Lazy> }
    : never);

/** What may be passed where a task expects a T: the value, a Future of it, or arrays and plain objects holding such. */
export type ArgOf<T> = StandIn<T, false>;

/** A task's parameter list with a Future allowed for each value. */
export type ArgsOf<A extends readonly unknown[]> = { [K in keyof A]: ArgOf<A[K]> };

/** A delayed function's parameter list: each value may also be a Future or a Delayed. */
export type DelayedArgsOf<A extends readonly unknown[]> = { [K in keyof A]: StandIn<A[K], true> };

/** Keys of X's function-valued properties (methods): a class instance has some, data has none. */
type MethodKeys<X> = { [K in keyof X]-?: Extract<X[K], (...args: never[]) => unknown> extends never ? never : K }[keyof X];

/**
 * What gather gives for x: each Future replaced by its value, arrays and plain objects kept.
 * gather walks only arrays and plain objects; the types cannot tell a plain object from a class
 * instance, so an object with methods (a class instance, an Arrow Table) is taken as given,
 * unchanged, as are Map, Set, Date and binary data.
 */
export type Gathered<X> =
  X extends Future<infer T> ? T
  : X extends Opaque ? X
  : X extends readonly unknown[] ? { -readonly [K in keyof X]: Gathered<X[K]> }
  : X extends object ? ([MethodKeys<X>] extends [never] ? { -readonly [K in keyof X]: Gathered<X[K]> } : X)
  : X;

/** One Future per Delayed, keeping an array's or tuple's shape (compute, persist). */
export type FuturesOf<L extends readonly Delayed[]> = { -readonly [K in keyof L]: L[K] extends Delayed<infer T> ? Future<T> : never };

/** What a task returning R gives: R's promise unwrapped, and a top-level undefined as null (as it travels). */
export type ResultOf<R> = UndefinedAsNull<Awaited<R>>;
type UndefinedAsNull<V> = V extends undefined ? null : V;
