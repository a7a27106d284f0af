import pl from 'nodejs-polars';
import { LocalCluster, Client, readParquet } from './dist/index.js';
const cluster = await new LocalCluster({ workers: 2, threads: 1, dashboardPort: -1 }).started();
const client = await Client.connect(cluster);
const pr = Number(process.argv[2] ?? 1000000);
const q = {
  len: (df) => df.select(pl.len().alias('n')),
  sumdelay: (df) => df.select(pl.col('delay').sum().alias('n')),
  gblen: (df) => df.groupBy('origin').agg(pl.len().alias('n')),
  gbfull: (df) => df.groupBy('origin').agg(pl.len().alias('n'), pl.col('delay').mean().alias('m'), pl.col('delay').std().alias('s')),
};
for (const [name, f] of Object.entries(q).filter(([n]) => n === (process.argv[3] ?? 'gbfull'))) {
  const ts = [];
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    const df = readParquet('/tmp/f10/*.parquet', { columns: ['origin', 'delay'], partitionRows: pr });
    await f(df).compute();
    ts.push(performance.now() - t);
  }
  console.log(name, ts.map((x) => x.toFixed(0)).join(' '));
}
const groups = cluster.scheduler.core.state.core.groups;
for (const [g, v] of groups) console.log(g, v.count, (v.totalMs / v.count).toFixed(1), 'ms avg', v.totalMs.toFixed(0), 'total');
await client.close(); await cluster.close();
