"""One learner's run: data, features, network, optimiser, and snapshots for the page.

The network is nablagrad's MLP trained by nablagrad's engine: one :class:`~nablagrad.train.Trainer`
per run (its batch loss compiled once), reseeded every epoch, so that epoch ``e`` is exactly
``train.fit(..., epochs=1, seed=seed·100003 + e)`` and the exported script replays the run; nothing
is trained in JavaScript.  Training runs in chunks of many epochs (:meth:`Session.train_for`),
decoupled from drawing: the page shows the latest :meth:`Session.snapshot`.  A run whose loss
becomes NaN or infinite is rolled back to its last good epoch and paused, with the reason.

Each session has its own lock and its own engine objects; the server trains each one in a worker
thread, and the engine's switches (grad mode, ``no_grad``) belong to the calling thread, so
sessions trained at the same time do not disturb each other.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from .. import data, io, nn, optim
from ..autodiff import no_grad, tensor
from ..train import History, Trainer, TrainingDivergedError, predict
from .config import FIELD, UPLOAD, ConfigError, check_batch, takes_classes, training_points
from .maths import features, update_lines
from .script import reproduce_script
from .upload import Upload

GRID = 40  # heat-map resolution
THUMB = 14  # neuron thumbnail resolution
DOMAIN = 6.0  # inputs shown on [−6, 6]²
# the playground's schedules, per epoch: 1/t, halving every 100 epochs, ×0.995 per epoch, a 1000-epoch cosine
SCHEDULE_PARAMS = {"inverse_time": {"gamma": 0.01}, "step": {"step_size": 100, "gamma": 0.5},
                   "exponential": {"gamma": 0.995}, "cosine": {"T_max": 1000}}  # fmt: skip


def _grid(n: int) -> np.ndarray:
    g = np.linspace(-DOMAIN, DOMAIN, n)
    gx, gy = np.meshgrid(g, -g)  # row 0 is the top of the picture (largest x2)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def _finite(x: float) -> float | None:
    """JSON has no NaN/Infinity: a non-finite number is sent as null."""
    return float(x) if np.isfinite(x) else None


def _entry(buffer, source: int, target: int):
    """One weight's number in an optimiser buffer (array or Tensor): ``buffer[source, target]`` of a
    per-weight matrix, the value of a scalar such as Adam's step count ``t``, else ``buffer`` itself."""
    a = np.asarray(buffer)
    if a.ndim == 2:
        return float(a[source, target])
    return a.item() if a.ndim == 0 and a.dtype.kind in "biuf" else buffer


def _percent(v: np.ndarray) -> list:
    """Values in [−1, 1] (clipped) as whole percentages: what the colours need, in few bytes."""
    return np.rint(np.clip(np.nan_to_num(np.asarray(v, dtype=np.float64)), -1, 1) * 100).astype(int).tolist()


def scheduler_for(name: str, optimizer):
    """The playground's learning-rate schedule ``name`` on ``optimizer``, from optim's factory."""
    return optim.make_scheduler(name, optimizer, **SCHEDULE_PARAMS.get(name, {}))


