// Compiles a task function sent as source (Function.prototype.toString of the client's function).
//
// Code compiled by esbuild (and so tsx) with keepNames wraps named inner functions and classes in
// `__name(fn, "name")`, a helper defined once at the top of the client's module, which a
// function's own source does not carry: the compiled function gets a `__name` of its own.
import type { ThreadFunction } from './pool-protocol.js';

export type Fn = (...args: unknown[]) => unknown;

/** esbuild's helper: sets a function's or class's name and returns it. */
function keepName<T extends object>(target: T, value: string): T {
  return Object.defineProperty(target, 'name', { value, configurable: true });
}

export function compileFunction(def: Pick<ThreadFunction, 'source' | 'name'>): Fn {
  const source = def.source ?? '';
  let f: unknown;
  try {
    f = new Function('__name', `return (${source}\n);`)(keepName);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // Method shorthand (`name(x) { ... }`), as Function.prototype.toString gives for methods.
    const holder = new Function('__name', `return ({${source}\n});`)(keepName) as Record<string, unknown>;
    f = holder[Object.keys(holder)[0] ?? ''];
  }
  if (typeof f !== 'function') throw new TypeError(`source of ${def.name || 'task function'} is not a function`);
  return f as Fn;
}
