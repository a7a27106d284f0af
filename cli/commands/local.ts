import { visibleGpus } from '../../client/gpus.js';
import { LocalCluster } from '../../client/local-cluster.js';
import { KubedaskError } from '../../protocol/errors.js';
import { onShutdownSignal } from '../signals.js';

/** `kubedask local` options, as ../definitions/local.ts defines them. */
export interface LocalFlags {
  workers: number;
  threads: number;
  memoryLimit: number;
  port: number;
  dashboardPort: number;
  /** One worker per visible GPU instead of --workers. */
  gpus?: boolean;
}

export async function localCommand(flags: LocalFlags): Promise<void> {
  const gpus = flags.gpus ? visibleGpus() : undefined;
  if (gpus?.length === 0) throw new KubedaskError('--gpus: no GPU is visible (CUDA_VISIBLE_DEVICES hides them all, or `nvidia-smi -L` lists none or is not installed)');
  const cluster = new LocalCluster({
    workers: flags.workers, threads: flags.threads, memoryLimit: flags.memoryLimit,
    port: flags.port, dashboardPort: flags.dashboardPort, workerOutput: 'inherit', ...(gpus ? { gpus } : {}),
  });
  onShutdownSignal(() => cluster.close());
  await cluster.started();
  const perGpu = gpus ? `${gpus.length} worker(s), one per GPU (${gpus.join(', ')}), each with resource GPU=1\n` : '';
  process.stdout.write(`${perGpu}scheduler at grpc://${cluster.address}\ndashboard at ${cluster.dashboardUrl}\npress Ctrl-C to stop\n`);
  await new Promise(() => undefined);
}
