// DataFrame.join on a LocalCluster: every kind of join, by broadcast and by shuffle, equal to
// single-process nodejs-polars on the same data (rows sorted first: a join's order is not defined).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import pl from 'nodejs-polars';
import { ENTRY_KIND, fromPolars, readCsv, readParquet, type DataFrame, type JoinOptions } from '../../index.js';
import { useCluster } from '../helpers/cluster.js';
import { assertFramesEqual } from '../helpers/frames.js';

const HOWS = ['inner', 'left', 'outer', 'semi', 'anti'] as const;
const FLIGHTS = join(import.meta.dirname, '../../../node_modules/vega-datasets/data/flights-3m.parquet');
const AIRPORTS = join(dirname(FLIGHTS), 'airports.csv');

/** A small deterministic generator, so a failure reproduces. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Keys 0..keys-1 (one in ten null), a string and a number column; `x` clashes between the sides. */
function frame(rows: number, keys: number, seed: number, other: string, keyName = 'k', keyType: pl.DataType = pl.Int64): pl.DataFrame {
  const r = random(seed);
  const k = Array.from({ length: rows }, () => (r() < 0.1 ? null : Math.floor(r() * keys)));
  const k2 = Array.from({ length: rows }, () => Math.floor(r() * 3));
  return pl.DataFrame({
    [keyName]: pl.Series(keyName, k, keyType),
    k2: pl.Series('k2', k2, pl.Int64),
    x: pl.Series('x', k.map((_, i) => `s${seed}-${i % 17}`), pl.String),
    [other]: pl.Series(other, k.map(() => Math.floor(r() * 1000)), pl.Int64),
  });
}

/** The shared comparison (sorted rows, same columns and dtypes), its failure naming the case. */
function assertSame(actual: pl.DataFrame, expected: pl.DataFrame, what: string): void {
  try {
    assertFramesEqual(actual, expected);
  } catch (err) {
    (err as Error).message = `${what}: ${(err as Error).message}`;
    throw err;
  }
}

/** Polars' own options for the same join ('outer' is its 'full'). */
function polarsOptions(options: JoinOptions): Record<string, unknown> {
  return { ...options, how: options.how === 'outer' ? 'full' : options.how ?? 'inner' };
}

