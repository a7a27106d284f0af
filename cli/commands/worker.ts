import { availableParallelism, hostname } from 'node:os';
import { startWorker } from '../../worker/runtime/worker.js';
import { parse, parseCount, parseHostPort, parsePort, parseResources, parseSeconds, parseSize, parseTls, tlsFlags, UsageError } from '../options.js';
import { onShutdownSignal } from '../signals.js';


export async function workerCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    scheduler: { type: 'string' }, nthreads: { type: 'string' }, 'memory-limit': { type: 'string' },
    resources: { type: 'string' }, name: { type: 'string' }, group: { type: 'string' },
    host: { type: 'string' }, 'advertise-host': { type: 'string' }, port: { type: 'string' }, 'connect-timeout': { type: 'string' }, ...tlsFlags, 'exit-with-parent': { type: 'boolean' },
  });
  if (!v.scheduler) throw new UsageError('--scheduler HOST:PORT is required');
  const nthreads = parseCount(v.nthreads, '--nthreads', availableParallelism());
  // Polars sizes its process-wide pool at the first query: keep it to this worker's threads.
  process.env.POLARS_MAX_THREADS ??= String(nthreads);
  const host = v.host ?? '127.0.0.1';
  // Bound to every interface, a worker advertises --advertise-host, else $POD_IP (a pod's IP from
  // the downward API), else its first non-internal IPv4 address (see WorkerOptions.advertiseHost).
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
  const advertiseHost = v['advertise-host'] || (wildcard && process.env.POD_IP) || undefined;
  const worker = await startWorker({
    scheduler: parseHostPort(v.scheduler, '--scheduler'),
    name: v.name ?? `${hostname()}-${process.pid}`,
    nthreads,
    memoryLimit: parseSize(v['memory-limit'], '--memory-limit'),
    resources: parseResources(v.resources, '--resources'),
    group: v.group ?? '',
    host,
    advertiseHost,
    port: parsePort(v.port, '--port', 0),
    reconnectTimeoutMs: parseSeconds(v['connect-timeout'], '--connect-timeout', 30) * 1000,
    tls: parseTls(v),
  });
  process.stdout.write(`worker ${worker.name} serving data at ${worker.address}\n`);
  onShutdownSignal(() => worker.close('signal'));
  // Started by a LocalCluster: go when the parent goes, so no worker is orphaned.
  if (v['exit-with-parent']) process.on('disconnect', () => void worker.close('parent exited').finally(() => process.exit(0)));
  const end = await worker.closed;
  if (end.error) throw end.error;
}
