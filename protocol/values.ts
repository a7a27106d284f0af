// The value codec as clients use it: protocol/value-codec.ts with apache-arrow bound, so Arrow
// tables encode and decode like any other value. (Task threads use value-codec.ts directly and
// load Arrow only when a task meets a table.)
import * as arrow from 'apache-arrow';
import * as codec from './value-codec.js';

export { Encoding, KEY_PLACEHOLDER, isArrowTable, keyPlaceholder, substituteKeys, type EncodedValue } from './value-codec.js';

export function encodeValue(value: unknown, where?: string): codec.EncodedValue {
  return codec.encodeValue(value, arrow, where);
}

export function decodeValue(encoded: codec.EncodedValue): unknown {
  return codec.decodeValue(encoded, arrow);
}