describe('DataFrame.join', () => {
  const fx = useCluster({ workers: 2, threads: 1 });
  const left = frame(3000, 400, 1, 'v');
  const right = frame(500, 600, 2, 'w');

  async function check(l: DataFrame, r: DataFrame, lp: pl.DataFrame, rp: pl.DataFrame, options: JoinOptions, strategy: RegExp): Promise<void> {
    const what = `${JSON.stringify(options)}`;
    const joined = l.join(r, options);
    assert.match(joined.explain(), strategy, what);
    const expected = lp.join(rp, polarsOptions(options) as never);
    const actual = await joined.compute({ client: fx.client });
    assertSame(actual, expected, what);
    assert.deepEqual(joined.columns, expected.columns, `${what}: columns from metadata`);
  }

  it('broadcasts a small right side: every kind but outer, equal to Polars', async () => {
    const l = fromPolars(left, { partitions: 4 });
    const r = fromPolars(right, { partitions: 1 });
    for (const how of HOWS) {
      await check(l, r, left, right, { on: 'k', how }, how === 'outer' ? /shuffle both sides/ : /broadcast right/);
    }
    assert.equal(l.join(r, { on: 'k', how: 'left' }).npartitions, 4);
  });

  it('shuffles two sides of unknown size (many partitions each): every kind, on two keys, equal to Polars', async () => {
    // Persisted partitions carry no sizes: nothing is known small.
    const l = fromPolars(left, { partitions: 5 }).persist({ client: fx.client });
    const r = fromPolars(right, { partitions: 3 }).persist({ client: fx.client });
    for (const how of HOWS) await check(l, r, left, right, { on: ['k', 'k2'], how }, /shuffle both sides by the keys into 5 partition/);
    assert.equal(l.join(r, { on: 'k' }).npartitions, 5);
  });

  it('a shuffled join moves buckets, not splits: each take fetches its own bucket of a split held elsewhere', async () => {
    const { client } = fx;
    const before = (await client.history()).cursor;
    const l = fromPolars(left, { partitions: 6 }).persist({ client });
    const r = fromPolars(right, { partitions: 6 }).persist({ client });
    const joined = l.join(r, { on: 'k', how: 'inner' });
    assertSame(await joined.compute({ client }), left.join(right, { on: 'k', how: 'inner' }), 'inner');
    const h = await client.history();
    const perSplit = new Map<string, number[]>();
    h.stream.kind.forEach((kind, i) => {
      const key = h.stream.key[i]!;
      if (kind !== ENTRY_KIND.transfer || i < before - h.dropped || !/^join-(left|right)-split-/.test(key)) return;
      perSplit.set(key, [...(perSplit.get(key) ?? []), h.stream.bytes[i]!]);
    });
    assert.ok(perSplit.size > 0, 'takes fetched buckets of splits held on the other worker');
    // A split fetched whole would travel once per worker; its buckets travel once per take.
    assert.ok([...perSplit.values()].some((fetches) => fetches.length >= 2), `some split served several takes: ${JSON.stringify([...perSplit])}`);
  });

  it('joins leftOn/rightOn keys of other names, with a custom suffix for clashing columns', async () => {
    const r2 = right.rename({ k: 'key' });
    for (const how of HOWS) {
      const options: JoinOptions = { leftOn: 'k', rightOn: 'key', how, suffix: '_other' };
      await check(fromPolars(left, { partitions: 3 }), fromPolars(r2, { partitions: 2 }), left, r2, options, how === 'outer' ? /shuffle/ : /broadcast right/);
      await check(fromPolars(left, { partitions: 3 }).persist({ client: fx.client }), fromPolars(r2, { partitions: 2 }).persist({ client: fx.client }), left, r2, options, /shuffle/);
    }
  });

  it('broadcasts a small left side of an inner join, the columns in Polars\' order', async () => {
    const small = right.head(50);
    const l = fromPolars(small, { partitions: 1 });
    const r = fromPolars(left, { partitions: 4 }).persist({ client: fx.client });
    await check(l, r, small, left, { on: 'k', how: 'inner' }, /broadcast left/);
    await check(l, r, small, left, { on: 'k', how: 'left' }, /shuffle/);
  });

  it('handles empty partitions, an empty side and keys on one side only', async () => {
    const tiny = left.head(7);
    const none = right.head(0);
    const disjoint = right.withColumns(pl.col('k').add(10_000).cast(pl.Int64));
    for (const how of HOWS) {
      // 7 rows in 6 partitions: some are empty.
      await check(fromPolars(tiny, { partitions: 6 }).persist({ client: fx.client }), fromPolars(right, { partitions: 3 }).persist({ client: fx.client }), tiny, right, { on: 'k', how }, /shuffle/);
      await check(fromPolars(left, { partitions: 3 }), fromPolars(none, { partitions: 2 }), left, none, { on: 'k', how }, how === 'outer' ? /shuffle/ : /broadcast right/);
      await check(fromPolars(none, { partitions: 2 }).persist({ client: fx.client }), fromPolars(right, { partitions: 2 }).persist({ client: fx.client }), none, right, { on: 'k', how }, /shuffle/);
      await check(fromPolars(left, { partitions: 2 }).persist({ client: fx.client }), fromPolars(disjoint, { partitions: 2 }).persist({ client: fx.client }), left, disjoint, { on: 'k', how }, /shuffle/);
    }
  });

  it('joins Int32 keys with Int64 keys, and Float32 with Float64, through a shuffle as Polars\' lazy join does', async () => {
    for (const [lt, rt] of [[pl.Int32, pl.Int64], [pl.Float32, pl.Float64]] as const) {
      const lp = frame(2000, 300, 3, 'v', 'k', lt);
      const rp = frame(800, 300, 4, 'w', 'k', rt);
      const l = fromPolars(lp, { partitions: 4 }).persist({ client: fx.client });
      const r = fromPolars(rp, { partitions: 3 }).persist({ client: fx.client });
      for (const how of HOWS) {
        const what = `${String(lt)} x ${String(rt)} ${how}`;
        const joined = l.join(r, { on: 'k', how, suffix: '_right' });
        assert.match(joined.explain(), /shuffle/, what);
        // Eager Polars refuses keys of different dtypes; the lazy join (what partitions run, and
        // what the DataFrame checks its schema with) compares them in their supertype.
        const expected = lp.lazy().join(rp.lazy(), { on: 'k', how: how === 'outer' ? 'full' : how, suffix: '_right' }).collectSync();
        assert.ok(how === 'anti' || expected.height > 0, what);
        assertSame(await joined.compute({ client: fx.client }), expected, what);
      }
    }
  });

  it('fuses what follows a join: a filter and a group-by after a broadcast join', async () => {
    const joined = fromPolars(left, { partitions: 4 }).join(fromPolars(right, { partitions: 1 }), { on: 'k', how: 'left' })
      .filter(pl.col('v').gt(100))
      .groupBy('k2').agg(pl.len().alias('n'), pl.col('w').sum().alias('w'));
    const expected = left.join(right, { on: 'k', how: 'left' }).filter(pl.col('v').gt(100)).groupBy('k2').agg(pl.len().alias('n'), pl.col('w').sum().alias('w'));
    assertSame(await joined.compute({ client: fx.client }), expected, 'join, filter, group-by');
  });

  it('joins flights-3m with airports.csv (broadcast) and groups by state, equal to Polars', async () => {
    const flights = readParquet(FLIGHTS, { columns: ['origin', 'delay'] });
    const airports = readCsv(AIRPORTS);
    const aggs = () => [pl.len().alias('flights'), pl.col('delay').sum().alias('delay_sum'), pl.col('delay').max().alias('delay_max')];
    const byState = flights.join(airports, { leftOn: 'origin', rightOn: 'iata', how: 'left' }).groupBy('state').agg(...aggs());
    assert.match(byState.explain(), /broadcast right \(about .* by metadata\)/);
    const expected = pl.readParquet(FLIGHTS, { columns: ['origin', 'delay'] })
      .join(pl.readCSV(AIRPORTS), { leftOn: 'origin', rightOn: 'iata', how: 'left' })
      .groupBy('state').agg(...aggs());
    const actual = await byState.compute({ client: fx.client });
    assert.ok(actual.height > 40, `states: ${actual.height}`);
    assertSame(actual, expected, 'flights by state');
  });
});
