// Compile-time assertions: `expectType<Equal<A, B>>()` fails the build (npm run build, so
// npm test) unless A and B are the same type. Nothing here runs.

/** true when A and B are identical types (any and unknown included), false otherwise. */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;

/** Compiles only when T is true. */
export function expectType<T extends true>(..._proof: T[]): void {}
