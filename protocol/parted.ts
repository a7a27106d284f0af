// A value made of parts that can each be read alone (a shuffle's split: one part per output
// bucket): a small header of offsets, then the parts' bytes. A holder serves part i of a value
// kept as bytes, or spilled to disk, by slicing or by reading that range of the file only,
// without decoding the rest.
//   "KDP1" | u32 count | f64 offsets[count + 1] (from the value's start) | part 0 | part 1 | ...
import { Encoding } from './value-codec.js';

const MAGIC = 0x3150444b; // "KDP1" read as a little-endian u32

/** What each part is: an Arrow IPC stream (shuffle splits, the only parted values, hold one per bucket). */
export const PART_ENCODING = Encoding.ENCODING_ARROW_IPC;

export function headerBytes(count: number): number {
  return 8 + 8 * (count + 1);
}

export function encodeParted(parts: readonly Uint8Array[]): Uint8Array {
  const head = headerBytes(parts.length);
  const out = new Uint8Array(head + parts.reduce((n, p) => n + p.byteLength, 0));
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, parts.length, true);
  let at = head;
  parts.forEach((p, i) => {
    view.setFloat64(8 + 8 * i, at, true);
    out.set(p, at);
    at += p.byteLength;
  });
  view.setFloat64(8 + 8 * parts.length, at, true);
  return out;
}

/** The part count when `bytes` starts a parted value (the first 8 bytes suffice), else undefined. */
export function partedCount(bytes: Uint8Array): number | undefined {
  if (bytes.byteLength < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return view.getUint32(0, true) === MAGIC ? view.getUint32(4, true) : undefined;
}

/** [start, end) of part i, read from a header (at least headerBytes(count) bytes). */
export function partRange(header: Uint8Array, index: number): [number, number] {
  const count = partedCount(header);
  if (count === undefined || index < 0 || index >= count) throw new RangeError(`no part ${index} in a value of ${count ?? 'no'} parts`);
  const view = new DataView(header.buffer, header.byteOffset, headerBytes(count));
  return [view.getFloat64(8 + 8 * index, true), view.getFloat64(8 + 8 * (index + 1), true)];
}

/** Part i of a whole parted value (a view, not a copy). */
export function partOf(bytes: Uint8Array, index: number): Uint8Array {
  const [start, end] = partRange(bytes, index);
  return bytes.subarray(start, end);
}

/** Every part of a whole parted value, in order (views). */
export function partsOf(bytes: Uint8Array): Uint8Array[] {
  const count = partedCount(bytes) ?? 0;
  return Array.from({ length: count }, (_, i) => partOf(bytes, i));
}
