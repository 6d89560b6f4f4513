"""``Trainer`` — one training run's state and its steps (lectures 000, 003, 004).

Regimes: full-batch GD (``batch_size=None``, Algorithm 1), stochastic GD (``batch_size=1``,
random order, Algorithm 2), mini-batch GD (random subsets of m, Algorithm 3; or a sequential
split reshuffled every epoch, lecture 003).  Stopping: ``epochs``; ``weight_tol`` —
``‖w(t) − w(t−1)‖ ≤ ε`` between epochs (Algorithm 1); ``loss_tol`` — the epoch loss improved by
less than the tolerance; ``target_loss`` — the loss fell below a target.

Data parallel (``world.size = N > 1``): every rank draws the same global batch ``B`` (the same
seed), computes the loss and gradient on its share ``B_r`` and one all-reduce forms
``∇L_B = Σ_r (|B_r|/|B|) ∇L_{B_r}``; every rank then takes the same optimiser step.
"""

from __future__ import annotations

import copy
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import backend
from ..autodiff import Tensor, no_grad
from ..data.loader import batch_indices
from ..distributed import SingleProcess, World, allreduce_gradients
from ..nn import Module
from ..nn.utils import clip_grad_norm_
from ..optim import Optimizer
from .callbacks import Callback
from .compiled import BatchLoss, CompiledStep, NonFiniteLossError
from .evaluation import Batches, decision_threshold, evaluate, model_device, model_dtype, takes_indices
from .history import History, RunningRisk
from .metrics import TRAINING_METRICS

CHECKPOINT_NAME = "checkpoint.safetensors"


class TrainingDivergedError(FloatingPointError):
    """The loss or a gradient became NaN/Inf; the parameters are the last good ones."""


@dataclass
class EpochState:
    """Where the run is inside the current epoch (``batches is None`` between epochs)."""

    batches: list[np.ndarray] | None = None
    pos: int = 0
    loss_sum: float = 0.0
    count: int = 0
    metric_sums: dict[str, float] = field(default_factory=dict)


@dataclass
class StoppingRules:
    """``weight_tol`` (‖w(t) − w(t−1)‖ ≤ ε), ``loss_tol`` (improvement < tol), ``target_loss``."""

    weight_tol: float | None = None
    loss_tol: float | None = None
    target_loss: float | None = None


