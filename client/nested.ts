// One walk over task arguments and gather inputs: arrays and plain objects are looked into,
// as the value codec looks into them; every other value is a leaf.
import { isPlainObject, setOwn } from '../protocol/value-tags.js';

/**
 * A copy of value where each node `swap` claims (returns { value }) is replaced; the walk goes
 * into the arrays and plain objects `swap` leaves alone. Other values are kept as they are.
 * A copied plain object has its own string keys only: symbol-keyed properties are left out, as
 * they are when a value is sent (the value codec carries string keys only).
 */
export function replaceNested(value: unknown, swap: (v: unknown) => { value: unknown } | undefined): unknown {
  const swapped = swap(value);
  if (swapped) return swapped.value;
  if (Array.isArray(value)) return value.map((v) => replaceNested(v, swap));
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    // setOwn: an own "__proto__" key stays a key, not the copy's prototype.
    for (const [k, v] of Object.entries(value)) setOwn(out, k, replaceNested(v, swap));
    return out;
  }
  return value;
}

/** Every node of value that `pick` picks, in arrays and plain objects, not looking inside those picked. */
export function findNested<T>(value: unknown, pick: (v: unknown) => v is T, found: T[] = []): T[] {
  // Its own walk, not replaceNested's: a search need not build a copy to throw away.
  if (pick(value)) found.push(value);
  else if (Array.isArray(value)) for (const v of value) findNested(v, pick, found);
  else if (value !== null && typeof value === 'object' && isPlainObject(value)) for (const v of Object.values(value)) findNested(v, pick, found);
  return found;
}
