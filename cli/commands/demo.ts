// `kubedask demo`: the flights workflow on the DataFrame (client/demo/flights.ts) on a
// LocalCluster, or on a running cluster with --scheduler (how a DaskJob's runner uses it).
import { Client } from '../../client/client.js';
import { bandLine, bandStats, cleanFlights, FLIGHT_COLUMNS, originStats, originTable, readFlights } from '../../client/demo/flights.js';
import { LocalCluster } from '../../client/local-cluster.js';
import type { TlsFlags } from '../definitions/option.js';
import { tlsFromFlags } from '../tls-files.js';

/** `kubedask demo` options, as ../definitions/demo.ts defines them. */
export interface DemoFlags extends TlsFlags {
  rows: number;
  workers: number;
  partitions: number;
  top: number;
  data: string;
  scheduler?: string;
}

/** Origins with fewer flights are not ranked: a handful of flights makes a noisy mean. */
const MIN_FLIGHTS = 1000;

export async function demoCommand(flags: DemoFlags): Promise<void> {
  const { workers, partitions, top, data } = flags;
  const tls = tlsFromFlags(flags);
  const log = (msg: string) => process.stdout.write(`${msg}\n`);
  const t0 = performance.now();
  const lap = () => `${((performance.now() - t0) / 1000).toFixed(2)}s`;
  const timed = async <T>(work: () => Promise<T>): Promise<[T, string]> => {
    const start = performance.now();
    const value = await work();
    return [value, `${((performance.now() - start) / 1000).toFixed(2)}s`];
  };

  const cluster = flags.scheduler ? undefined : await new LocalCluster({ workers, threads: 1 }).started();
  const client = cluster ? await Client.connect(cluster) : await Client.connect(flags.scheduler!, { tls });
  try {
    if (cluster) log(`[${lap()}] LocalCluster up: ${workers} workers, scheduler ${cluster.address}, dashboard ${cluster.dashboardUrl}`);
    else log(`[${lap()}] connected to the scheduler at ${flags.scheduler} (${(await client.clusterInfo()).workers.length} workers)${client.dashboardLink ? `, dashboard ${client.dashboardLink}` : ''}`);

    const flights = readFlights(data, { partitions, rows: flags.rows });
    log(`[${lap()}] ${flights.readPartitions} partitions of ${data} (${flights.rows} rows), columns ${FLIGHT_COLUMNS.join(', ')}`);

    // Read, clean and derive once, per partition, and keep the result on the workers. On a
    // terminal, each step draws a bar per task group while it runs (nothing when piped).
    const clean = cleanFlights(flights.frame).persist({ client });
    const [counts, cleanTime] = await timed(() => clean.count({ client, progress: true }));
    log(`[${lap()}] read and cleaned on the workers in ${cleanTime}: ${Number(counts.getColumn('delay').get(0))} flights with a delay,`
      + ` hour/weekday/month/distance band/late derived, kept in ${clean.npartitions} partition(s)`);

    const [byOrigin, originTime] = await timed(() => originStats(clean, { top, minFlights: MIN_FLIGHTS }).compute({ client, progress: true }));
    log(`[${lap()}] grouped by origin in ${originTime}; top ${byOrigin.height} origins by mean delay (>= ${MIN_FLIGHTS} flights):`);
    for (const line of originTable(byOrigin)) log(line);

    const [byBand, bandTime] = await timed(() => bandStats(clean).compute({ client, progress: true }));
    log(`[${lap()}] late flights by distance band (${bandTime}): ${bandLine(byBand)}`);
    log(`[${lap()}] done`);
  } finally {
    await client.close();
    await cluster?.close();
  }
}
