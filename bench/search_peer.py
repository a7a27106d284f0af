#!/usr/bin/env python3
"""scikit-learn and Ray Tune peer for `kubedask bench search`: ONE JSON line on stdout.

  probe                                   which of scikit-learn, polars, ray import, and versions
  run --file PARQUET --rows N [--threads 2] [--no-ray]
                                          one round of the grid search, in this one process
  asha --file PARQUET --rows N --shards S --trials T [--max-t 27] [--threads 2]
                                          one round of Ray Tune's ASHA over an SGD classifier

The data (bench/search.ts builds the same on kubedask): the first N rows of flights-3m;
features hour, ISO weekday (1 = Monday) and month of `date`, and distance, as float64; label
delay > 15; rows with a null delay dropped.

  sklearn  GridSearchCV(Pipeline(StandardScaler, LogisticRegression(lbfgs)), C in GRID,
           cv=KFold(3, shuffle, random_state 0), n_jobs=--threads) and its default scoring
           (accuracy); best C, best score, seconds
  ray      the same 6 x 3 fits as Ray Tune trials (tune.grid_search over C; each trial fits
           its 3 folds and reports the mean accuracy), --threads trials at once, one CPU each;
           ray.init before the clock
  asha     Ray Tune's ASHAScheduler (max_t --max-t training iterations, grace period 1,
           reduction factor 3, one bracket) over --trials SGDClassifier(loss='log_loss',
           shuffle=False) configurations from SPACE (seeded), --threads trials at once, one CPU
           each. The features are scaled by a StandardScaler fitted on all rows; 15 % of the rows
           (a seeded draw) are held out, the rest split in file order into --shards contiguous
           blocks, as kubedask's training shards are partitions of the file. A training
           iteration is one partial_fit on the next block (iteration i: block i mod S) and a
           report of the held-out log loss. Seconds from the start of tuner.fit, and every
           result as the driver receives it: [seconds, log loss]

Reading the file and building the features happen before any clock starts. Thread pools (OpenMP,
BLAS) are limited to 1 a process when n_jobs runs --threads processes.
"""

import argparse
import json
import os
import sys
import time
import traceback

GRID = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]
TEST_SIZE = 0.15
LEARNING_RATES = ["optimal", "invscaling", "constant"]


def probe():
    out = {"python": sys.version.split()[0], "packages": {}}
    for name in ("sklearn", "polars", "ray"):
        try:
            out["packages"][name] = __import__(name).__version__
        except Exception as err:  # noqa: BLE001 - any import failure means "not installed"
            out["packages"][name] = None
            out.setdefault("errors", {})[name] = f"{type(err).__name__}: {err}"
    return out


def features(path, rows):
    import polars as pl

    df = pl.read_parquet(path, columns=["date", "delay", "distance"]).head(rows)
    df = df.filter(pl.col("delay").is_not_null())
    cols = [
        pl.col("date").dt.hour().cast(pl.Float64).alias("hour"),
        pl.col("date").dt.weekday().cast(pl.Float64).alias("weekday"),
        pl.col("date").dt.month().cast(pl.Float64).alias("month"),
        pl.col("distance").cast(pl.Float64),
    ]
    return df.select(cols).to_numpy(), (df["delay"] > 15).to_numpy()


def pipeline(C=1.0):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(C=C))])


def run_sklearn(X, y, threads):
    from sklearn.model_selection import GridSearchCV, KFold

    search = GridSearchCV(pipeline(), {"clf__C": GRID}, cv=KFold(3, shuffle=True, random_state=0), n_jobs=threads, refit=False)
    t0 = time.perf_counter()
    search.fit(X, y)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "best_C": search.best_params_["clf__C"], "best_score": float(search.best_score_),
            "mean_test_score": [float(s) for s in search.cv_results_["mean_test_score"]]}


