#!/usr/bin/python3
"""Start-up peer for `kubedask bench startup`: one timed cold start, ONE JSON line on stdout.

  local-cluster  Dask: LocalCluster(n_workers=2, threads_per_worker=1, no dashboard) from its
                 creation to the first result of client.submit(inc, 1)   (Debian's python3)
  ray            Ray: ray.init(num_cpus=2) to the first ray.get of a remote task  (Ray's python)

Imports happen before the clock starts, as on the kubedask side. The scheduler and worker
figures (`dask scheduler`, `dask worker`) are taken by bench/startup.ts from the processes.
On error it prints {"error": "..."} and exits 1.
"""

import json
import logging
import sys
import time


def inc(x):
    return x + 1


def dask_local_cluster():
    import distributed
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    try:
        registered = time.perf_counter()  # LocalCluster() returns once its workers are up
        with Client(cluster) as client:
            value = client.submit(inc, 1).result()
            first = time.perf_counter()
        if value != 2:
            raise RuntimeError(f"first task returned {value!r}, not 2")
    finally:
        cluster.close()
    return {"peer": "dask", "version": distributed.__version__,
            "workers_registered_ms": (registered - t0) * 1000, "first_result_ms": (first - t0) * 1000}


def ray_init():
    import ray

    @ray.remote
    def remote_inc(x):
        return x + 1

    t0 = time.perf_counter()
    ray.init(num_cpus=2, logging_level=logging.ERROR)
    try:
        value = ray.get(remote_inc.remote(1))
        first = time.perf_counter()
        if value != 2:
            raise RuntimeError(f"first task returned {value!r}, not 2")
    finally:
        ray.shutdown()
    return {"peer": "ray", "version": ray.__version__, "first_result_ms": (first - t0) * 1000}


def main(argv):
    runs = {"local-cluster": dask_local_cluster, "ray": ray_init}
    if len(argv) != 1 or argv[0] not in runs:
        sys.stderr.write(f"usage: startup_peer.py {'|'.join(runs)}\n")
        return 2
    try:
        out, code = runs[argv[0]](), 0
    except BaseException as exc:  # noqa: BLE001 - report anything, including KeyboardInterrupt
        out, code = {"error": f"{type(exc).__name__}: {exc}".replace("\n", " ")}, 1
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
