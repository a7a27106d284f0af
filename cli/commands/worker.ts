import type { LogLevel } from '../../protocol/log.js';
import { startWorker } from '../../worker/runtime/worker.js';
import type { TlsFlags } from '../definitions/option.js';
import { onShutdownSignal } from '../signals.js';
import { tlsFromFlags } from '../tls-files.js';

/** `kubedask worker` options, as ../definitions/worker.ts defines them. */
export interface WorkerFlags extends TlsFlags {
  scheduler: string;
  nthreads: number;
  memoryLimit: number;
  resources: Record<string, number>;
  name: string;
  group: string;
  host: string;
  advertiseHost?: string;
  port: number;
  metricsPort: number;
  connectTimeout: number;
  exitWithParent?: boolean;
  logLevel: LogLevel;
  logLines: number;
}

export async function workerCommand(flags: WorkerFlags): Promise<void> {
  const tls = tlsFromFlags(flags);
  // Polars sizes its process-wide pool at the first query: keep it to this worker's threads.
  process.env.POLARS_MAX_THREADS ??= String(flags.nthreads);
  // Bound to every interface, a worker advertises --advertise-host, else $POD_IP (a pod's IP from
  // the downward API), else its first non-internal IPv4 address (see WorkerOptions.advertiseHost).
  const wildcard = flags.host === '0.0.0.0' || flags.host === '::' || flags.host === '[::]';
  const worker = await startWorker({
    scheduler: flags.scheduler,
    name: flags.name,
    nthreads: flags.nthreads,
    memoryLimit: flags.memoryLimit,
    resources: flags.resources,
    group: flags.group,
    host: flags.host,
    advertiseHost: flags.advertiseHost || (wildcard && process.env.POD_IP) || undefined,
    port: flags.port,
    metricsPort: flags.metricsPort,
    reconnectTimeoutMs: flags.connectTimeout * 1000,
    logLevel: flags.logLevel,
    logLines: flags.logLines,
    tls,
  });
  process.stdout.write(`worker ${worker.name} serving data at ${worker.address}\n${worker.metricsUrl ? `metrics at ${worker.metricsUrl}\n` : ''}`);
  onShutdownSignal(() => worker.close('signal'));
  // Started by a LocalCluster: go when the parent goes, so no worker is orphaned.
  if (flags.exitWithParent) process.on('disconnect', () => void worker.close('parent exited').finally(() => process.exit(0)));
  const end = await worker.closed;
  if (end.error) throw end.error;
}
