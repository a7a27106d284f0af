// Query parameters as the API server and the kubelet read them: booleans as Go's strconv.ParseBool
// accepts them where it matters (true, 1), integers strictly.
import { badRequest } from './errors.js';

export function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === 'true' || v === '1';
}

/** Undefined when absent or empty; a value that is not an integer is a 400. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`invalid ${name}: ${v}`);
  return n;
}
