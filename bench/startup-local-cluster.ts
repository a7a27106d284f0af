// One timed LocalCluster start, run as its own process by `kubedask bench startup` so every run
// starts cold, as a user's script does: LocalCluster(2 workers, 1 thread each) from `new` to the
// first result. Imports come before the clock, as in the Dask peer. Prints one JSON line.
import { Client } from '../client/client.js';
import { LocalCluster } from '../client/local-cluster.js';

const t0 = performance.now();
const cluster = new LocalCluster({ workers: 2, threads: 1, dashboardPort: -1 });
try {
  await cluster.started();
  const registered = performance.now();
  const client = await Client.connect(cluster);
  const value = await client.submit((x: number) => x + 1, 1).result();
  const firstResult = performance.now();
  if (value !== 2) throw new Error(`first task returned ${String(value)}, not 2`);
  await client.close();
  process.stdout.write(`${JSON.stringify({ workers_registered_ms: registered - t0, first_result_ms: firstResult - t0 })}\n`);
} finally {
  await cluster.close();
}
