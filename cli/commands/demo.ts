// `kubedask demo`: per-origin delay statistics over 3M flights on a LocalCluster, or on a
// running cluster with --scheduler (how a DaskJob's runner uses it).
import { fileURLToPath } from 'node:url';
import { Client } from '../../client/client.js';
import type * as FlightsTasks from '../../client/demo/flights-tasks.js';
import type { Future } from '../../client/future.js';
import { LocalCluster } from '../../client/local-cluster.js';
import type { TlsFlags } from '../definitions/option.js';
import { tlsFromFlags } from '../tls-files.js';

const tasksModule = fileURLToPath(new URL('../../client/demo/flights-tasks.js', import.meta.url));

/** `kubedask demo` options, as ../definitions/demo.ts defines them. */
export interface DemoFlags extends TlsFlags {
  rows: number;
  workers: number;
  partitions: number;
  top: number;
  data: string;
  scheduler?: string;
}

export async function demoCommand(flags: DemoFlags): Promise<void> {
  const { rows, workers, partitions, top, data } = flags;
  const tls = tlsFromFlags(flags);
  const log = (msg: string) => process.stdout.write(`${msg}\n`);
  const t0 = performance.now();
  const lap = () => `${((performance.now() - t0) / 1000).toFixed(2)}s`;

  const cluster = flags.scheduler ? undefined : await new LocalCluster({ workers, threads: 1 }).started();
  const client = cluster ? await Client.connect(cluster) : await Client.connect(flags.scheduler!, { tls });
  try {
    if (cluster) log(`[${lap()}] LocalCluster up: ${workers} workers, scheduler ${cluster.address}, dashboard ${cluster.dashboardUrl}`);
    else log(`[${lap()}] connected to the scheduler at ${flags.scheduler} (${(await client.clusterInfo()).workers.length} workers)`);
    // Typed by the module's exports: submit and map below check their arguments against them.
    const tasks = await client.upload<typeof FlightsTasks>(tasksModule);
    const { planPartitions } = (await import(tasksModule)) as typeof FlightsTasks;
    const parts = planPartitions(data, partitions, rows);
    log(`[${lap()}] ${parts.length} partitions of ${data} (${parts.reduce((n, p) => n + p.length, 0)} rows)`);

    const partials = client.map(tasks.originDelayStats, parts);
    let done = 0;
    for await (const { future } of client.asCompleted(partials)) {
      await future.wait();
      done += 1;
      // Redraw one line on a terminal; in a log, print only the finished bar.
      if (process.stdout.isTTY) process.stdout.write(`\r[${lap()}] partitions computed ${progress(done, partials.length)}`);
    }
    process.stdout.write(`${process.stdout.isTTY ? '\r' : ''}[${lap()}] partitions computed ${progress(done, partials.length)}\n`);

    // Combine on the cluster in a tree, pairs at a time.
    let layer: Future<FlightsTasks.PartialStats>[] = partials;
    while (layer.length > 1) {
      const next: Future<FlightsTasks.PartialStats>[] = [];
      for (let i = 0; i < layer.length; i += 2) next.push(client.submit(tasks.combineStats, layer.slice(i, i + 2)));
      layer = next;
    }
    const airports = await client.submit(tasks.topAirports, layer[0]!, top, 1000);
    log(`[${lap()}] combined; top ${airports.length} origins by mean departure delay (>= 1000 flights):`);
    log('origin   flights  mean delay  std delay  delayed>15  max delay');
    for (const r of airports) {
      log(`${r.origin.padEnd(6)} ${String(r.flights).padStart(9)} ${r.meanDelay.toFixed(1).padStart(11)} ${r.stdDelay.toFixed(1).padStart(10)} ${(100 * r.delayedShare).toFixed(1).padStart(10)}% ${String(r.maxDelay).padStart(10)}`);
    }
    log(`[${lap()}] done`);
  } finally {
    await client.close();
    await cluster?.close();
  }
}

function progress(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}
