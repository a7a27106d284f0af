// A LocalCluster and a connected Client for a test suite or a single test, always closed.
import { after, before } from 'node:test';
import { Client, LocalCluster, type LocalClusterOptions } from '../../index.js';

// A hung start or close fails its hook by name instead of the whole file timing out.
const HOOK_DEADLINE = { timeout: 60_000 };

export interface ClusterFixture {
  readonly cluster: LocalCluster;
  readonly client: Client;
}

/** Starts one cluster before the suite's tests and closes it after them. */
export function useCluster(options: LocalClusterOptions): ClusterFixture {
  let cluster: LocalCluster | undefined;
  let client: Client | undefined;
  before(async () => {
    cluster = await new LocalCluster({ dashboardPort: -1, ...options }).started();
    client = await Client.connect(cluster);
  }, HOOK_DEADLINE);
  after(async () => {
    await client?.close();
    await cluster?.close();
  }, HOOK_DEADLINE);
  return {
    get cluster() { return cluster!; },
    get client() { return client!; },
  };
}

/** Runs fn against a fresh cluster, closing it whatever happens. */
export async function withCluster(options: LocalClusterOptions, fn: (cluster: LocalCluster, client: Client) => Promise<void>): Promise<void> {
  const cluster = await new LocalCluster({ dashboardPort: -1, ...options }).started();
  const client = await Client.connect(cluster).catch(async (err: unknown) => { await cluster.close(); throw err; });
  try {
    await fn(cluster, client);
  } finally {
    await client.close();
    await cluster.close();
  }
}