class Session:
    """The state of one playground run; every public method takes :attr:`lock`."""

    def __init__(self, cfg, upload: Upload | None = None):
        self.lock = threading.RLock()
        self.playing = False
        self.status = ""
        self.version = 0  # bumped whenever what the page shows changes
        self.snapshot_due = threading.Event()  # a page waits for a snapshot: end the training chunk after this epoch
        self.data_version = 0  # bumped whenever the points change
        self.cfg, self.upload = cfg, upload
        self.reset(regenerate=True)

    # --- set-up --------------------------------------------------------------------------------
    def configure(self, cfg, upload: Upload | None = None) -> None:
        """Apply a new configuration: live fields in place, anything else restarts the run."""
        with self.lock:
            changed = {k for k, v in cfg.to_dict().items() if getattr(self.cfg, k) != v}
            if upload is not self.upload:
                changed.add("upload")
            old = (self.cfg, self.upload)
            self.cfg, self.upload = cfg, upload
            if any(not (k in FIELD and FIELD[k].live) for k in changed):
                playing = self.playing
                try:
                    self.reset(regenerate=True)
                except ConfigError:
                    self.cfg, self.upload = old
                    raise
                self.playing = playing
            self.version += 1

    def reset(self, regenerate: bool = False) -> None:
        with self.lock:
            cfg = self.cfg
            if regenerate or not hasattr(self, "X"):
                self._load_data()
            self.classification = self.problem == "classification"
            self.loss_name = "mse" if not self.classification or cfg.loss == "mse" else "cross_entropy"
            self.outputs = 1 if not self.classification or (self.loss_name == "mse" and self.k == 2) else self.k
            sizes = [len(cfg.features), *cfg.layers, self.outputs]
            out_act = "tanh" if self.classification and self.loss_name == "mse" else None
            self.model = nn.MLP(sizes, activation=cfg.activations, output_activation=out_act, init=cfg.init,
                                bias_init=cfg.bias_init, dropout=cfg.dropout, seed=cfg.seed)  # fmt: skip
            self.optimizer = optim.OPTIMIZERS[cfg.optimizer](self.model.parameters(), lr=cfg.lr)
            self.scheduler = scheduler_for(cfg.schedule, self.optimizer)
            self.loss_fn = nn.LOSSES[self.loss_name]()
            self.F = features(self.X, cfg.features)
            self.T = self._targets(self.y)
            self.trainer = self._new_trainer()
            self.epoch = 0
            self.history: list[tuple[int, float | None, float | None]] = []
            self.status = ""
            self.playing = False
            self._measure()
            self.version += 1

    def _load_data(self) -> None:
        """Generate (or take the uploaded) data; checks first, so a refusal changes nothing."""
        cfg = self.cfg
        if cfg.dataset == UPLOAD:
            if self.upload is None:
                raise ConfigError(f"the uploaded data {cfg.upload!r} is not on the server (it restarted?); upload the file again")
            up = self.upload
            X, y, problem, k, names = up.X, up.y, up.problem, up.classes, up.class_names
        else:
            kw = {"classes": cfg.classes} if takes_classes(cfg.dataset) else {}
            X, y = data.DATASETS[cfg.dataset](cfg.points, noise=cfg.noise, seed=cfg.seed, **kw)
            problem, k = cfg.problem, (cfg.classes if cfg.problem == "classification" else 1)
            names = [str(c) for c in range(k)] if problem == "classification" else []
        check_batch(cfg, len(X))
        n_train = training_points(cfg, len(X))
        order = np.random.default_rng(cfg.seed).permutation(len(X))
        self.X, self.y = np.asarray(X, dtype=np.float64)[order], np.asarray(y)[order]
        self.problem, self.k, self.class_names, self.n_train = problem, k, names, n_train
        self.data_version += 1

    def _targets(self, y: np.ndarray) -> np.ndarray:
        if not self.classification:
            return y.astype(np.float32).reshape(-1, 1)
        if self.loss_name == "cross_entropy":
            return y.astype(np.int64)
        if self.outputs == 1:
            return (2.0 * y - 1).astype(np.float32).reshape(-1, 1)  # classes 0/1 as −1/+1
        return 2 * data.one_hot(y, self.k).astype(np.float32) - 1

    # --- what the network says ------------------------------------------------------------------------
    def _class_scores(self, out: np.ndarray) -> np.ndarray:
        """Per-class scores in [0, 1] from the outputs (softmax, or tanh outputs mapped to [0, 1])."""
        if self.loss_name == "cross_entropy":
            z = out - out.max(1, keepdims=True)
            e = np.exp(z)
            return e / e.sum(1, keepdims=True)
        if self.outputs == 1:
            p1 = (np.clip(out[:, 0], -1, 1) + 1) / 2
            return np.stack([1 - p1, p1], axis=1)
        return (np.clip(out, -1, 1) + 1) / 2

    def _measure(self) -> None:
        """Training and test loss (and accuracy) on the whole sets, without dropout."""
        n = self.n_train
        out = predict(self.model, self.F)
        with no_grad(), np.errstate(all="ignore"):
            parts = [(slice(0, n), "train"), (slice(n, None), "test") if n < len(self.F) else (slice(0, n), "test")]
            for sl, name in parts:
                loss = float(self.loss_fn(tensor(out[sl]), self.T[sl]).data)
                setattr(self, f"{name}_loss", loss)
                acc = float((self._class_scores(out[sl]).argmax(1) == self.y[sl]).mean()) if self.classification else None
                setattr(self, f"{name}_accuracy", acc)

    # --- training --------------------------------------------------------------------------------
    def _new_trainer(self) -> Trainer:
        """The engine's loop for this run, built once: ``fit``'s Trainer without its per-call set-up
        (argument checks, a new compiled batch loss, data conversion), which cost ~8 % of an epoch."""
        cfg, n = self.cfg, self.n_train
        reg = {cfg.regularization: cfg.reg_rate} if cfg.regularization != "none" else {}
        X = self.F[:n].astype(self.model.dtype)  # what fit's batches convert to, once
        return Trainer(self.model, self.loss_fn, self.optimizer, X, self.T[:n], epochs=1, batch_size=cfg.batch_size, **reg)

    def _epoch(self) -> None:
        """One epoch, with the batches ``fit(..., seed=seed·100003 + epoch)`` draws."""
        tr = self.trainer
        tr.rng = np.random.default_rng(self.cfg.seed * 100_003 + self.epoch)
        tr.history = History()  # the session keeps its own curve; a long run must not grow one per step
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                tr.run_epoch()
        except BaseException:
            self.trainer = self._new_trainer()  # not half-way through an epoch on the next call
            raise
        if self.scheduler is not None:
            self.scheduler.step()
        self.epoch += 1

    def train_for(self, seconds: float = 0.05, max_epochs: int | None = None, while_playing: bool = False) -> int:
        """Train whole epochs for about ``seconds`` (at least one, at most ``max_epochs``, none
        once paused if ``while_playing``, and none after the current one once a snapshot is due);
        returns how many.  On divergence the run goes back to its last good epoch and pauses."""
        with self.lock:
            start, done, status = time.perf_counter(), 0, self.status
            while (max_epochs is None or done < max_epochs) and not (while_playing and not self.playing):
                saved = self._state()
                try:
                    self._epoch()
                except TrainingDivergedError as exc:
                    self._restore(saved)
                    self._diverged(f"the {'gradient' if 'gradient' in str(exc) else 'loss'} became NaN or infinite")
                    break
                done += 1
                if time.perf_counter() - start >= seconds or self.snapshot_due.is_set():
                    break
            if done == 0 and self.status == status:
                return 0
            self._measure()
            if not (np.isfinite(self.train_loss) and np.isfinite(self.test_loss)):
                self._restore(saved)  # finite in every batch, but not on the whole set
                self._diverged("the loss became NaN or infinite")
            self.history.append((self.epoch, _finite(self.train_loss), _finite(self.test_loss)))
            if len(self.history) > 2000:
                self.history = self.history[::2]
            self.version += 1
            return done

    def train_epochs(self, k: int = 1) -> None:
        """Train exactly ``k`` epochs (fewer if the run diverges)."""
        while k > 0 and not self.status:
            k -= self.train_for(float("inf"), max_epochs=k) or k

    def _diverged(self, reason: str) -> None:
        self.playing = False
        lr = self.optimizer.param_groups[0]["lr"]
        self.status = (f"Paused: {reason}, so the network is back at epoch {self.epoch}, its last good state. The learning "
                       f"rate {lr:g} is too large for this problem: choose a smaller one (or press Reset).")  # fmt: skip

    def _state(self):
        sched = self.scheduler.state_dict() if self.scheduler is not None else None
        return self.model.state_dict(), self.optimizer.state_dict(), sched, self.epoch

    def _restore(self, saved) -> None:
        model, opt, sched, epoch = saved
        self.model.load_state_dict(model)
        self.optimizer.load_state_dict(opt)
        if sched is not None:
            self.scheduler.load_state_dict(sched)
        self.epoch = epoch
        self._measure()

    # --- what the page shows ----------------------------------------------------------------------
    def _linears(self) -> list[nn.Linear]:
        return [m for m in self.model if isinstance(m, nn.Linear)]

    def _layer_outputs(self, X: np.ndarray) -> list[np.ndarray]:
        """Input features, every hidden layer's output (after its activation), and the output."""
        out = [features(X, self.cfg.features)]
        h = tensor(out[0])
        self.model.eval()
        try:
            with no_grad():
                for layer in self.model:
                    h = layer(h)
                    if not isinstance(layer, nn.Linear | nn.Dropout) and len(out) <= len(self.cfg.layers):
                        out.append(h.numpy())
        finally:
            self.model.train()
        out.append(h.numpy())
        return out

    def _heat(self, out: np.ndarray) -> dict:
        if not self.classification:
            return {"values": _percent(out[:, 0])}
        p = self._class_scores(out)
        if self.k == 2:
            return {"values": _percent(p[:, 1] - p[:, 0])}  # P(class 1) − P(class 0)
        return {"probs": _percent(p)}

    def snapshot(self, with_points: bool = False) -> dict:
        """What the page draws: the heat map, every neuron's thumbnail, the weights, losses and status
        (and the points and the loss curve when ``with_points``).  Set :attr:`snapshot_due` first
        so that a training chunk under way ends after its current epoch instead of its time."""
        with self.lock, np.errstate(all="ignore"):
            self.snapshot_due.clear()
            heat = self._heat(self._layer_outputs(_grid(GRID))[-1])
            acts = self._layer_outputs(_grid(THUMB))
            thumbs = [[_percent(c / max(float(np.abs(np.nan_to_num(c)).max()), 1e-6)) for c in a.T] for a in acts]
            weights = [np.round(np.nan_to_num(m.weight.numpy()), 4).tolist() for m in self._linears()]
            snap = {
                "type": "snapshot",
                "epoch": self.epoch,
                "train_loss": _finite(self.train_loss),
                "test_loss": _finite(self.test_loss),
                "train_accuracy": self.train_accuracy,
                "test_accuracy": self.test_accuracy,
                "lr": self.optimizer.param_groups[0]["lr"],
                "playing": self.playing,
                "status": self.status,
                "heatmap": {"size": GRID, "domain": DOMAIN, **heat},
                "neurons": {"size": THUMB, "layers": thumbs},
                "weights": weights,
                "classification": self.classification,
                "classes": self.k,
                "class_names": self.class_names,
                "problem": self.problem,
            }
            if with_points:
                n = self.n_train
                snap["points"] = {
                    "train": np.round(np.column_stack([self.X[:n], self.y[:n]]), 4).tolist(),
                    "test": np.round(np.column_stack([self.X[n:], self.y[n:]]), 4).tolist(),
                }
                snap["history"] = self.history
            return snap

    def inspect(self, layer: int, source: int, target: int) -> dict:
        """One weight ``W[layer][source, target]``: its value, the gradient of the training loss
        (all training points, no dropout), and the change the optimiser's next step would make
        with that gradient — found by taking the step and undoing it."""
        with self.lock:
            linears = self._linears()
            if not (0 <= layer < len(linears) and 0 <= source < linears[layer].in_features
                    and 0 <= target < linears[layer].out_features):  # fmt: skip
                raise ConfigError(f"no weight {layer}/{source}/{target} in a network of sizes {self.model.sizes}")
            W = linears[layer].weight
            saved = self._state()
            cfg = self.cfg
            n = self.n_train
            self.model.eval()
            try:
                loss = self.loss_fn(self.model(tensor(self.F[:n])), self.T[:n])
                if cfg.regularization != "none":
                    penalty = nn.l1_penalty if cfg.regularization == "l1" else nn.l2_penalty
                    loss = loss + penalty(self.model, cfg.reg_rate)
                self.optimizer.zero_grad()
                loss.backward()
                w0, g = float(W.data[source, target]), float(W.grad.data[source, target])
                index = [id(p) for p in self.model.parameters()].index(id(W))
                lr = self.optimizer.param_groups[0]["lr"]
                with np.errstate(all="ignore"):
                    self.optimizer.step()
                delta = float(W.data[source, target]) - w0
                buffers = self.optimizer.state_dict()["state"].get(index, {})
            finally:
                self.model.train()
                self._restore(saved)
                self.optimizer.zero_grad()
            state = {k: _entry(v, source, target) for k, v in buffers.items()}
            state.update({k: v for k, v in self.optimizer.param_groups[0].items() if k != "params"})
            return {
                "type": "inspect", "layer": layer, "source": source, "target": target, "epoch": self.epoch,
                "weight": w0, "grad": g, "lr": lr, "delta": delta,
                "lines": update_lines(cfg.optimizer, g, lr, state, delta),
            }  # fmt: skip

    # --- export ------------------------------------------------------------------------------------
    def model_bytes(self) -> bytes:
        with self.lock:
            meta = {"playground_config": self.cfg.to_dict(), "epoch": self.epoch,
                    "inputs": f"float32 (N, {len(self.cfg.features)}) features: {', '.join(self.cfg.features)}"}  # fmt: skip
            return io.serialize(self.model, metadata=meta)

    def script(self) -> str:
        return reproduce_script(self.cfg, max(self.epoch, 100))
