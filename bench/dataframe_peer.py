#!/usr/bin/env python3
"""DataFrame peers for `kubedask bench dataframe`: ONE JSON line on stdout.

  probe                      which engines import here, and their versions
  run --files GLOB --airports CSV --out DIR [--engines dask,duckdb,polars] [--threads 2]
                             each engine runs the four queries once (after a small warm-up),
                             timed from the query to its result in this process

The queries (bench/dataframe.ts runs the same on kubedask):
  groupby  count, mean and std of delay per origin
  join     flights joined with airports (origin = iata), then count and mean delay per state
  sort     sorted by delay descending then date ascending, the first 10 rows (top-N)
  write    delay not null and distance > 500, plus hour, ISO weekday (1 = Monday) and
           late = delay > 15, written to Parquet under DIR/<engine> (its rows counted after
           the clock stops)

Engines: Dask DataFrame on its in-process threaded scheduler with --threads threads, DuckDB
with --threads threads, Polars (lazy, streaming where it chooses) with --threads threads.
Imports happen before any clock starts; each query also reports the CPU time of this process
(all its threads), which a loaded machine disturbs less than the wall clock. Each query's result carries a `check` that
bench/dataframe.ts compares with kubedask's. An engine that fails to import, or a query that
fails, is reported as {"error": "..."}; the others still run.
"""

import argparse
import hashlib
import json
import os
import sys
import time
import traceback

ENGINES = ("dask", "duckdb", "polars")


def digest(pairs):
    """sha256 of "key=value" lines sorted by key; kubedask's side builds the same."""
    text = "\n".join(f"{k}={v}" for k, v in sorted(pairs))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def grouped_check(keys, counts):
    pairs = [(str(k), int(c)) for k, c in zip(keys, counts)]
    return {"rows": len(pairs), "total": sum(c for _, c in pairs), "digest": digest(pairs)}


def top_check(delays, epoch_ms):
    return {"rows": len(delays), "keys": [f"{int(d)}@{int(t)}" for d, t in zip(delays, epoch_ms)]}


# Dask DataFrame ---------------------------------------------------------------------------

def dask_engine(args):
    import dask
    import dask.dataframe as dd

    dask.config.set(scheduler="threads", num_workers=args.threads)

    def read(columns=None):
        return dd.read_parquet(args.files, columns=columns)

    def groupby():
        out = read(["origin", "delay"]).groupby("origin").delay.agg(["count", "mean", "std"]).compute()
        return grouped_check(out.index, out["count"])

    def join():
        # "NA" is a state here (a code, not a missing value), as DuckDB and Polars read it.
        airports = dd.read_csv(args.airports, usecols=["iata", "state"], keep_default_na=False)
        joined = read(["origin", "delay"]).merge(airports, left_on="origin", right_on="iata")
        out = joined.groupby("state").delay.agg(["count", "mean"]).compute()
        return grouped_check(out.index, out["count"])

    def sort():
        out = read().sort_values(["delay", "date"], ascending=[False, True]).head(10)
        return top_check(out["delay"], out["date"].astype("datetime64[ms]").astype("int64"))

    def write():
        df = read()
        df = df[df.delay.notnull() & (df.distance > 500)]
        df = df.assign(hour=df.date.dt.hour, weekday=df.date.dt.dayofweek + 1, late=df.delay > 15)
        target = os.path.join(args.out, "dask")
        df.to_parquet(target, write_index=False)
        return lambda: {"rows": int(dd.read_parquet(target, columns=["delay"]).shape[0].compute())}

    def warm_up():
        dd.read_csv(args.airports).shape[0].compute()

    ran = {
        "groupby": 'dd.read_parquet(files, columns=["origin", "delay"]).groupby("origin").delay.agg(["count", "mean", "std"])',
        "join": 'flights.merge(dd.read_csv(airports, usecols=["iata", "state"], keep_default_na=False), left_on="origin", right_on="iata").groupby("state").delay.agg(["count", "mean"])',
        "sort": 'dd.read_parquet(files).sort_values(["delay", "date"], ascending=[False, True]).head(10)',
        "write": "filter, assign(hour, weekday, late), to_parquet(dir)",
    }
    return dask.__version__, f"dask.config scheduler=threads num_workers={args.threads}", ran, warm_up, {
        "groupby": groupby, "join": join, "sort": sort, "write": write}


# DuckDB -----------------------------------------------------------------------------------

def duckdb_engine(args):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    flights = f"read_parquet('{args.files}')"
    airports = f"read_csv('{args.airports}')"

    def groupby():
        t = con.sql(f"SELECT origin, count(delay) AS n, avg(delay) AS mean, stddev_samp(delay) AS std "
                    f"FROM {flights} GROUP BY origin").fetchnumpy()
        return grouped_check(t["origin"], t["n"])

    def join():
        t = con.sql(f"SELECT a.state, count(f.delay) AS n, avg(f.delay) AS mean FROM {flights} f "
                    f"JOIN {airports} a ON f.origin = a.iata GROUP BY a.state").fetchnumpy()
        return grouped_check(t["state"], t["n"])

    def sort():
        t = con.sql(f"SELECT *, epoch_ms(date) AS ms FROM {flights} ORDER BY delay DESC, date LIMIT 10").fetchnumpy()
        return top_check(t["delay"], t["ms"])

    def write():
        target = os.path.join(args.out, "duckdb")
        con.execute(f"COPY (SELECT *, hour(date) AS hour, isodow(date) AS weekday, delay > 15 AS late FROM {flights} "
                    f"WHERE delay IS NOT NULL AND distance > 500) TO '{target}' (FORMAT parquet, PER_THREAD_OUTPUT true)")
        return lambda: {"rows": int(con.sql(f"SELECT count(*) FROM read_parquet('{target}/*.parquet')").fetchone()[0])}

    def warm_up():
        con.sql(f"SELECT count(*) FROM {airports}").fetchone()

    ran = {
        "groupby": "SELECT origin, count(delay), avg(delay), stddev_samp(delay) ... GROUP BY origin",
        "join": "... JOIN read_csv(airports) a ON f.origin = a.iata GROUP BY a.state",
        "sort": "SELECT * ... ORDER BY delay DESC, date LIMIT 10",
        "write": "COPY (SELECT *, hour, isodow, delay > 15 ... WHERE ...) TO dir (FORMAT parquet, PER_THREAD_OUTPUT true)",
    }
    return duckdb.__version__, f"SET threads = {args.threads}", ran, warm_up, {
        "groupby": groupby, "join": join, "sort": sort, "write": write}


