import { LocalCluster } from '../../client/local-cluster.js';
import { onShutdownSignal } from '../signals.js';

/** `kubedask local` options, as ../definitions/local.ts defines them. */
export interface LocalFlags {
  workers: number;
  threads: number;
  memoryLimit: number;
  port: number;
  dashboardPort: number;
}

export async function localCommand(flags: LocalFlags): Promise<void> {
  const cluster = new LocalCluster({
    workers: flags.workers, threads: flags.threads, memoryLimit: flags.memoryLimit,
    port: flags.port, dashboardPort: flags.dashboardPort, workerOutput: 'inherit',
  });
  onShutdownSignal(() => cluster.close());
  await cluster.started();
  process.stdout.write(`scheduler at grpc://${cluster.address}\ndashboard at ${cluster.dashboardUrl}\npress Ctrl-C to stop\n`);
  await new Promise(() => undefined);
}