class Trainer:
    """The state of one ``fit`` run (what callbacks see and what checkpoints hold).

    ``run()`` trains to the end; ``run_epoch()`` one epoch; ``train_step(idx)`` one batch;
    ``checkpoint()`` / ``restore()`` save and reload the whole run state.
    """

    def __init__(self, model: Module, loss_fn, optimizer: Optimizer, X, y, *, epochs: int = 10,
                 batch_size: int | None = 32, sampling: str = "shuffle", validation_data=None,
                 metrics: Sequence[str] = (), callbacks: Sequence[Callback] = (), stopping: StoppingRules | None = None,
                 ema_lambda: float = 0.1, clip_grad_norm: float | None = None, l1: float = 0.0, l2: float = 0.0,
                 rng: np.random.Generator | None = None, checkpoint_dir: Path | None = None,
                 checkpoint_every: int | None = None, progress: bool | str = False, world: World | None = None,
                 jit: bool = True, drop_last: bool = False):  # fmt: skip
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.X, self.y, self.data = X, y, Batches(X, y, model_dtype(model), model_device(model), takes_indices(model))
        self.epochs, self.batch_size, self.sampling, self.drop_last = epochs, batch_size, sampling, drop_last
        self.validation_data, self.metrics, self.callbacks = validation_data, list(metrics), list(callbacks)
        self.stopping = stopping or StoppingRules()
        self.clip_grad_norm, self.l1, self.l2 = clip_grad_norm, l1, l2
        self.batch_loss = BatchLoss(model, loss_fn, l1, l2, compile=jit)
        self.world = world or SingleProcess()
        self.params = list(model.parameters())
        self.compiled_step = CompiledStep(self.batch_loss, optimizer, self.params, clip_grad_norm)
        self.rng = rng if rng is not None else np.random.default_rng(backend.default_rng().integers(2**63))
        self.checkpoint_path = Path(checkpoint_dir) / CHECKPOINT_NAME if checkpoint_dir is not None else None
        self.checkpoint_every = checkpoint_every
        self.progress = progress
        self.threshold = decision_threshold(loss_fn)
        self.history = History()
        self.risk = RunningRisk(ema_lambda)
        self.state = EpochState()
        self.prev: list[np.ndarray] | None = None  # weights at the start of the epoch (weight_tol)
        self.epoch = 0  # the current epoch (0-based) = epochs completed before it
        self.stop_training = False
        self.bar = None

    # --- the loop -----------------------------------------------------------------------------------
    def run(self, resume: bool = False) -> History:
        """Train until ``epochs`` are done or a stopping rule / callback ends the run.

        ``resume`` continues from the checkpoint all or nothing: if any part of it cannot be restored (the
        weights, the optimiser, the run's position, a callback's state), the model, the optimiser, this
        trainer and the callbacks are put back as they were and a ``ModelFileError`` says what failed."""
        if resume and self.checkpoint_path is not None and self.checkpoint_path.exists():
            self._resume()
        else:
            for cb in self.callbacks:
                cb.on_train_begin(self)
        self.bar = self._progress_bar()
        self.model.train()
        try:
            # overflow is detected and reported (TrainingDivergedError); NumPy's warnings would only repeat it
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                # (a run resumed inside an epoch finishes it even when stopped: a stop takes effect after the epoch)
                while self.epoch < self.epochs and (not self.stop_training or self.state.batches is not None):
                    self.run_epoch()
        finally:
            if self.bar is not None:
                self.bar.close()
        if not self.history.stop_reason:
            self.history.stop_reason = "max epochs reached" if not self.stop_training else "stopped by a callback"
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    def run_epoch(self) -> dict[str, float]:
        """The rest of the current epoch (all of it unless resumed mid-epoch); returns its logs."""
        if self.state.batches is None:
            self.begin_epoch()
        while self.state.pos < len(self.state.batches):
            self.train_step(self.state.batches[self.state.pos])
        return self.end_epoch()

    def begin_epoch(self) -> None:
        for cb in self.callbacks:
            cb.on_epoch_begin(self, self.epoch)
        n = len(self.X)
        weights = self._per_example_losses() if self.sampling == "hard" else None
        labels = np.asarray(self.y) if self.sampling == "balanced" else None
        batches = list(batch_indices(n, self.batch_size, self.sampling, self.rng, labels=labels, weights=weights,
                                     drop_last=self.drop_last))  # fmt: skip
        self.state = EpochState(batches=batches, metric_sums={m: 0.0 for m in self.metrics})
        if self.stopping.weight_tol is not None and self.prev is None:
            self.prev = [p.data.copy() for p in self.params]

    def train_step(self, idx: np.ndarray) -> float:
        """One optimiser step on the global batch ``idx`` (this rank computes its share); returns the loss."""
        if self.world.size == 1 and self.compiled_step.applies():  # (else the batch would be read twice)
            lv = self._compiled_train_step(idx)
            if lv is not None:
                return lv
        local, weight = self.world.shard(idx)
        local_loss, metric_sums = self._backward(local)
        extras = np.array([weight * local_loss, *metric_sums])
        extras = allreduce_gradients(self.params, self.world, weight, extras)
        lv = float(extras[0])
        step = self.state.pos
        if not math.isfinite(lv):
            raise self._diverged("loss", step)
        if self.clip_grad_norm is not None:
            clip_grad_norm_(self.params, self.clip_grad_norm)
        try:
            self.optimizer.step()
        except FloatingPointError as exc:
            raise self._diverged("gradient", step, exc) from None
        self._record_step(lv, len(idx), extras[1:])
        return lv

    def _compiled_train_step(self, idx: np.ndarray) -> float | None:
        """:meth:`train_step` in one process as one compiled program (:class:`CompiledStep`): the same
        numbers; ``None``, with nothing done, where the compiler refused it (the eager step follows)."""
        step = self.state.pos
        yh = self.data.y_host(idx)
        try:
            result = self.compiled_step(self.data.x(idx), self.data.on_device(yh))
        except NonFiniteLossError:
            raise self._diverged("loss", step) from None
        except FloatingPointError as exc:
            raise self._diverged("gradient", step, exc) from None
        if result is None:
            return None
        loss, out = result
        lv = float(loss.data)
        self._record_step(lv, len(idx), np.array(self._metric_sums(out, yh)))
        return lv

    def _backward(self, local: np.ndarray) -> tuple[float, list[float]]:
        """Loss (+ penalties) on the rows ``local``, its gradients in ``p.grad``, and ``metric · n`` sums."""
        self.optimizer.zero_grad()
        if len(local) == 0:  # more ranks than rows in this batch: contribute nothing
            return 0.0, [0.0] * len(self.metrics)
        yh = self.data.y_host(local)  # read once: the metrics use these host labels too
        xb, yb = self.data.x(local), self.data.on_device(yh)
        loss, out = self.batch_loss(xb, yb)
        lv = float(loss.data)
        if math.isfinite(lv):
            loss.backward()
        return lv, self._metric_sums(out, yh)

    def _metric_sums(self, out, yh: np.ndarray) -> list[float]:
        """``metric · n`` of each training metric on a batch's outputs and host labels."""
        if not self.metrics:
            return []
        out = out.numpy()  # metrics on the host (a copy from another device)
        return [TRAINING_METRICS[m](out, yh, self.threshold) * len(yh) for m in self.metrics]

    def _record_step(self, lv: float, n: int, metric_sums: np.ndarray) -> None:
        s = self.state
        s.loss_sum += lv * n
        s.count += n
        for m, v in zip(self.metrics, metric_sums):
            s.metric_sums[m] += float(v)
        self.risk.update(lv)
        self.history.steps["loss"].append(lv)
        self.history.steps["loss_mean"].append(self.risk.mean)
        self.history.steps["loss_ema"].append(self.risk.ema)
        step = s.pos
        s.pos += 1
        logs = {"loss": lv, "loss_mean": self.risk.mean, "loss_ema": self.risk.ema}
        for cb in self.callbacks:
            cb.on_batch_end(self, step, logs)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(epoch=self.epoch + 1, loss=f"{self.risk.ema:.4f}", refresh=False)
        if self.checkpoint_path is not None and self.checkpoint_every and s.pos % self.checkpoint_every == 0:
            self.checkpoint()

    def end_epoch(self) -> dict[str, float]:
        s = self.state
        count = max(s.count, 1)
        logs = {"loss": s.loss_sum / count, **{m: s.metric_sums[m] / count for m in self.metrics}}
        if self.validation_data is not None:
            val = evaluate(self.model, self.loss_fn, *self.validation_data, metrics=self.metrics, threshold=self.threshold)
            logs.update({f"val_{k}": v for k, v in val.items()})
        self.state = EpochState()
        for cb in self.callbacks:
            cb.on_epoch_end(self, self.epoch, logs)
        self.history.log_epoch(self.epoch, logs)
        if self.bar is not None:
            self.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=True)
        self.apply_stopping_rules(logs)
        self.epoch += 1
        if self.checkpoint_path is not None:
            self.checkpoint()
        return logs

    def apply_stopping_rules(self, logs: dict[str, float]) -> None:
        h, rules = self.history, self.stopping
        if rules.weight_tol is not None:
            change = math.sqrt(sum(float(np.sum((p.data.astype(np.float64) - q) ** 2)) for p, q in zip(self.params, self.prev)))
            logs["weight_change"] = change
            h.history["weight_change"].append(change)
            self.prev = [p.data.copy() for p in self.params]
            if change <= rules.weight_tol:
                self.stop_training = True
                h.stop_reason = f"‖w(t) − w(t−1)‖ = {change:.3g} ≤ weight_tol = {rules.weight_tol}"
        losses = h.history["loss"]
        if rules.loss_tol is not None and len(losses) >= 2 and losses[-2] - losses[-1] < rules.loss_tol:
            self.stop_training = True
            h.stop_reason = f"loss improved by {losses[-2] - losses[-1]:.3g} < loss_tol = {rules.loss_tol}"
        if rules.target_loss is not None and losses[-1] <= rules.target_loss:
            self.stop_training = True
            h.stop_reason = f"loss {losses[-1]:.4g} ≤ target_loss = {rules.target_loss}"

    # --- helpers --------------------------------------------------------------------------------------
    def _diverged(self, what: str, step: int, refused: FloatingPointError | None = None) -> TrainingDivergedError:
        """The error for a NaN/Inf ``what`` ("loss" or "gradient") at ``step``; ``refused``: the optimiser's own
        error, whose first sentence says which (a gradient, or an update that would overflow)."""
        where = f"training stopped: the {what} became NaN or Inf at epoch {self.epoch + 1}, batch {step + 1}"
        if refused is not None:
            where += f" ({str(refused).split('; ')[0]})"
        penalties = f" or the weight penalties (l1={self.l1}, l2={self.l2})" if self.l1 or self.l2 else ""
        if what == "loss" and self.risk.t == 0:  # no update made yet: the learning rate cannot have broken it
            return TrainingDivergedError(
                f"{where}, before the first update, so the learning rate is not the cause. The parameters are as "
                f"they were. Likely cause: the data (targets or inputs of a huge scale: standardise them), the "
                f"model's initial weights{penalties}, or a log of 0 in a hand-written loss (use the logits versions)."
            )
        lr = self.optimizer.param_groups[0].get("lr")
        return TrainingDivergedError(
            f"{where}. The parameters are left at their last good values. Likely cause: the learning rate (lr={lr}) "
            "is too large for this problem — lower it, standardise the inputs, or pass clip_grad_norm=…; a log of 0 "
            f"in a hand-written loss (use the logits versions){penalties} is the other usual suspect."
        )

    def _per_example_losses(self, chunk: int = 4096) -> np.ndarray:
        """Current loss of every example (for sampling='hard'); needs a loss with ``reduction``."""
        if not hasattr(self.loss_fn, "reduction"):
            raise ValueError("sampling='hard' needs a loss module with a reduction attribute")
        n = len(self.X)
        old, self.loss_fn.reduction = self.loss_fn.reduction, "none"
        try:
            with no_grad():
                parts = []
                for s in range(0, n, chunk):
                    idx = np.arange(s, min(n, s + chunk))
                    out = self.loss_fn(self.model(self.data.x(idx)), self.data.y_(idx))
                    parts.append(out.numpy().reshape(len(idx), -1).sum(1))
        finally:
            self.loss_fn.reduction = old
        return np.concatenate(parts)

    def _progress_bar(self):
        show = self.world.is_root and (self.progress == "always" or (self.progress and sys.stderr.isatty()))
        if not show:
            return None
        from tqdm.auto import tqdm  # noqa: PLC0415

        n = len(self.X)
        steps = -(-n // (self.batch_size or n))
        return tqdm(total=self.epochs * steps, unit="batch", desc="training", dynamic_ncols=True, file=sys.stderr)

    # --- checkpoints ----------------------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Save the whole run state (weights, optimiser, epoch position, generator, history) atomically;
        in a data-parallel run only rank 0 writes."""
        if not self.world.is_root:
            return
        from ..io import atomic_write_bytes, serialize  # noqa: PLC0415

        s = self.state
        batches = s.batches or []
        extra = {
            "batch_order": np.concatenate(batches).astype(np.int64) if batches else np.zeros(0, np.int64),
            "batch_sizes": np.array([len(b) for b in batches], dtype=np.int64),
        }
        if self.prev is not None:
            extra.update({f"prev.{i}": p for i, p in enumerate(self.prev)})
        callbacks = _callback_states(self.callbacks, extra)
        meta = {
            "trainer": {
                "epoch": self.epoch,
                "stop_training": self.stop_training,
                "n_rows": len(self.X),
                "metrics": self.metrics,
                "pos": s.pos,
                "in_epoch": s.batches is not None,
                "loss_sum": s.loss_sum,
                "count": s.count,
                "metric_sums": s.metric_sums,
                "rng": _json_state(self.rng),
                "risk": self.risk.state(),
                "history": self.history.to_dict(),
                "has_prev": self.prev is not None,
                "callbacks": callbacks,
                "module_rngs": {name: _json_state(m.rng) for name, m in _drawing_modules(self.model)},
            }
        }
        atomic_write_bytes(self.checkpoint_path, serialize(self.model, self.optimizer, metadata=meta, extra=extra))

    def _resume(self) -> None:
        """:meth:`restore`, ``on_train_begin`` (which resets the callbacks) and the callbacks' saved states, all
        or nothing: on any failure everything they changed is put back before the error is raised."""
        from ..io import ModelFileError  # noqa: PLC0415

        undo = _UndoPoint(self)
        try:
            self.restore()
            for cb in self.callbacks:
                cb.on_train_begin(self)
            _load_callback_states(self.callbacks, *self.__dict__.pop("_resumed_callbacks"))
        except BaseException as exc:
            self.__dict__.pop("_resumed_callbacks", None)
            undo.restore()
            if isinstance(exc, ModelFileError) or not isinstance(exc, Exception):  # already says what (an interrupt)
                raise
            raise ModelFileError(
                f"fit(resume=True): {self.checkpoint_path} could not be resumed ({type(exc).__name__}: {exc}); the "
                "model, the optimiser and the callbacks are as they were before. Resume with the settings and the "
                "callbacks of the run that saved it, or start afresh without resume=True"
            ) from exc

    def restore(self) -> None:
        """Continue from the checkpoint; the weights and optimiser state are restored all or nothing."""
        from ..io import ModelFile, load_checkpoint  # noqa: PLC0415

        head = ModelFile.open(self.checkpoint_path)  # its header (and a memory map): another run's refused before loading
        order = head.array("extra.batch_order") if "extra.batch_order" in head.entries else None
        _check_same_run(head.info["metadata"]["trainer"], order, len(self.X), self.metrics)
        info, tensors = load_checkpoint(self.checkpoint_path, self.model, self.optimizer)  # all or nothing
        t = info["metadata"]["trainer"]
        self.rng.bit_generator.state = t["rng"]
        self.risk.load(t["risk"])
        self.history = History.from_dict(t["history"])
        self.epoch = t["epoch"]
        self.stop_training = bool(t.get("stop_training", False))  # a run that a rule or callback stopped stays stopped
        batches = None
        if t["in_epoch"]:
            batches = np.split(tensors["extra.batch_order"], np.cumsum(tensors["extra.batch_sizes"])[:-1])
        self.state = EpochState(batches, t["pos"], t["loss_sum"], t["count"], t["metric_sums"])
        if t["has_prev"]:
            self.prev = [tensors[f"extra.prev.{i}"] for i in range(len(self.params))]
        rngs = t.get("module_rngs", {})
        for name, m in _drawing_modules(self.model):  # Dropout's masks continue as in the uninterrupted run
            if name in rngs:
                m.rng.bit_generator.state = rngs[name]
        self._resumed_callbacks = (t.get("callbacks", []), tensors)  # applied after on_train_begin, which resets them


class _UndoPoint:
    """What resuming may change — the weights, the optimiser's state and rates, the trainer's position, the
    generators, the callbacks' states — as it is now, to be put back (:meth:`Trainer._resume`)."""

    _FIELDS = ("history", "epoch", "state", "prev", "stop_training")  # the attributes restore() replaces (not mutates)

    def __init__(self, trainer: Trainer):
        self.trainer = trainer
        self.weights = trainer.model.state_dict()  # copies
        self.optimizer = trainer.optimizer.state_dict()  # copies
        self.fields = {k: getattr(trainer, k) for k in self._FIELDS}
        self.rng, self.risk = copy.deepcopy(trainer.rng.bit_generator.state), trainer.risk.state()
        self.module_rngs = [(m, copy.deepcopy(m.rng.bit_generator.state)) for _, m in _drawing_modules(trainer.model)]
        self.callbacks = [(cb, copy.deepcopy(cb.state_dict())) for _, cb in _stateful(trainer.callbacks)]

    def restore(self) -> None:
        t = self.trainer
        t.model.load_state_dict(self.weights)
        t.optimizer.load_state_dict(self.optimizer)
        for k, v in self.fields.items():
            setattr(t, k, v)
        t.rng.bit_generator.state = self.rng
        t.risk.load(self.risk)
        for m, state in self.module_rngs:
            m.rng.bit_generator.state = state
        for cb, state in self.callbacks:
            cb.load_state_dict(state)


def _check_same_run(saved: dict, order: np.ndarray | None, n_rows: int, metrics: list[str]) -> None:
    """Refuse a checkpoint of a run on other data or with other metrics: its batch order would index rows this ``X``
    lacks, and its running sums lack a metric asked for now (either would fail half-way through the epoch)."""
    rows = saved.get("n_rows")
    if (rows is not None and rows != n_rows) or (order is not None and order.size and int(order.max()) >= n_rows):
        had = f"{rows} rows" if rows is not None else f"row {int(order.max())}"
        raise ValueError(f"it was saved by a run on {had} of X and this X has {n_rows}; resume with the data of that run")
    had = saved.get("metrics", list(saved["metric_sums"]) if saved.get("in_epoch") else None)
    if had is not None and sorted(had) != sorted(metrics):
        raise ValueError(f"it was saved by a run with metrics={sorted(had)} and this run asks for {sorted(metrics)}; "
                         "resume with the metrics of that run")  # fmt: skip


def _drawing_modules(model) -> list:
    """``(name, module)`` of the modules that draw random numbers from a generator of their own (Dropout)."""
    return [(name, m) for name, m in model.named_modules() if isinstance(getattr(m, "rng", None), np.random.Generator)]


def _json_state(rng: np.random.Generator) -> dict:
    return json.loads(json.dumps(rng.bit_generator.state))


def _callback_states(callbacks: list, extra: dict) -> list:
    """The state of each callback that has one (``state_dict``: a schedule's position, EarlyStopping's best), for a
    checkpoint: numbers as JSON (a non-finite one as ``{"nonfinite": "inf"}``: JSON has no inf), a dict of arrays
    or Tensors (a ``Module.state_dict()``) among the tensors."""
    out = []
    for i, (name, cb) in enumerate(_stateful(callbacks)):
        plain, arrays = {}, []
        for key, value in cb.state_dict().items():
            if isinstance(value, dict) and value and all(isinstance(v, np.ndarray | Tensor) for v in value.values()):
                extra.update({f"callback{i}.{key}.{k}": v for k, v in value.items()})
                arrays.append([key, list(value)])
            elif isinstance(value, float) and not math.isfinite(value):
                plain[key] = {"nonfinite": repr(value)}
            else:
                plain[key] = value
        out.append({"name": name, "state": plain, "arrays": arrays})
    return out


def _stateful(callbacks: list) -> list[tuple[str, object]]:
    """The callbacks with a state, each named by its class and its place among those of its class (``ClassName#k``):
    a resumed run matches them by that name, whatever other callbacks (a progress printer) it is given."""
    seen: dict[str, int] = {}
    out = []
    for cb in callbacks:
        if callable(getattr(cb, "state_dict", None)) and callable(getattr(cb, "load_state_dict", None)):
            cls = type(cb).__name__
            out.append((f"{cls}#{seen.get(cls, 0)}", cb))
            seen[cls] = seen.get(cls, 0) + 1
    return out


def _load_callback_states(callbacks: list, saved: list, tensors: dict) -> None:
    by_name = dict(_stateful(callbacks))
    for i, entry in enumerate(saved):
        cb = by_name.get(entry["name"])
        if cb is None:
            continue  # the resumed run was not given this callback
        state = {k: float(v["nonfinite"]) if isinstance(v, dict) and "nonfinite" in v else v for k, v in entry["state"].items()}
        try:
            for key, names in entry["arrays"]:
                state[key] = {k: tensors[f"extra.callback{i}.{key}.{k}"] for k in names}
            cb.load_state_dict(state)
        except Exception as exc:
            raise ValueError(f"the saved state of callback {entry['name']} does not fit it: {exc}") from exc
