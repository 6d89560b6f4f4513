"""A partial_fit or warm-start fit that fails while training (Ctrl-C, a warning turned error) leaves the
network and Adam's state as they were: the next call continues as if the failed one never ran."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nablagrad import ml
from nablagrad.ml import neural


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    return X, X[:, 0] - 0.5 * X[:, 1]


def _interrupting_train_fit(monkeypatch):
    real = neural.train_fit

    def interrupted(*args, **kwargs):
        real(*args, **kwargs)  # the weights and Adam's state are stepped, then the call fails
        raise KeyboardInterrupt

    monkeypatch.setattr(neural, "train_fit", interrupted)


@pytest.mark.parametrize("est", [ml.MLPRegressor, ml.MLPClassifier])
def test_interrupted_partial_fit_changes_nothing(est, monkeypatch):
    X, y = _data()
    y = y if est is ml.MLPRegressor else (y > 0).astype(int)
    extra = {} if est is ml.MLPRegressor else {"classes": [0, 1]}
    ours, twin = (est(hidden_layer_sizes=(4,), random_state=0).partial_fit(X, y, **extra) for _ in range(2))
    with monkeypatch.context() as m:
        _interrupting_train_fit(m)
        with pytest.raises(KeyboardInterrupt):
            ours.partial_fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, twin.coefs_ + twin.intercepts_):
        np.testing.assert_array_equal(a, b)
    ours.partial_fit(X, y)  # Adam's moments and step count as the twin's: the same next step
    twin.partial_fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, twin.coefs_ + twin.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert ours.loss_curve_ == twin.loss_curve_ and ours.t_ == twin.t_


def test_warm_start_fit_failing_on_its_convergence_warning_changes_nothing():
    X, y = _data()
    est = ml.MLPRegressor(hidden_layer_sizes=(4,), random_state=0, max_iter=2, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ml.ConvergenceWarning)
        est.fit(X, y)
    before, curve = [c.copy() for c in est.coefs_], list(est.loss_curve_)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ml.ConvergenceWarning)
        with pytest.raises(ml.ConvergenceWarning):
            est.fit(X, y)
    for a, b in zip(est.coefs_, before):
        np.testing.assert_array_equal(a, b)
    assert est.loss_curve_ == curve
