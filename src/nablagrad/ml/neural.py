"""``MLPClassifier`` and ``MLPRegressor``: scikit-learn estimators over ``nn`` and ``train``."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np

from .. import nn, optim
from ..autodiff import as_tensor, maximum, sigmoid, softmax
from ..nn import HIDDEN_ACTIVATIONS, l2_penalty
from ..nn.functional import binary_cross_entropy_with_logits, cross_entropy, squared_error_loss
from ..train import Callback
from ..train import fit as train_fit
from ..train import predict as train_predict
from ._params import BOOLEAN, LAYER_SIZES, RANDOM_STATE, Interval, Options
from .base import (
    BaseEstimator,
    ClassifierMixin,
    ConvergenceWarning,
    DataConversionWarning,
    RegressorMixin,
    _fit_context,
    check_classification_targets,
    check_is_fitted,
    check_X_y,
    validate_features,
)
from .metrics import _check_sample_weight

ALIASES = {"logistic": "sigmoid", "linear": "identity"}  # scikit-learn's name for the sigmoid, and nn's alias


class BatchPenalisedLoss:
    """scikit-learn's loss of a mini-batch ``B`` with sample weights ``s`` (1 without):

        ``L_B = (Σ_{i∈B} s_i ℓ_i + α/2 Σ_l ‖W_l‖²) / S_B``,  ``S_B = Σ_{i∈B} s_i``

    (weights ``W`` only, not biases): the weighted mean of the rows' losses ``ℓ_i`` plus the penalty
    divided by this batch's own size ``S_B`` (``|B|`` without weights; the last batch of an epoch may be
    smaller).  The target holds the weights as its last column, so they follow the rows through the
    batches.  ``report``: the share of the stepped loss that is reported (see :func:`half_squared_error`).
    A batch whose weights are all 0 has loss 0 and no gradient (scikit-learn raises ZeroDivisionError)."""

    def __init__(self, per_row, model: nn.Module, alpha: float, report: float = 1.0):
        self.per_row, self.model, self.alpha, self.report = per_row, model, alpha, report

    def __call__(self, pred, packed):
        target, s = packed[:, :-1], packed[:, -1]
        total = s.sum()
        size = maximum(total, np.finfo(np.float32).tiny)  # S_B, or any positive number when it is 0 (then ℓ·s = 0)
        stepped = (self.per_row(pred, target) * s).sum() / size
        data = stepped if self.report == 1.0 else stepped - (stepped * (1.0 - self.report)).detach()
        return data + l2_penalty(self.model, self.alpha / 2) * (total / size) / size  # total/size: 1, or 0 when S_B = 0


class NoImprovementStop(Callback):
    """scikit-learn's stopping rule on the training loss ``L_t`` of epoch ``t``: the epoch does not improve
    when ``L_t > best − tol`` (``best``: the lowest loss before it); training stops once more than
    ``n_iter_no_change`` epochs in a row did not improve.  ``stopped`` says whether the rule ended the run."""

    def __init__(self, tol: float, n_iter_no_change: int):
        self.tol, self.n_iter_no_change = tol, n_iter_no_change
        self.on_train_begin(None)

    def on_train_begin(self, trainer) -> None:
        self.best, self.count, self.stopped = np.inf, 0, False

    def on_epoch_end(self, trainer, epoch: int, logs: dict) -> None:
        loss = logs["loss"]
        self.count = self.count + 1 if loss > self.best - self.tol else 0
        self.best = min(self.best, loss)
        if self.count > self.n_iter_no_change:
            trainer.stop_training = self.stopped = True


class _MLP(BaseEstimator):
    """A multilayer perceptron trained by Adam on mini-batches, stopped by scikit-learn's rule on the training loss."""

    _parameter_constraints = {
        "hidden_layer_sizes": [LAYER_SIZES],
        "activation": [Options(set(HIDDEN_ACTIVATIONS) | set(ALIASES))],
        "alpha": [Interval(Real, 0, None)],
        "batch_size": [Interval(Integral, 1, None), Options({"auto"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None)],
        "tol": [Interval(Real, 0, None)],
        "random_state": [RANDOM_STATE],
        "shuffle": [BOOLEAN],
        "n_iter_no_change": [Interval(Integral, 1, None)],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "warm_start": [BOOLEAN],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation: str = "relu", alpha: float = 1e-4,
                 batch_size: int | str = "auto", learning_rate_init: float = 1e-3, max_iter: int = 200,
                 tol: float = 1e-4, random_state=None, shuffle: bool = True, n_iter_no_change: int = 10,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-8, warm_start: bool = False):  # fmt: skip
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.shuffle = shuffle
        self.n_iter_no_change = n_iter_no_change
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warm_start = warm_start

    def _batch_size(self, n: int) -> int:
        """scikit-learn's: ``"auto"`` is ``min(200, n)``; a size above ``n`` is clipped to ``n``, with its warning."""
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
                          UserWarning, stacklevel=5)  # fmt: skip
        return min(int(self.batch_size), n)

    def _seed(self):
        """The seed of a training call: ``random_state``, or a fresh one (an int seed gives every call the same)."""
        return self.random_state if self.random_state is not None else np.random.default_rng().integers(2**31)

    def _train(self, X, T, n_out: int, per_row, sample_weight=None, report: float = 1.0, incremental: bool = False):
        """Train on targets ``T`` (n, m) with the rows' losses ``per_row(ŷ, T_B)`` weighted by ``sample_weight``:
        up to ``max_iter`` epochs (``fit``), or — ``incremental`` (``partial_fit``) — one epoch without the
        stopping rule or its warning, as scikit-learn's.  ``fit`` starts from new weights, or with
        ``warm_start`` from the last fit's (with a new Adam); ``partial_fit`` continues the network and
        Adam's state of the calls before (new ones on the first).  The network computes in X's float
        dtype (float32 data: float32 weights and outputs, as scikit-learn's)."""
        s = np.ones(len(X)) if sample_weight is None else sample_weight
        seed = self._seed()
        hidden = [self.hidden_layer_sizes] if isinstance(self.hidden_layer_sizes, Integral) else self.hidden_layer_sizes
        sizes = [X.shape[1], *(int(h) for h in hidden), n_out]
        fresh = not hasattr(self, "model_") or not (incremental or self.warm_start)
        if fresh:
            activation = ALIASES.get(self.activation, self.activation)
            self.model_ = nn.MLP(sizes, activation=activation, dtype=X.dtype.name, seed=seed)
            self.loss_curve_, self.t_ = [], 0
        elif sizes != (trained := [self.coefs_[0].shape[0], *(b.shape[0] for b in self.intercepts_)]):
            call = "partial_fit" if incremental else "fit with warm_start=True"
            raise ValueError(f"{type(self).__name__}.{call}: the data and hidden_layer_sizes give layers {sizes} but "
                             f"the network has {trained} (inputs, hidden units, outputs); pass data of the same "
                             "shape and keep hidden_layer_sizes, or fit from scratch (warm_start=False)")  # fmt: skip
        continued = [] if fresh else [self.model_]  # trained in place: put back below if this call fails
        if incremental and hasattr(self, "_optimizer"):
            continued.append(self._optimizer)
        else:
            self._optimizer = optim.Adam(self.model_.parameters(), lr=self.learning_rate_init,
                                         betas=(self.beta_1, self.beta_2), eps=self.epsilon)  # fmt: skip
        saved = [(obj, obj.state_dict()) for obj in continued]  # copies (the attributes _fit_context restores)
        try:
            stop = NoImprovementStop(self.tol, self.n_iter_no_change)
            loss = BatchPenalisedLoss(per_row, self.model_, self.alpha, report)
            history = train_fit(self.model_, loss, self._optimizer, X, np.column_stack([T, s]),
                                epochs=1 if incremental else self.max_iter, batch_size=self._batch_size(len(X)),
                                shuffle=self.shuffle, callbacks=[] if incremental else [stop], seed=seed)  # fmt: skip
            self.loss_curve_ = [*self.loss_curve_, *(float(v) for v in history["loss"])]
            self.n_iter_ = len(history.epoch)  # of this call: 1 after partial_fit, as scikit-learn's
            self.t_ += self.n_iter_ * len(X)  # samples seen by the optimiser, over every call
            if not incremental and not stop.stopped:  # as scikit-learn: ran all max_iter epochs without meeting the rule
                warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the optimization "
                              "hasn't converged yet.", ConvergenceWarning, stacklevel=4)  # fmt: skip
        except BaseException:  # Ctrl-C, a warning turned error: the weights and Adam's state as before the call
            for obj, state in saved:
                obj.load_state_dict(state)
            raise

    def _forward(self, X):
        """The network's outputs in the dtype scikit-learn's would have: X's and the weights' common float type."""
        X = self._check_X(X, "model_")
        out = train_predict(self.model_, X)
        return out.astype(np.result_type(X.dtype, out.dtype), copy=False)

    # scikit-learn's fitted attributes, read from the trained network (layer i: x ↦ x W_i + b_i)
    def _linears(self) -> list:
        check_is_fitted(self, "model_")
        return [m for m in self.model_.modules() if isinstance(m, nn.Linear)]

    @property
    def coefs_(self) -> list[np.ndarray]:
        """The weight matrices, ``coefs_[i]`` of shape (units in layer i, units in layer i + 1)."""
        return [m.weight.numpy() for m in self._linears()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """The bias vectors, ``intercepts_[i]`` of shape (units in layer i + 1,)."""
        return [m.bias.numpy() for m in self._linears()]

    @property
    def n_layers_(self) -> int:
        """Input, hidden and output layers."""
        return len(self._linears()) + 1

    @property
    def n_outputs_(self) -> int:
        """Output units: one per class (softmax), per label (multilabel) or per target; one for two classes."""
        return int(self._linears()[-1].weight.shape[1])

    @property
    def out_activation_(self) -> str:
        """scikit-learn's name of the output function: ``"identity"``, ``"logistic"`` or ``"softmax"``."""
        check_is_fitted(self, "model_")
        return self._out_activation

    @property
    def loss_(self) -> float:
        """The training loss of the last epoch."""
        check_is_fitted(self, "loss_curve_")
        return float(self.loss_curve_[-1])

    @property
    def best_loss_(self) -> float:
        """The lowest training loss of an epoch."""
        check_is_fitted(self, "loss_curve_")
        return float(np.min(self.loss_curve_))


def half_squared_error(pred, target):
    """A row's ``½ Σ_outputs (ŷ − y)²``.  scikit-learn reports ``f = ½ · mean((ŷ − y)²)`` over samples and
    outputs but steps along the gradient of ``g = m·f`` (its output delta is ``(ŷ − y)/n`` whatever the number
    of outputs m): the loss is stepped on these rows and reported with the share ``1/m``
    (:class:`BatchPenalisedLoss`), so ``loss_curve_`` and the weights both follow scikit-learn's."""
    return squared_error_loss(pred, target, reduction="none")


def label_sum_bce(logits, target):
    """A row's ``Σ_l BCE(z_l, y_l)``, scikit-learn's logistic-output loss: summed over the labels (one
    column for two classes)."""
    return binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1)


