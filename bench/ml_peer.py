#!/usr/bin/env python3
"""scikit-learn and onnxruntime peer for `kubedask bench ml`: ONE JSON line on stdout.

  probe                              which of scikit-learn, onnxruntime, polars import, and versions
  run --file PARQUET --onnx MODEL [--threads 2]
                                     one round of the three measurements, in this one process

The data (bench/ml.ts builds the same on kubedask): features hour, ISO weekday (1 = Monday) and
month of `date`, and distance, as float64; label delay > 15; rows with a null delay dropped.
The split: scikit-learn's train_test_split(test_size=0.2, random_state=0), a shuffle of the
global row order, which kubedask cannot reproduce (its split hashes each row's position in its
partition), so each side reports the AUC on its own test set.

  fit      Pipeline(StandardScaler, LogisticRegression(lbfgs, C=1, max_iter=100, tol=1e-4)) on
           the training rows; the test AUC from predict_proba
  kmeans   KMeans(8, init k-means++, n_init=1, random_state=0) on the training rows scaled by
           the fitted scaler (scaled before the clock starts); inertia and iterations
  predict  onnxruntime InferenceSession over MODEL (kubedask's ml.toOnnx bytes), intra-op
           threads = --threads, created before the clock; one run() of every row of the file
           (all rows, as float32, converted before the clock) plus the sum of proba[:, 1]

Reading the file, building the features and imports happen before any clock starts. Thread
pools (OpenMP, BLAS) are limited to --threads through the environment, set before numpy loads.
"""

import argparse
import json
import os
import sys
import time
import traceback


def probe():
    out = {"python": sys.version.split()[0], "packages": {}}
    for name in ("sklearn", "onnxruntime", "polars"):
        try:
            out["packages"][name] = __import__(name).__version__
        except Exception as err:  # noqa: BLE001 - any import failure means "not installed"
            out["packages"][name] = None
            out.setdefault("errors", {})[name] = f"{type(err).__name__}: {err}"
    return out


def features(path):
    import polars as pl

    df = pl.read_parquet(path, columns=["date", "delay", "distance"])
    cols = [
        pl.col("date").dt.hour().cast(pl.Float64).alias("hour"),
        pl.col("date").dt.weekday().cast(pl.Float64).alias("weekday"),
        pl.col("date").dt.month().cast(pl.Float64).alias("month"),
        pl.col("distance").cast(pl.Float64),
    ]
    every = df.select(cols).to_numpy()
    labelled = df.filter(pl.col("delay").is_not_null())
    return every, labelled.select(cols).to_numpy(), (labelled["delay"] > 15).to_numpy()


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def run(args):
    import numpy as np
    import onnxruntime as ort
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    every, X, y = features(args.file)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
    out = {"python": sys.version.split()[0], "train_rows": len(X_train), "test_rows": len(X_test)}

    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    seconds, _ = timed(lambda: pipe.fit(X_train, y_train))
    auc = roc_auc_score(y_test, pipe.predict_proba(X_test)[:, 1])
    out["fit"] = {"seconds": seconds, "test_auc": float(auc), "n_iter": int(pipe[-1].n_iter_[0])}

    scaled = pipe.named_steps["scale"].transform(X_train)
    km = KMeans(n_clusters=8, n_init=1, random_state=0)
    seconds, _ = timed(lambda: km.fit(scaled))
    out["kmeans"] = {"seconds": seconds, "inertia": float(km.inertia_), "n_iter": int(km.n_iter_)}

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    session = ort.InferenceSession(args.onnx, opts, providers=["CPUExecutionProvider"])
    rows32 = np.ascontiguousarray(every, dtype=np.float32)
    name = session.get_inputs()[0].name
    seconds, total = timed(lambda: float(session.run(["proba"], {name: rows32})[0][:, 1].sum()))
    out["predict"] = {"seconds": seconds, "rows": len(rows32), "proba_1_sum": total}
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["probe", "run"])
    parser.add_argument("--file")
    parser.add_argument("--onnx")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    try:
        result = probe() if args.command == "probe" else run(args)
    except Exception as err:  # noqa: BLE001 - reported to bench/ml.ts as the round's error
        result = {"error": f"{type(err).__name__}: {err}", "trace": traceback.format_exc()[-1500:]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
