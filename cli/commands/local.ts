import { LocalCluster } from '../../client/local-cluster.js';
import { parse, parseCount, parsePort, parseSize } from '../options.js';
import { onShutdownSignal } from '../signals.js';


export async function localCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    workers: { type: 'string' }, threads: { type: 'string' }, 'memory-limit': { type: 'string' },
    port: { type: 'string' }, 'dashboard-port': { type: 'string' },
  });
  const cluster = new LocalCluster({
    workers: parseCount(v.workers, '--workers', 2),
    threads: parseCount(v.threads, '--threads', 1),
    memoryLimit: parseSize(v['memory-limit'], '--memory-limit'),
    port: parsePort(v.port, '--port', 8786),
    dashboardPort: parsePort(v['dashboard-port'], '--dashboard-port', 8787),
    workerOutput: 'inherit',
  });
  onShutdownSignal(() => cluster.close());
  await cluster.started();
  process.stdout.write(`scheduler at grpc://${cluster.address}\ndashboard at ${cluster.dashboardUrl}\npress Ctrl-C to stop\n`);
  await new Promise(() => undefined);
}
