import pl from 'nodejs-polars';
const f = 'node_modules/vega-datasets/data/flights-3m.parquet';
for (let k = 0; k < 2; k++) {
let t = Date.now(); await pl.scanParquet(f).select('origin','delay').collect(); console.log('full', Date.now()-t);
t = Date.now(); await pl.scanParquet(f).slice(0, 1000000).select('origin','delay').collect(); console.log('slice0', Date.now()-t);
t = Date.now(); await pl.scanParquet(f).slice(2000000, 1000000).select('origin','delay').collect(); console.log('slice2', Date.now()-t);
t = Date.now(); await pl.scanParquet(f).select('origin','delay').groupBy('origin').agg(pl.len(), pl.col('delay').mean()).collect(); console.log('full agg', Date.now()-t);
}
