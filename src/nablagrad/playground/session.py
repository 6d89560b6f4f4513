"""One learner's run: data, features, network, optimiser, and snapshots for the page.

The network is nablagrad's MLP trained by nablagrad's engine (``train.fit``, one epoch per
call); nothing is trained in JavaScript.
"""

from __future__ import annotations

import numpy as np

from .. import data, io, nn, optim
from ..autodiff import no_grad, tensor
from ..train import evaluate, fit
from .config import Config

GRID = 40  # heat-map resolution
THUMB = 14  # neuron thumbnail resolution
DOMAIN = 6.0  # inputs shown on [−6, 6]²

FEATURE_FNS = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1sq": lambda X: X[:, 0] ** 2,
    "x2sq": lambda X: X[:, 1] ** 2,
    "x1x2": lambda X: X[:, 0] * X[:, 1],
    "sinx1": lambda X: np.sin(X[:, 0]),
    "sinx2": lambda X: np.sin(X[:, 1]),
}
GENERATORS = {
    "circle": data.make_circle,
    "xor": data.make_xor,
    "gauss": data.make_gauss,
    "spiral": data.make_spiral,
    "reg-plane": data.make_reg_plane,
    "reg-gauss": data.make_reg_gauss,
}


def features(X: np.ndarray, names: list[str]) -> np.ndarray:
    return np.stack([FEATURE_FNS[n](X) for n in names], axis=1).astype(np.float32)


def _grid(n: int) -> np.ndarray:
    g = np.linspace(-DOMAIN, DOMAIN, n)
    gx, gy = np.meshgrid(g, -g)  # row 0 is the top of the picture (largest x2)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


