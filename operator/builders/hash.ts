// A stable short hash of plain JSON-like values: FNV-1a 64 over canonical JSON (keys sorted,
// undefined dropped), so the same inputs give the same hash whatever their key order.
import { configure } from 'safe-stable-stringify';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

// safe-stable-stringify sorts keys by UTF-16 code units, as Array.prototype.sort does: its output
// is byte-identical to the hand-written version it replaced, so the hashes annotated on running
// clusters' objects stay the same (test/unit/operator-hash-fixture.test.ts). A cycle is an error.
const stableStringify = configure({ deterministic: true, circularValue: TypeError });

/** JSON with object keys sorted at every level; undefined members are left out as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return stableStringify(value) ?? 'null';
}

/** FNV-1a 64 of the UTF-8 bytes of `text`, as 16 hex digits. */
export function fnv1a64(text: string): string {
  let h = FNV_OFFSET;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * FNV_PRIME) & MASK;
  }
  return h.toString(16).padStart(16, '0');
}

export function hashOf(value: unknown): string {
  return fnv1a64(canonicalJson(value));
}
