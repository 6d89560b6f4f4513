"""The exported script: a stand-alone Python file that replays a playground run with nablagrad,
epoch by epoch with the session's seeds, so it reaches the same weights."""

from __future__ import annotations

from .config import UPLOAD, takes_classes
from .maths import features_source


def reproduce_script(cfg, epochs: int) -> str:
    """A stand-alone Python script that reproduces this playground run with nablagrad."""
    if cfg.dataset == UPLOAD:
        # the problem type the file was uploaded as: "auto" would read whole-number targets as classes
        load = ('from nablagrad.playground.upload import parse_csv\n\n'
                f'up = parse_csv(open("data.csv", "rb").read(), {cfg.problem!r})  '
                "# your uploaded file\nX, y = up.X, up.y\nk = up.classes")  # fmt: skip
        problem = "up.problem"
    else:
        kw = f", classes={cfg.classes}" if takes_classes(cfg.dataset) else ""
        k = cfg.classes if cfg.problem == "classification" else 1
        load = f"X, y = ng.data.DATASETS[{cfg.dataset!r}]({cfg.points}, noise={cfg.noise}, seed={cfg.seed}{kw})\nk = {k}"
        problem = repr(cfg.problem)
    reg = f", {cfg.regularization}={cfg.reg_rate}" if cfg.regularization != "none" else ""
    return f'''"""Reproduces a nablagrad playground run: {cfg.dataset}, layers {cfg.layers}, {cfg.activations},
{cfg.optimizer}."""
import numpy as np

import nablagrad as ng
from nablagrad.playground.session import scheduler_for

{load}
order = np.random.default_rng({cfg.seed}).permutation(len(X))
X, y = np.asarray(X, dtype=np.float64)[order], np.asarray(y)[order]
n_train = max(1, len(X) * {cfg.train_ratio} // 100)
F = {features_source(cfg.features)}
classification = {problem} == "classification"
loss = "mse" if not classification or {cfg.loss!r} == "mse" else "cross_entropy"
outputs = 1 if not classification or (loss == "mse" and k == 2) else k
if not classification:
    T = y.astype(np.float32).reshape(-1, 1)
elif loss == "cross_entropy":
    T = y.astype(np.int64)
elif outputs == 1:
    T = (2.0 * y - 1).astype(np.float32).reshape(-1, 1)
else:
    T = 2 * ng.data.one_hot(y, k).astype(np.float32) - 1
model = ng.nn.MLP([F.shape[1], *{cfg.layers}, outputs], activation={cfg.activations}, init={cfg.init!r},
                  output_activation="tanh" if classification and loss == "mse" else None,
                  bias_init={cfg.bias_init}, dropout={cfg.dropout}, seed={cfg.seed})
optimizer = ng.optim.OPTIMIZERS[{cfg.optimizer!r}](model.parameters(), lr={cfg.lr})
scheduler = scheduler_for({cfg.schedule!r}, optimizer)
loss_fn = ng.nn.LOSSES[loss]()
for epoch in range({epochs}):
    ng.train.fit(model, loss_fn, optimizer, F[:n_train], T[:n_train], epochs=1, batch_size={cfg.batch_size},
                 seed={cfg.seed} * 100_003 + epoch{reg})
    if scheduler is not None:
        scheduler.step()
out = ng.train.predict(model, F[n_train:])
test_loss = float(loss_fn(ng.tensor(out), T[n_train:]).data)
print(f"epoch {{epoch + 1}}: test loss {{test_loss:.4f}}")
'''