class Session:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.playing = False
        self.reset(regenerate=True)

    # --- set-up --------------------------------------------------------------------------------
    def reset(self, regenerate: bool = False) -> None:
        cfg = self.cfg
        if regenerate or not hasattr(self, "X"):
            gen = GENERATORS[cfg.dataset]
            kw = {"labels": "pm1"} if not cfg.dataset.startswith("reg-") else {}
            X, y = gen(cfg.points, noise=cfg.noise, seed=cfg.seed, **kw)
            rng = np.random.default_rng(cfg.seed)
            order = rng.permutation(len(X))
            n_train = max(1, len(X) * cfg.train_ratio // 100)
            self.X, self.y = X[order], np.asarray(y, dtype=np.float32)[order]
            self.n_train = n_train
        self.classification = self.cfg.problem == "classification"
        sizes = [len(cfg.features), *cfg.layers, 1]
        self.model = nn.MLP(sizes, activation=cfg.activation, seed=cfg.seed, init="xavier_uniform")
        opt_cls = optim.OPTIMIZERS[cfg.optimizer]
        self.optimizer = opt_cls(self.model.parameters(), lr=cfg.lr)
        self.scheduler = None
        if cfg.schedule != "none":
            s = optim.SCHEDULES[cfg.schedule]
            self.scheduler = {
                "inverse_time": lambda: s(self.optimizer, gamma=0.01),
                "step": lambda: s(self.optimizer, step_size=100, gamma=0.5),
                "exponential": lambda: s(self.optimizer, gamma=0.995),
                "cosine": lambda: s(self.optimizer, T_max=1000),
            }[cfg.schedule]()
        self.epoch = 0
        self.history: list[tuple[int, float, float]] = []
        self.F = features(self.X, cfg.features)
        self.loss = "bce_with_logits" if self.classification else "mse"
        self.train_loss, self.test_loss = self._losses()

    def _targets(self, y: np.ndarray) -> np.ndarray:
        t = (y > 0).astype(np.float32) if self.classification else y
        return t.reshape(-1, 1)

    def _losses(self) -> tuple[float, float]:
        n = self.n_train
        tr = evaluate(self.model, self.loss, self.F[:n], self._targets(self.y[:n]), metrics=[])["loss"]
        te = evaluate(self.model, self.loss, self.F[n:], self._targets(self.y[n:]), metrics=[])["loss"] if n < len(self.F) else tr
        return float(tr), float(te)

    # --- training --------------------------------------------------------------------------------
    def train_epochs(self, k: int = 1) -> None:
        cfg = self.cfg
        n = self.n_train
        reg = {"l1": cfg.reg_rate} if cfg.regularization == "l1" else {"l2": cfg.reg_rate} if cfg.regularization == "l2" else {}
        for _ in range(k):
            fit(self.model, self.loss, self.optimizer, self.F[:n], self._targets(self.y[:n]), epochs=1,
                batch_size=cfg.batch_size, seed=cfg.seed * 100_003 + self.epoch, **reg)  # fmt: skip
            if self.scheduler is not None:
                self.scheduler.step()
            self.epoch += 1
        self.train_loss, self.test_loss = self._losses()
        self.history.append((self.epoch, self.train_loss, self.test_loss))
        if len(self.history) > 2000:
            self.history = self.history[::2]

    # --- what the page shows ----------------------------------------------------------------------
    def _activations(self, X: np.ndarray) -> list[np.ndarray]:
        """Input features and every layer's outputs (after the activation) on points X."""
        out = [features(X, self.cfg.features)]
        h = tensor(out[0])
        with no_grad():
            for layer in self.model:
                h = layer(h)
                if not isinstance(layer, nn.Linear):
                    out.append(h.numpy())
            out.append(h.numpy())
        return out

    def _output_map(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z / 2) if self.classification else z  # P(+1) − P(−1) = tanh(z/2)

    def snapshot(self, with_points: bool = False) -> dict:
        heat = self._output_map(self._activations(_grid(GRID))[-1][:, 0])
        acts = self._activations(_grid(THUMB))
        thumbs = [[np.round(a[:, j], 3).tolist() for j in range(a.shape[1])] for a in acts[:-1]]
        thumbs.append([np.round(self._output_map(acts[-1][:, 0]), 3).tolist()])
        weights = [np.round(m.weight.numpy(), 4).tolist() for m in self.model if isinstance(m, nn.Linear)]
        snap = {
            "type": "snapshot",
            "epoch": self.epoch,
            "train_loss": self.train_loss,
            "test_loss": self.test_loss,
            "playing": self.playing,
            "heatmap": {"size": GRID, "domain": DOMAIN, "values": np.round(heat, 3).tolist()},
            "neurons": {"size": THUMB, "layers": thumbs},
            "weights": weights,
            "classification": self.classification,
        }
        if with_points:
            snap["points"] = {
                "train": np.round(np.column_stack([self.X[: self.n_train], self.y[: self.n_train]]), 4).tolist(),
                "test": np.round(np.column_stack([self.X[self.n_train :], self.y[self.n_train :]]), 4).tolist(),
            }
            snap["history"] = self.history
        return snap

    # --- export ------------------------------------------------------------------------------------
    def model_bytes(self) -> bytes:
        meta = {"playground_config": self.cfg.to_dict(), "epoch": self.epoch,
                "inputs": f"float32 (N, {len(self.cfg.features)}) features: {', '.join(self.cfg.features)}"}  # fmt: skip
        return io.serialize(self.model, metadata=meta)

    def script(self) -> str:
        return reproduce_script(self.cfg, max(self.epoch, 100))


def reproduce_script(cfg: Config, epochs: int) -> str:
    """A stand-alone Python script that reproduces this playground run with nablagrad."""
    gen = {"reg-plane": "make_reg_plane", "reg-gauss": "make_reg_gauss"}.get(cfg.dataset, f"make_{cfg.dataset}")
    labels = ', labels="pm1"' if not cfg.dataset.startswith("reg-") else ""
    feats = ", ".join({"x1": "X[:, 0]", "x2": "X[:, 1]", "x1sq": "X[:, 0] ** 2", "x2sq": "X[:, 1] ** 2",
                       "x1x2": "X[:, 0] * X[:, 1]", "sinx1": "np.sin(X[:, 0])", "sinx2": "np.sin(X[:, 1])"}[f]
                      for f in cfg.features)  # fmt: skip
    classification = cfg.problem == "classification"
    target = "(y > 0).astype(np.float32).reshape(-1, 1)" if classification else "y.astype(np.float32).reshape(-1, 1)"
    loss = "bce_with_logits" if classification else "mse"
    reg = f", {cfg.regularization}={cfg.reg_rate}" if cfg.regularization != "none" else ""
    sizes = [len(cfg.features), *cfg.layers, 1]
    return f'''"""Reproduces a nablagrad playground run: {cfg.dataset}, layers {cfg.layers}, {cfg.activation}, {cfg.optimizer}."""
import numpy as np

import nablagrad as ng

X, y = ng.data.{gen}({cfg.points}, noise={cfg.noise}, seed={cfg.seed}{labels})
order = np.random.default_rng({cfg.seed}).permutation(len(X))
X, y = X[order], np.asarray(y, dtype=np.float32)[order]
n_train = len(X) * {cfg.train_ratio} // 100


def features(X):
    return np.stack([{feats}], axis=1).astype(np.float32)


F, T = features(X), {target}
model = ng.nn.MLP({sizes}, activation="{cfg.activation}", seed={cfg.seed}, init="xavier_uniform")
optimizer = ng.optim.OPTIMIZERS["{cfg.optimizer}"](model.parameters(), lr={cfg.lr})
for epoch in range({epochs}):
    ng.train.fit(model, "{loss}", optimizer, F[:n_train], T[:n_train], epochs=1, batch_size={cfg.batch_size},
                 seed={cfg.seed} * 100_003 + epoch{reg})
test = ng.train.evaluate(model, "{loss}", F[n_train:], T[n_train:], metrics=[])
print(f"epoch {{epoch + 1}}: test loss {{test['loss']:.4f}}")
'''
