import pl from 'nodejs-polars';
import { LocalCluster, Client, readParquet } from './dist/index.js';
const cluster = await new LocalCluster({ workers: 2, threads: 1, dashboardPort: -1 }).started();
const client = await Client.connect(cluster);
const rows = Number(process.argv[2] ?? 1000000);
for (const pr of [rows]) {
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    const df = readParquet('/tmp/f10/*.parquet', { columns: ['origin', 'delay'], partitionRows: pr });
    const t1 = performance.now();
    const r = await df.groupBy('origin').agg(pl.len().alias('n'), pl.col('delay').mean().alias('m'), pl.col('delay').std().alias('s')).compute();
    console.log(pr, df.npartitions, 'meta', (t1 - t).toFixed(0), 'total', (performance.now() - t).toFixed(0), r.height);
  }
}
await client.close(); await cluster.close();