def softmax_cross_entropy(logits, label):
    """A row's ``−log softmax(z)_y`` (``y``: the class, held as a float column of the packed target):
    ``nn``'s fused cross-entropy of integer labels, per row."""
    return cross_entropy(logits, label[:, 0].astype(np.intp), reduction="none")


class MLPClassifier(ClassifierMixin, _MLP):
    """As scikit-learn's: one logistic output unit and binary cross-entropy for two classes
    (``P(classes_[1] | x) = σ(z)``), softmax cross-entropy over k units for k > 2 classes, and a
    sigmoid + BCE per column for multilabel targets (a 0/1 indicator matrix)."""

    def _tag_overrides(self):
        return {"multi_label": True, "non_deterministic": self.random_state is None}

    def fit(self, X, y, sample_weight=None):
        """Train on class labels (softmax) or a 0/1 indicator matrix (one sigmoid per label).
        ``sample_weight`` ``s_i``: each batch's loss is ``Σ s_i ℓ_i / Σ s_i`` and its penalty is divided by
        ``Σ s_i`` too, as scikit-learn's (:class:`BatchPenalisedLoss`)."""
        X, y = check_X_y(X, y, multi_output=True, est=self)
        sw = _check_sample_weight(sample_weight, len(X), f"{type(self).__name__}.fit")
        validate_features(self, X, reset=True)
        y = np.asarray(y)
        before = getattr(self, "classes_", None) if self.warm_start and hasattr(self, "model_") else None
        self.multilabel_ = y.ndim == 2
        if self.multilabel_:
            self.classes_ = np.arange(y.shape[1])
        else:
            self._encode_classes(check_classification_targets(y, type(self).__name__))
        if before is not None and (len(before) != len(self.classes_) or np.any(before != self.classes_)):
            raise ValueError(f"{type(self).__name__}.fit: warm_start can only be used where `y` has the same classes "
                             f"as in the previous call to fit. Previously got {before}, `y` has {self.classes_}; "
                             "pass warm_start=False to start over")  # fmt: skip
        self._train(X, *self._targets(y, "fit"), sw)
        return self

    @_fit_context
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch of Adam over (X, y), continuing the network of the calls (or the ``fit``) before, as
        scikit-learn's.  The first call needs ``classes``, every class label (of which y may show only
        some; for a 0/1 indicator matrix y, any non-empty list); later calls may repeat it unchanged."""
        who = f"{type(self).__name__}.partial_fit"
        X, y = check_X_y(X, y, multi_output=True, est=self)
        sw = _check_sample_weight(sample_weight, len(X), who)
        y = np.asarray(y)
        first = not hasattr(self, "classes_")
        if first and classes is None:
            raise ValueError(f"{who}: classes must be passed on the first call to partial_fit: every class label, "
                             "e.g. classes=np.unique(y_all)")  # fmt: skip
        if first:
            validate_features(self, X, reset=True)
            self.multilabel_ = y.ndim == 2
            if self.multilabel_:
                self.classes_ = np.arange(y.shape[1])
            else:
                self._encode_classes(check_classification_targets(np.asarray(classes), type(self).__name__))
        else:
            validate_features(self, X, reset=False)
            if classes is not None and not self.multilabel_ and not np.array_equal(np.unique(classes), self.classes_):
                raise ValueError(f"{who}: `classes={np.unique(classes)!r}` is not the same as on last call to "
                                 f"partial_fit, was: {self.classes_!r}; pass the same classes or None")  # fmt: skip
            if (y.ndim == 2) != self.multilabel_:
                raise ValueError(f"{who}: y is {'a 2-D indicator matrix' if y.ndim == 2 else '1-D labels'} but the "
                                 "network was trained on the other kind; call fit to start over")  # fmt: skip
        if not self.multilabel_:
            unseen = np.setdiff1d(np.unique(check_classification_targets(y, type(self).__name__)), self.classes_)
            if len(unseen):
                raise ValueError(f"{who}: `y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {unseen} besides; list every class in classes= on the "
                                 "first call")  # fmt: skip
        self._train(X, *self._targets(y, who), sw, incremental=True)
        return self

    def _targets(self, y: np.ndarray, who: str) -> tuple:
        """``(T, n_out, per_row)``: the targets as float columns, the output units and the rows' loss for
        labels among ``classes_`` (or an indicator matrix): one logistic unit for two classes, k softmax
        units for k > 2, one logistic unit per label."""
        if self.multilabel_:
            if y.shape[1] != len(self.classes_):
                raise ValueError(f"{who}: y has {y.shape[1]} label columns, the network {len(self.classes_)}")
            self._out_activation = "logistic"
            return y.astype(np.float64), y.shape[1], label_sum_bce
        enc = np.searchsorted(self.classes_, check_classification_targets(y, type(self).__name__))[:, None]
        if len(self.classes_) == 2:  # one unit: z = logit P(classes_[1] | x)
            self._out_activation = "logistic"
            return enc.astype(np.float64), 1, label_sum_bce
        self._out_activation = "softmax"
        return enc.astype(np.float64), len(self.classes_), softmax_cross_entropy

    def predict_proba(self, X):
        """σ per label (multilabel), ``[1 − σ(z), σ(z)]`` (two classes), softmax (more); rows of
        class probabilities sum to 1."""
        z = self._forward(X)
        if self.multilabel_:
            return sigmoid(as_tensor(z)).numpy()
        if z.shape[1] == 1:
            p1 = sigmoid(as_tensor(z[:, 0])).numpy()
            return np.column_stack([1.0 - p1, p1])
        return softmax(as_tensor(z), axis=1).numpy()

    def predict_log_proba(self, X):
        """``log predict_proba(X)``, as scikit-learn's."""
        with np.errstate(divide="ignore"):  # a probability that underflowed to 0: −inf, as scikit-learn's
            return np.log(self.predict_proba(X))

    def predict(self, X):
        p = self.predict_proba(X)
        return (p > 0.5).astype(np.int64) if self.multilabel_ else self.classes_[p.argmax(1)]


