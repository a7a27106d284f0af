// Memory a kernel family keeps only to go faster (ml's pool of buffers for reuse), let go when
// the worker's data store has to spill: the data it holds comes first.
const releasers = new Set<() => void>();

/** Calls `release` whenever the worker is short of memory. */
export function onMemoryPressure(release: () => void): void {
  releasers.add(release);
}

/** The worker is short of memory (its data store spilled): what is kept only for speed goes. */
export function memoryPressure(): void {
  for (const release of releasers) release();
}
