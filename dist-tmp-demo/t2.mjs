import pl from 'nodejs-polars';
const p = 'node_modules/vega-datasets/data/flights-3m.parquet';
let t=performance.now();
const df = pl.scanParquet(p).select(pl.col('delay').isNull().sum().alias('dn'), pl.col('origin').isNull().sum().alias('on'), pl.col('delay').min().alias('mn'), pl.col('delay').max().alias('mx'), pl.col('origin').nUnique().alias('nu'), (pl.col('origin').strLengths ? pl.lit(0) : pl.lit(1)).alias('x')).collectSync();
console.log(df.toRecords(), performance.now()-t);
t=performance.now();
const g = pl.scanParquet(p).slice(2250000, 750000).filter(pl.col('delay').isNotNull().and(pl.col('origin').isNotNull()))
 .groupBy('origin').agg(pl.len().alias('count'), pl.col('delay').sum().alias('sumDelay'), (pl.col('delay').mul(pl.col('delay'))).sum().alias('sumSq'), pl.col('delay').gt(15).sum().alias('delayed'), pl.col('delay').max().alias('maxDelay')).collectSync();
console.log(performance.now()-t, g.shape, g.schema, g.head(3).toString());
const s = g.getColumn('sumSq'); console.log(s.dtype, typeof s.toArray()[0], s.toArray().slice(0,3), typeof g.getColumn('count').toArray()[0], typeof g.getColumn('delayed').toArray()[0]);
console.log(Array.isArray(g.getColumn('origin').toArray()), g.getColumn('origin').toArray().constructor.name, s.toArray().constructor.name, g.getColumn('count').toArray().constructor.name);