class MLPRegressor(RegressorMixin, _MLP):
    """Squared error on one or several outputs."""

    def _tag_overrides(self):
        return {"multi_output": True, "non_deterministic": self.random_state is None}

    def fit(self, X, y, sample_weight=None):
        """Train on one target per row, or several columns (one output each).  ``sample_weight`` ``s_i``:
        each batch's loss is ``Σ s_i ℓ_i / Σ s_i`` and its penalty is divided by ``Σ s_i`` too, as scikit-learn's."""
        X, Y, sw = self._regression_data(X, y, sample_weight, "fit", reset=True)
        self._train(X, Y, Y.shape[1], half_squared_error, sw, report=1.0 / Y.shape[1])
        return self

    @_fit_context
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of Adam over (X, y), continuing the network of the calls (or the ``fit``) before, as
        scikit-learn's; y must have the same number of outputs every call."""
        X, Y, sw = self._regression_data(X, y, sample_weight, "partial_fit", reset=not hasattr(self, "model_"))
        self._train(X, Y, Y.shape[1], half_squared_error, sw, report=1.0 / Y.shape[1], incremental=True)
        return self

    def _regression_data(self, X, y, sample_weight, method: str, reset: bool) -> tuple:
        """``(X, Y (n, m) float64, sample weights)`` checked; ``reset``: a first call, which records the
        features and whether y is one output (a column vector y is one, with scikit-learn's warning)."""
        X, y = check_X_y(X, y, y_numeric=True, multi_output=True, est=self)
        sw = _check_sample_weight(sample_weight, len(X), f"{type(self).__name__}.{method}")
        validate_features(self, X, reset=reset)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:  # as scikit-learn's MLPRegressor: a column vector is one output
            warnings.warn("A column-vector y was passed when a 1d array was expected. Please change the shape of y to "
                          "(n_samples, ), for example using ravel().", DataConversionWarning, stacklevel=4)  # fmt: skip
            y = y[:, 0]
        if reset:
            self._single = y.ndim == 1
            self._out_activation = "identity"
        return X, y.reshape(len(y), -1), sw

    def predict(self, X):
        out = self._forward(X)
        return out[:, 0] if self._single else out
