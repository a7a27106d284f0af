import pl from 'nodejs-polars';
const f = 'node_modules/vega-datasets/data/flights-3m.parquet';
const d = pl.col('delay');
const aggs = {
  devsq: [d.count().alias('n'), d.mean().alias('m'), d.sub(d.mean()).pow(2).sum().alias('m2')],
  var0: [d.count().alias('n'), d.mean().alias('m'), d.var(0).mul(d.count()).alias('m2')],
  simple: [d.count().alias('n'), d.mean().alias('m')],
};
const scan = () => pl.scanParquet(f).slice(1_000_000, 1_000_000).select(pl.col('origin'), pl.col('delay'));
const best = {};
async function cpu(k, fn) { const c = process.cpuUsage(); const r = await fn(); const u = process.cpuUsage(c); best[k] = Math.min(best[k] ?? Infinity, Math.round((u.user + u.system) / 1000)); return r; }
for (let r = 0; r < 5; r++) {
  const mem = await cpu('read_1M', () => scan().collect());
  for (const [k, a] of Object.entries(aggs)) {
    await cpu(`fused_read+${k}`, () => scan().groupBy('origin').agg(...a).collect());
    await cpu(`in_memory_${k}`, () => mem.lazy().groupBy('origin').agg(...a).collect());
  }
  await cpu('ipc_lz4_write_1M', async () => mem.writeIPCStream({ compression: 'lz4' }));
}
console.log('cpu ms, min of 5, 1 thread:', JSON.stringify(best));
