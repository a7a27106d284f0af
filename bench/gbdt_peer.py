#!/usr/bin/env python3
"""LightGBM and scikit-learn peer for `kubedask bench gbdt`: ONE JSON line on stdout.

  probe                                 which of lightgbm, scikit-learn, threadpoolctl, polars
                                        import, and versions
  run --file PARQUET [--threads 2] [--no-lightgbm] [--no-sklearn]
                                        one round: LightGBM's fit, then scikit-learn's, in this
                                        one process

The data (bench/gbdt.ts builds the same for kubedask): every row of PARQUET (flights-3m or its
first rows); features hour, ISO weekday (1 = Monday) and month of `date`, and distance, as
float64; label delay > 15; test rows are those whose 0-based row index in the file is a
multiple of 5, the others train; rows with a null delay dropped after the index is taken
(flights-3m has none). Built with polars before any clock starts.

  lightgbm  LGBMClassifier(n_estimators=100, num_leaves=31, learning_rate=0.1,
            min_child_samples=20, reg_lambda=0, max_bin=255, min_child_weight=1e-3,
            num_threads=--threads, deterministic=True, verbose=-1): seconds of fit() (binning
            the rows included), test AUC of predict_proba, trees
  sklearn   HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31, learning_rate=0.1,
            min_samples_leaf=20, l2_regularization=0, max_bins=255, early_stopping=False,
            random_state=0: it seeds the 200,000-row sample its bin edges come from), fitted
            under threadpoolctl's threadpool_limits(--threads): seconds of fit() (binning
            included), test AUC, iterations

A model whose library does not import is reported {"error": ...}, the other still runs.
OpenMP's thread pool is also limited to --threads through the environment, set before numpy loads.
"""

import argparse
import json
import os
import sys
import time
import traceback

FEATURES = ["hour", "weekday", "month", "distance"]
LIGHTGBM = dict(n_estimators=100, num_leaves=31, learning_rate=0.1, min_child_samples=20, reg_lambda=0.0, max_bin=255,
                min_child_weight=1e-3, deterministic=True, verbose=-1)
SKLEARN = dict(max_iter=100, max_leaf_nodes=31, learning_rate=0.1, min_samples_leaf=20, l2_regularization=0.0, max_bins=255,
               early_stopping=False, random_state=0)


def probe():
    out = {"python": sys.version.split()[0], "packages": {}}
    for name in ("lightgbm", "sklearn", "threadpoolctl", "polars"):
        try:
            out["packages"][name] = __import__(name).__version__
        except Exception as err:  # noqa: BLE001 - any import failure means "not installed"
            out["packages"][name] = None
            out.setdefault("errors", {})[name] = f"{type(err).__name__}: {err}"
    return out


def data(path):
    """(X_train, y_train, X_test, y_test) as float64 features and 0/1 labels."""
    import polars as pl

    df = (
        pl.read_parquet(path, columns=["date", "delay", "distance"])
        .with_row_index("row")
        .filter(pl.col("delay").is_not_null())
        .select(
            pl.col("date").dt.hour().cast(pl.Float64).alias("hour"),
            pl.col("date").dt.weekday().cast(pl.Float64).alias("weekday"),
            pl.col("date").dt.month().cast(pl.Float64).alias("month"),
            pl.col("distance").cast(pl.Float64),
            (pl.col("delay") > 15).cast(pl.Int64).alias("late"),
            (pl.col("row") % 5 == 0).alias("test"),
        )
    )
    train, test = df.filter(~pl.col("test")), df.filter(pl.col("test"))
    return train.select(FEATURES).to_numpy(), train["late"].to_numpy(), test.select(FEATURES).to_numpy(), test["late"].to_numpy()


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def run_lightgbm(X, y, X_test, y_test, threads):
    from lightgbm import LGBMClassifier
    from sklearn.metrics import roc_auc_score

    model = LGBMClassifier(num_threads=threads, **LIGHTGBM)
    seconds, _ = timed(lambda: model.fit(X, y))
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    return {"seconds": seconds, "test_auc": float(auc), "n_trees": int(model.booster_.num_trees())}


def run_sklearn(X, y, X_test, y_test, threads):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    model = HistGradientBoostingClassifier(**SKLEARN)
    with threadpool_limits(limits=threads):
        seconds, _ = timed(lambda: model.fit(X, y))
        auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    return {"seconds": seconds, "test_auc": float(auc), "n_iter": int(model.n_iter_)}


def run(args):
    X, y, X_test, y_test = data(args.file)
    out = {"python": sys.version.split()[0], "train_rows": len(X), "test_rows": len(X_test),
           "train_positives": int(y.sum()), "test_positives": int(y_test.sum())}
    for name, fit, skip in (("lightgbm", run_lightgbm, args.no_lightgbm), ("sklearn", run_sklearn, args.no_sklearn)):
        if skip:
            continue
        try:
            out[name] = fit(X, y, X_test, y_test, args.threads)
        except Exception as err:  # noqa: BLE001 - one library failing: reported, the other's figures stand
            out[name] = {"error": f"{type(err).__name__}: {err}"}
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["probe", "run"])
    parser.add_argument("--file")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-lightgbm", action="store_true")
    parser.add_argument("--no-sklearn", action="store_true")
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    try:
        result = probe() if args.command == "probe" else run(args)
    except Exception as err:  # noqa: BLE001 - reported to bench/gbdt.ts as the round's error
        result = {"error": f"{type(err).__name__}: {err}", "trace": traceback.format_exc()[-1500:]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
