#!/usr/bin/python3
"""Dask peer for `kubedask bench autoscale --json`.

The same workload as bench/autoscale.ts on Dask's adaptive LocalCluster (worker
processes with 1 thread each, `cluster.adapt(minimum=1, maximum=M,
target_duration=T)`, Dask's other adaptive defaults: 1 s interval, 3 intervals
before a scale-down):

  burst  a backlog of N sleeps on the cluster at its minimum: time until Adaptive
         asks for more workers (the cluster's worker spec grows: Dask's "pods
         requested"), until a new worker registers with the scheduler; time to drain; time back
         at the minimum; then every result gathered again.  R times.
  trace  B bursts of K sleeps with G quiet seconds between: worker-seconds
         requested against busy task-seconds, and direction changes.

Prints ONE JSON object; on error {"error": "..."} and exit 1.
Run with Debian's python: /usr/bin/python3 bench/dask_adaptive_peer.py
"""

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid

SAMPLE_S = 0.025


def sleep_task(i, log, ms):
    with open(log, "a") as f:
        f.write(f"{i}\n")
    time.sleep(ms / 1000)
    return 2 * i


class Sampler:
    """Samples (t, requested, ready) every SAMPLE_S from a thread until stopped."""

    def __init__(self, cluster, t0):
        self.cluster, self.t0, self.samples = cluster, t0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stop.is_set():
            requested, ready = observe(self.cluster)
            self.samples.append((time.perf_counter() - self.t0, requested, ready))
            time.sleep(SAMPLE_S)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.samples

    def first_ms(self, pred):
        for t, requested, ready in self.samples:
            if pred(requested, ready):
                return round(t * 1000)
        return None


def observe(cluster):
    return len(cluster.worker_spec), len(cluster.scheduler.workers)


def until(cond, what, timeout_s=180):
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


def at_minimum(cluster):
    return observe(cluster) == (1, 1)


def bad_runs(log, first, last):
    counts = {}
    with open(log) as f:
        for line in f:
            if line.strip():
                counts[int(line)] = counts.get(int(line), 0) + 1
    missing = sum(1 for i in range(first, last) if counts.get(i, 0) == 0)
    twice = sum(1 for i in range(first, last) if counts.get(i, 0) > 1)
    return missing, twice


def lost_results(client, futures, first):
    lost = 0
    for j, f in enumerate(futures):
        try:
            if f.result(timeout=60) != (first + j) * 2:
                lost += 1
        except Exception:
            lost += 1
    return lost


def submit(client, first, n, log, ms):
    tag = uuid.uuid4().hex[:8]
    return client.map(sleep_task, range(first, first + n), log=log, ms=ms,
                      key=[f"sleep-{tag}-{i}" for i in range(n)])


def run(args):
    from distributed import Client, LocalCluster
    import distributed

    logging.getLogger("distributed").setLevel(logging.ERROR)
    log = os.path.join(tempfile.mkdtemp(prefix="dask-adaptive-peer-"), "runs.log")
    open(log, "w").close()
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None)
    cluster.adapt(minimum=1, maximum=args.maximum, target_duration=f"{args.target_duration}s")
    client = Client(cluster)
    try:
        nxt, lost, bursts = 0, 0, []
        for _ in range(args.repeat):
            until(lambda: at_minimum(cluster), "the cluster at its minimum")
            first = nxt
            nxt += args.tasks
            t0 = time.perf_counter()
            futures = submit(client, first, args.tasks, log, args.task_ms)
            sampler = Sampler(cluster, t0)
            client.gather(futures)
            drain = time.perf_counter() - t0
            until(lambda: at_minimum(cluster), "the cluster back at its minimum")
            back = time.perf_counter() - t0
            samples = sampler.stop()
            burst_lost = lost_results(client, futures, first)
            missing, twice = bad_runs(log, first, first + args.tasks)
            lost += burst_lost + missing + twice
            del futures
            bursts.append({
                "workers_requested_ms": sampler.first_ms(lambda req, rdy: req > 1),
                "first_new_worker_registered_ms": sampler.first_ms(lambda req, rdy: rdy > 1),
                "peak_workers": max(s[1] for s in samples),
                "drain_s": round(drain, 3), "back_to_minimum_s": round(back, 3),
                "results_lost": burst_lost, "tasks_not_run": missing, "tasks_run_twice": twice,
            })

        until(lambda: at_minimum(cluster), "the cluster at its minimum")
        t0 = time.perf_counter()
        sampler = Sampler(cluster, t0)
        first = nxt
        for b in range(args.bursts):
            base = nxt
            nxt += args.burst_tasks
            futures = submit(client, base, args.burst_tasks, log, args.task_ms)
            client.gather(futures)
            lost += lost_results(client, futures, base)
            del futures
            if b < args.bursts - 1:
                time.sleep(args.gap_s)  # the quiet time between bursts is part of the load
        until(lambda: at_minimum(cluster), "the cluster back at its minimum after the trace")
        samples = sampler.stop()
        missing, twice = bad_runs(log, first, nxt)
        lost += missing + twice
        requested_s = sum(samples[i - 1][1] * (samples[i][0] - samples[i - 1][0]) for i in range(1, len(samples)))
        ready_s = sum(samples[i - 1][2] * (samples[i][0] - samples[i - 1][0]) for i in range(1, len(samples)))
        busy = args.bursts * args.burst_tasks * args.task_ms / 1000
        changes, last = 0, 0
        for i in range(1, len(samples)):
            d = (samples[i][1] > samples[i - 1][1]) - (samples[i][1] < samples[i - 1][1])
            if d and last and d != last:
                changes += 1
            if d:
                last = d

        def med(key):
            values = [b[key] for b in bursts if b[key] is not None]
            return statistics.median(values) if values else None

        return {
            "peer": "dask-adaptive-localcluster",
            "version": distributed.__version__,
            "burst": {
                "tasks": args.tasks, "task_ms": args.task_ms, "runs": bursts,
                "median": {k: med(k) for k in ("workers_requested_ms", "first_new_worker_registered_ms", "drain_s", "back_to_minimum_s")},
            },
            "trace": {
                "bursts": args.bursts, "tasks_per_burst": args.burst_tasks, "gap_s": args.gap_s,
                "duration_s": round(samples[-1][0], 3), "busy_worker_s": round(busy, 3),
                "worker_requested_s": round(requested_s, 3), "registered_worker_s": round(ready_s, 3),
                "idle_fraction": round((requested_s - busy) / busy, 3), "direction_changes": changes,
                "peak_workers": max(s[1] for s in samples),
            },
            "results_lost": lost,
            "sample_ms": SAMPLE_S * 1000,
        }
    finally:
        client.close()
        cluster.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tasks", type=int, default=600)
    p.add_argument("--task-ms", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--bursts", type=int, default=5)
    p.add_argument("--burst-tasks", type=int, default=150)
    p.add_argument("--gap-s", type=float, default=4)
    p.add_argument("--maximum", type=int, default=6)
    p.add_argument("--target-duration", type=float, default=2)
    args = p.parse_args()
    try:
        print(json.dumps(run(args)))
    except Exception as e:  # one JSON line whatever happens, for the caller to report
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)


if __name__ == "__main__":
    main()
