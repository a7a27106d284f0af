// Seeded random numbers (mulberry32): a fit with the same seed repeats exactly.
export function seededRandom(seed: number): () => number {
  return mulberry32(seed ^ 0x5bd1e995);
}

/** The mulberry32 stream from this 32-bit state. */
export function mulberry32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