def run_ray(X, y, threads):
    import numpy as np
    import ray
    from ray import tune
    from sklearn.model_selection import KFold

    ray.init(num_cpus=threads, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        X_ref, y_ref = ray.put(X), ray.put(y)

        def trainable(config):
            Xs, ys = ray.get(X_ref), ray.get(y_ref)
            scores = []
            for train, test in KFold(3, shuffle=True, random_state=0).split(Xs):
                model = pipeline(config["C"]).fit(Xs[train], ys[train])
                scores.append(model.score(Xs[test], ys[test]))
            return {"accuracy": float(np.mean(scores))}

        tuner = tune.Tuner(
            tune.with_resources(trainable, {"cpu": 1}),
            param_space={"C": tune.grid_search(GRID)},
            tune_config=tune.TuneConfig(metric="accuracy", mode="max", max_concurrent_trials=threads),
            run_config=tune.RunConfig(verbose=0),
        )
        t0 = time.perf_counter()
        results = tuner.fit()
        seconds = time.perf_counter() - t0
        best = results.get_best_result()
        return {"seconds": seconds, "best_C": best.config["C"], "best_score": float(best.metrics["accuracy"])}
    finally:
        ray.shutdown()


def asha_data(path, rows, shards):
    """Scaled features; the training rows in file order as `shards` contiguous blocks; the held-out rows."""
    import numpy as np
    from sklearn.preprocessing import StandardScaler

    X, y = features(path, rows)
    X = StandardScaler().fit_transform(X)
    held = np.random.default_rng(0).random(len(X)) < TEST_SIZE
    train_X, train_y = X[~held], y[~held]
    blocks = [(train_X[b], train_y[b]) for b in np.array_split(np.arange(len(train_X)), shards)]
    return blocks, (X[held], y[held])


def run_asha(args):
    import math

    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.basic_variant import BasicVariantGenerator
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import log_loss

    blocks, valid = asha_data(args.file, args.rows, args.shards)
    ray.init(num_cpus=args.threads, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        blocks_ref, valid_ref = ray.put(blocks), ray.put(valid)

        def trainable(config):
            train, (X_valid, y_valid) = ray.get(blocks_ref), ray.get(valid_ref)
            model = SGDClassifier(loss="log_loss", shuffle=False, **config)
            for i in range(args.max_t):
                X, y = train[i % len(train)]
                try:
                    model.partial_fit(X, y, classes=[False, True])
                    loss = log_loss(y_valid, model.predict_proba(X_valid), labels=[False, True])
                except ValueError:
                    # The weights overflowed (scikit-learn raises, or the probabilities are NaN):
                    # the trial ends at the worst score, as a kubedask model stops at its error score.
                    tune.report({"log_loss": math.inf})
                    return
                tune.report({"log_loss": float(loss)})

        class Curve(tune.Callback):
            """Every result as the driver receives it (where ASHA decides): seconds since t0, log loss."""

            def __init__(self):
                self.t0, self.points, self.calls = 0.0, [], 0

            def on_trial_result(self, iteration, trials, trial, result, **info):
                self.calls += 1
                if math.isfinite(result["log_loss"]):
                    self.points.append([time.perf_counter() - self.t0, result["log_loss"]])

        curve = Curve()
        space = {"alpha": tune.loguniform(1e-6, 1e-1), "eta0": tune.loguniform(1e-4, 1.0), "learning_rate": tune.choice(LEARNING_RATES)}
        scheduler = ASHAScheduler(time_attr="training_iteration", max_t=args.max_t, grace_period=1, reduction_factor=3, brackets=1)
        tuner = tune.Tuner(
            tune.with_resources(trainable, {"cpu": 1}),
            param_space=space,
            tune_config=tune.TuneConfig(metric="log_loss", mode="min", scheduler=scheduler, num_samples=args.trials,
                                        search_alg=BasicVariantGenerator(random_state=0), max_concurrent_trials=args.threads, reuse_actors=True),
            run_config=tune.RunConfig(verbose=0, callbacks=[curve]),
        )
        curve.t0 = time.perf_counter()
        results = tuner.fit()
        seconds = time.perf_counter() - curve.t0
        best = results.get_best_result(scope="all")
        return {"seconds": seconds, "trials": len(results), "partial_fit_calls": curve.calls,
                "best_log_loss": min(loss for _, loss in curve.points), "best_config": best.config, "curve": curve.points}
    finally:
        ray.shutdown()


def asha(args):
    try:
        return {"python": sys.version.split()[0], "asha": run_asha(args)}
    except Exception as err:  # noqa: BLE001 - Ray missing or failing: reported, the grid's figures stand
        return {"asha": {"error": f"{type(err).__name__}: {err}"}}


def run(args):
    X, y = features(args.file, args.rows)
    out = {"python": sys.version.split()[0], "rows": len(X), "sklearn": run_sklearn(X, y, args.threads)}
    if not args.no_ray:
        try:
            out["ray"] = run_ray(X, y, args.threads)
        except Exception as err:  # noqa: BLE001 - Ray missing or failing: reported, sklearn's figures stand
            out["ray"] = {"error": f"{type(err).__name__}: {err}"}
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["probe", "run", "asha"])
    parser.add_argument("--file")
    parser.add_argument("--rows", type=int, default=3_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--shards", type=int, default=6)
    parser.add_argument("--trials", type=int, default=49)
    parser.add_argument("--max-t", type=int, default=27)
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        result = probe() if args.command == "probe" else {"run": run, "asha": asha}[args.command](args)
    except Exception as err:  # noqa: BLE001 - reported to bench/search.ts as the round's error
        result = {"error": f"{type(err).__name__}: {err}", "trace": traceback.format_exc()[-1500:]}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
