#!/usr/bin/python3
"""Dask peer for `kubedask bench scheduler --json`.

Starts a Dask LocalCluster (2 worker processes, 1 thread each, no dashboard),
warms it up, then measures three scheduler-bound workloads and prints ONE JSON
object on stdout:

  independent  N independent tiny tasks (client.map + gather)      -> tasks/s
  tree         tree reduction over N leaves (2N-1 tasks in all)      -> tasks/s
  chain        a dependent chain of C tasks                          -> latency (s)

Each workload runs R times; the median and every sample are reported.
Run with Debian's python (`/usr/bin/python3 bench/dask_peer.py --tasks 10000`).
On error it prints {"error": "..."} and exits 1.
"""

import argparse
import json
import logging
import statistics
import sys
import time
import uuid


def inc(x):
    return x + 1


def add(x, y):
    return x + y


def _tag():
    # A fresh key prefix per run, so nothing is deduplicated against an earlier run.
    return uuid.uuid4().hex[:8]


def run_independent(client, n):
    tag = _tag()
    t0 = time.perf_counter()
    futures = client.map(inc, range(n), key=[f"inc-{tag}-{i}" for i in range(n)])
    results = client.gather(futures)
    elapsed = time.perf_counter() - t0
    if len(results) != n or results[-1] != n:
        raise RuntimeError(f"independent: wrong result (len={len(results)})")
    del futures
    return elapsed


def run_tree(client, n):
    tag = _tag()
    t0 = time.perf_counter()
    layer = client.map(inc, range(n), key=[f"leaf-{tag}-{i}" for i in range(n)])
    level = 0
    while len(layer) > 1:
        nxt = []
        for j in range(0, len(layer) - 1, 2):
            nxt.append(client.submit(add, layer[j], layer[j + 1], key=f"add-{tag}-{level}-{j}"))
        if len(layer) % 2 == 1:
            nxt.append(layer[-1])
        layer = nxt
        level += 1
    total = layer[0].result()
    elapsed = time.perf_counter() - t0
    expected = n * (n + 1) // 2  # sum(i + 1 for i in range(n))
    if total != expected:
        raise RuntimeError(f"tree: got {total}, expected {expected}")
    del layer
    return elapsed


def run_chain(client, length):
    tag = _tag()
    t0 = time.perf_counter()
    x = client.submit(inc, 0, key=f"chain-{tag}-0")
    for i in range(1, length):
        x = client.submit(inc, x, key=f"chain-{tag}-{i}")
    value = x.result()
    elapsed = time.perf_counter() - t0
    if value != length:
        raise RuntimeError(f"chain: got {value}, expected {length}")
    del x
    return elapsed


def main(argv=None):
    parser = argparse.ArgumentParser(description="Dask scheduler benchmark peer")
    parser.add_argument(
        "--tasks", type=int, default=1000,
        help="independent tasks / tree leaves (default 1000 keeps a default run under a minute"
        " on 2 cores: Dask 2022.12 runs roughly 400-650 tiny tasks/s there)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each workload")
    parser.add_argument("--chain", type=int, default=1000, help="length of the dependent chain")
    args = parser.parse_args(argv)
    if args.tasks < 1 or args.repeat < 1 or args.chain < 1:
        parser.error("--tasks, --repeat and --chain must be >= 1")  # exits 2

    cluster = None
    client = None
    try:
        import distributed
        from distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        client.wait_for_workers(2)

        # Warm up: start the worker processes' imports, pickling paths and comms.
        run_independent(client, min(args.tasks, 200))
        run_tree(client, min(args.tasks, 64))
        run_chain(client, min(args.chain, 20))

        ind, tree, chain = [], [], []
        for _ in range(args.repeat):
            ind.append(run_independent(client, args.tasks))
            tree.append(run_tree(client, args.tasks))
            chain.append(run_chain(client, args.chain))

        n = args.tasks
        out = {
            "peer": "dask",
            "version": distributed.__version__,
            "workers": 2,
            "threads": 1,
            "independent": {
                "tasks": n,
                "tasks_per_s": n / statistics.median(ind),
                "samples_s": ind,
            },
            "tree": {
                "tasks": 2 * n - 1,
                "tasks_per_s": (2 * n - 1) / statistics.median(tree),
                "samples_s": tree,
            },
            "chain": {
                "tasks": args.chain,
                "latency_s": statistics.median(chain),
                "samples_s": chain,
            },
        }
        code = 0
    except BaseException as exc:  # noqa: BLE001 - report anything, including KeyboardInterrupt
        out = {"error": f"{type(exc).__name__}: {exc}".replace("\n", " ")}
        code = 1
    finally:
        for closable in (client, cluster):
            if closable is not None:
                try:
                    closable.close()
                except Exception:  # noqa: BLE001 - best-effort shutdown
                    pass
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
