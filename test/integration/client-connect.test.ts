// Client.connect's defaults: the address from $KUBEDASK_SCHEDULER_ADDRESS, and the dashboard
// link the scheduler reports.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client, KubedaskError, LocalCluster } from '../../index.js';

const PER_TEST = { timeout: 60_000 };

/** Runs fn with the variable set to `value` (or unset), then puts it back. */
async function withAddressEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.KUBEDASK_SCHEDULER_ADDRESS;
  if (value === undefined) delete process.env.KUBEDASK_SCHEDULER_ADDRESS;
  else process.env.KUBEDASK_SCHEDULER_ADDRESS = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.KUBEDASK_SCHEDULER_ADDRESS;
    else process.env.KUBEDASK_SCHEDULER_ADDRESS = saved;
  }
}

describe('Client.connect defaults', () => {
  it('connects to $KUBEDASK_SCHEDULER_ADDRESS when given no target, and reports the dashboard', PER_TEST, async () => {
    const cluster = await new LocalCluster({ workers: 1, dashboardPort: 0 }).started();
    try {
      const client = await withAddressEnv(`grpc://${cluster.address}`, () => Client.connect());
      try {
        assert.equal(client.address, cluster.address);
        assert.equal(await client.submit((x: number) => x + 1, 1).result(), 2);
        assert.ok(cluster.dashboardUrl, 'the cluster serves a dashboard');
        assert.equal(client.dashboardLink, cluster.dashboardUrl);
      } finally {
        await client.close();
      }
    } finally {
      await cluster.close();
    }
  });

  it('says what is missing when there is neither a target nor the variable', PER_TEST, async () => {
    await withAddressEnv(undefined, async () => {
      await assert.rejects(Client.connect(), (e: unknown) => e instanceof KubedaskError && /no scheduler address given and \$KUBEDASK_SCHEDULER_ADDRESS is not set/.test((e as Error).message));
    });
  });

  it('has an empty dashboard link when the scheduler serves no dashboard', PER_TEST, async () => {
    const cluster = await new LocalCluster({ workers: 1, dashboardPort: -1 }).started();
    try {
      const client = await Client.connect(cluster);
      assert.equal(client.dashboardLink, '');
      await client.close();
    } finally {
      await cluster.close();
    }
  });
});
