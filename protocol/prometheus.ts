// Prometheus exposition for the scheduler and the operator, with prom-client. Each server keeps
// its own Registry (never prom-client's global one), so several schedulers in one process
// (tests, LocalCluster) do not collide. The process's own figures (process_*, nodejs_*: memory,
// CPU, event loop, GC) describe the process, not a server: they live in one registry per
// process, started at the first scrape, so a process that nobody scrapes pays nothing for them.
import { collectDefaultMetrics, Registry } from 'prom-client';

/** What a /metrics endpoint answers. */
export interface Exposition { contentType: string; text: string }

let processRegistry: Registry | undefined;

/** The server's metrics, then the process's. */
export async function exposition(registry: Registry): Promise<Exposition> {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return { contentType: registry.contentType, text: (await registry.metrics()) + (await processRegistry.metrics()) };
}

/** `compute` run once per scrape however many metrics read it: prom-client calls every
 *  metric's collect() in one synchronous pass, so the value is dropped after that pass. */
export function perScrape<T>(compute: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => {
    if (!cached) {
      cached = { value: compute() };
      queueMicrotask(() => (cached = undefined));
    }
    return cached.value;
  };
}
