// Prometheus exposition for the scheduler and the operator, with prom-client. Each server keeps
// its own Registry (never prom-client's global one), so several schedulers in one process
// (tests, LocalCluster) do not collide. The process's own figures (process_*, nodejs_*: memory,
// CPU, event loop, GC) describe the process, not a server: they live in one registry per
// process, started at the first scrape, so a process that nobody scrapes pays nothing for them.
import { collectDefaultMetrics, Registry } from 'prom-client';

export const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

let processRegistry: Registry | undefined;

/** The text a /metrics endpoint serves: the server's metrics, then the process's. */
export async function exposition(registry: Registry): Promise<string> {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return (await registry.metrics()) + (await processRegistry.metrics());
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
