"""Fit times of nablagrad.ml against scikit-learn on the same data, in the same run.

OLS and Ridge on 100 000 × 200, Lasso on 100 000 × 200, logistic regression on 20 000 × 50,
PCA on 20 000 × 784 (MNIST images). Prints the median wall and process CPU seconds of the fits
(interleaved: ours, theirs, ours, … — 3 of each, 21 for the fast logistic regression), the ratios
ours / scikit-learn, and the 1-minute load average while each row ran: the machine is shared,
so the CPU-time ratio is the one to read when the load is above the core count.
Run it as ``OPENBLAS_NUM_THREADS=1 python bench/ml.py`` (one BLAS thread each).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import clean_blas_env, interleaved_times, machine_report

clean_blas_env()

import numpy as np
from sklearn import decomposition, linear_model

import nablagrad as ng
from nablagrad import ml


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 200))
    y = X @ rng.standard_normal(200) + rng.standard_normal(100_000)
    yc = (X[:20_000, :50] @ rng.standard_normal(50) + rng.standard_normal(20_000) > 0).astype(int)
    Xc = X[:20_000, :50]
    Xp = ng.data.load_mnist(flatten=True)[0][:20_000].astype(np.float64)
    cases = [
        ("OLS 100000x200", lambda: ml.LinearRegression().fit(X, y), lambda: linear_model.LinearRegression().fit(X, y)),
        (
            "OLS normal eq.",
            lambda: ml.LinearRegression(solver="normal").fit(X, y),
            lambda: linear_model.LinearRegression().fit(X, y),
        ),
        ("Ridge 100000x200", lambda: ml.Ridge(alpha=1.0).fit(X, y), lambda: linear_model.Ridge(alpha=1.0).fit(X, y)),
        ("Lasso 100000x200", lambda: ml.Lasso(alpha=0.1, tol=1e-4).fit(X, y), lambda: linear_model.Lasso(alpha=0.1).fit(X, y)),
        (
            "Logistic 20000x50",
            lambda: ml.LogisticRegression().fit(Xc, yc),
            lambda: linear_model.LogisticRegression().fit(Xc, yc),
            21,
        ),
        ("PCA 20000x784 k=50 auto", lambda: ml.PCA(50).fit(Xp), lambda: decomposition.PCA(50).fit(Xp)),
        (
            "PCA 20000x784 k=50 rand.",
            lambda: ml.PCA(50, svd_solver="randomized", random_state=0).fit(Xp),
            lambda: decomposition.PCA(50, svd_solver="randomized", random_state=0).fit(Xp),
        ),
        (
            "PCA 20000x784 k=50 full",
            lambda: ml.PCA(50, svd_solver="full").fit(Xp),
            lambda: decomposition.PCA(50, svd_solver="full").fit(Xp),
        ),
    ]
    print(machine_report())
    print(f"{os.cpu_count()} cores; medians of interleaved fits; ratio = nablagrad / scikit-learn")
    head = ("task", "nablagrad s", "sklearn s", "ratio", "CPU s", "CPU s", "ratio", "load")
    print(f"{head[0]:24s}", *(f"{h:>{w}s}" for h, w in zip(head[1:], (12, 10, 6, 8, 8, 6, 5))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, ours, theirs, *repeat in cases:
            t = interleaved_times({"ours": ours, "theirs": theirs}, repeat=repeat[0] if repeat else 3)
            (a, ac), (b, bc) = t["ours"], t["theirs"]
            load = os.getloadavg()[0]
            print(f"{name:24s} {a:12.3f} {b:10.3f} {a / b:6.2f} {ac:8.3f} {bc:8.3f} {ac / bc:6.2f} {load:5.1f}", flush=True)


if __name__ == "__main__":
    main()