# Polars (one process) ---------------------------------------------------------------------

def polars_engine(args):
    import polars as pl

    def scan():
        return pl.scan_parquet(args.files)

    def groupby():
        t = scan().group_by("origin").agg(pl.col("delay").count().alias("n"), pl.col("delay").mean(), pl.col("delay").std().alias("std")).collect()
        return grouped_check(t["origin"], t["n"])

    def join():
        airports = pl.scan_csv(args.airports).select("iata", "state")
        t = (scan().join(airports, left_on="origin", right_on="iata")
             .group_by("state").agg(pl.col("delay").count().alias("n"), pl.col("delay").mean()).collect())
        return grouped_check(t["state"], t["n"])

    def sort():
        t = scan().sort(["delay", "date"], descending=[True, False]).head(10).collect()
        return top_check(t["delay"], t["date"].dt.epoch("ms"))

    def write():
        target = os.path.join(args.out, "polars")
        os.makedirs(target, exist_ok=True)
        (scan().filter(pl.col("delay").is_not_null() & (pl.col("distance") > 500))
         .with_columns(pl.col("date").dt.hour().alias("hour"), pl.col("date").dt.weekday().alias("weekday"),
                       (pl.col("delay") > 15).alias("late"))
         .sink_parquet(os.path.join(target, "part-0.parquet")))
        return lambda: {"rows": pl.scan_parquet(os.path.join(target, "*.parquet")).select(pl.len()).collect().item()}

    def warm_up():
        pl.read_csv(args.airports).height

    ran = {
        "groupby": 'scan_parquet(files).group_by("origin").agg(count, mean, std)',
        "join": 'scan_parquet(files).join(scan_csv(airports), left_on="origin", right_on="iata").group_by("state").agg(count, mean)',
        "sort": 'scan_parquet(files).sort(["delay", "date"], descending=[True, False]).head(10)',
        "write": "filter, with_columns(hour, weekday, late), sink_parquet(one file)",
    }
    return pl.__version__, f"POLARS_MAX_THREADS={os.environ.get('POLARS_MAX_THREADS')} (thread pool {pl.thread_pool_size()})", ran, warm_up, {
        "groupby": groupby, "join": join, "sort": sort, "write": write}


FACTORIES = {"dask": dask_engine, "duckdb": duckdb_engine, "polars": polars_engine}


def error_text(exc):
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")[:500]


def probe(args):
    out = {}
    for name, module in (("dask", "dask.dataframe"), ("duckdb", "duckdb"), ("polars", "polars")):
        try:
            mod = __import__(module, fromlist=["__version__"])
            out[name] = {"version": getattr(mod, "__version__", None) or __import__(name).__version__}
        except BaseException as exc:  # noqa: BLE001 - any import failure means "not available"
            out[name] = {"error": error_text(exc)}
    return {"python": sys.version.split()[0], "engines": out}


def run(args):
    out = {"python": sys.version.split()[0], "engines": {}}
    for name in args.engines.split(","):
        try:
            version, threads, ran, warm_up, queries = FACTORIES[name](args)
            warm_up()
        except BaseException as exc:  # noqa: BLE001
            out["engines"][name] = {"error": error_text(exc)}
            continue
        results = {}
        for query, fn in queries.items():
            try:
                t0, c0 = time.perf_counter(), time.process_time()
                check = fn()
                seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
                # The write query counts what it wrote after the clock stopped.
                results[query] = {"seconds": seconds, "cpu_seconds": cpu, "check": check() if callable(check) else check}
            except BaseException as exc:  # noqa: BLE001
                results[query] = {"error": error_text(exc), "trace": traceback.format_exc(limit=3)[-600:]}
        out["engines"][name] = {"version": version, "threads": threads, "ran": ran, "queries": results}
    return out


def main(argv):
    parser = argparse.ArgumentParser(prog="dataframe_peer.py")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("probe")
    r = sub.add_parser("run")
    r.add_argument("--files", required=True, help="a glob of the flights Parquet files")
    r.add_argument("--airports", required=True)
    r.add_argument("--out", required=True, help="a directory for the write query's output")
    r.add_argument("--engines", default=",".join(ENGINES))
    r.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    # Polars sizes its pool when first imported: the bound must be set before that.
    os.environ.setdefault("POLARS_MAX_THREADS", str(getattr(args, "threads", 2)))
    try:
        out, code = (probe(args) if args.command == "probe" else run(args)), 0
    except BaseException as exc:  # noqa: BLE001
        out, code = {"error": error_text(exc)}, 1
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
