"""``nablagrad train`` / ``evaluate`` / ``predict``: the main job, MNIST end to end.

Defaults: MLP 784-256-128-10 (ReLU), Adam(lr=1e-3, cosine schedule), batch 128, 12 epochs on the bundled
MNIST — about 98.1–98.2% test accuracy.  A run folder receives ``model.safetensors`` (inputs:
float32 (N, 784) scaled to [0, 1], recorded in the file's metadata), ``history.json`` and
``curves.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from .main import CLIError

MNIST_PREPROCESSING = "float32 array of shape (N, 784): pixel / 255, so values lie in [0, 1]"
TOY_SETS = ("circle", "xor", "gauss", "spiral", "moons")
DEFAULTS = {
    "dataset": "mnist",
    "layers": "256,128",
    "activation": "relu",
    "output_activation": "none",
    "loss": "cross_entropy",
    "optimizer": "adam",
    "lr": 1e-3,
    "momentum": 0.0,
    "forgetting": 0.1,
    "weight_decay": 0.0,
    "schedule": "cosine",
    "gamma": 0.5,
    "step_size": 5,
    "regime": "minibatch",
    "batch_size": 128,
    "sampling": "shuffle",
    "epochs": 12,
    "l1": 0.0,
    "l2": 0.0,
    "seed": 0,
    "out": "runs/latest",
    "limit": 0,
    "validation": 0.0,
    "clip_grad_norm": 0.0,
}


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="a TOML file with any of these options (command-line flags win)")
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist", *TOY_SETS])
    p.add_argument("--layers", "--hidden", dest="layers", help="hidden sizes, comma-separated (default 256,128)")
    p.add_argument("--activation", choices=["relu", "tanh", "sigmoid", "leaky_relu", "abs", "identity"])
    p.add_argument("--output-activation", dest="output_activation", choices=["none", "sigmoid", "softmax"],
                   help="applied to the last layer (lecture 003: sigmoid with --loss mse); default none (logits)")
    p.add_argument("--loss", choices=["cross_entropy", "mse", "squared_error"])
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"])
    p.add_argument("--lr", type=float)
    p.add_argument("--momentum", type=float, help="SGD momentum")
    p.add_argument("--forgetting", type=float, help="the lectures' EMA momentum rate λ (optimizer momentum)")
    p.add_argument("--weight-decay", type=float, dest="weight_decay")
    p.add_argument("--schedule", choices=["none", "inverse_time", "step", "exponential", "cosine"])
    p.add_argument("--gamma", type=float, help="schedule factor")
    p.add_argument("--step-size", type=int, dest="step_size", help="epochs per StepLR step")
    p.add_argument("--regime", choices=["batch", "stochastic", "minibatch"], help="full batch, batch size 1, or mini-batches")
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--sampling", choices=["shuffle", "random", "sequential", "balanced", "hard"])
    p.add_argument("--epochs", type=int)
    p.add_argument("--l1", type=float, help="L1 penalty strength on weights")
    p.add_argument("--l2", type=float, help="L2 penalty strength on weights")
    p.add_argument("--clip-grad-norm", type=float, dest="clip_grad_norm")
    p.add_argument("--validation", type=float, help="fraction of the training set held out for validation")
    p.add_argument("--seed", type=int)
    p.add_argument("--limit", type=int, help="use only the first N training examples (quick runs)")
    p.add_argument("--out", help="run folder (default runs/latest)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def resolve_options(args: argparse.Namespace) -> dict:
    opts = dict(DEFAULTS)
    if args.config:
        opts.update(_read_config(args.config))
    opts.update({k: v for k, v in vars(args).items() if k in DEFAULTS and v is not None})
    _validate(opts)
    return opts


def _read_config(path: str) -> dict:
    try:
        import tomllib  # noqa: PLC0415
    except ImportError:  # pragma: no cover - Python 3.10
        raise CLIError("--config needs Python 3.11+ (tomllib)") from None
    try:
        with open(path, "rb") as fh:
            cfg = tomllib.load(fh)
    except FileNotFoundError:
        raise CLIError(f"config file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise CLIError(f"config file {path} is not valid TOML: {exc}") from None
    cfg = {k.replace("-", "_"): v for k, v in cfg.get("train", cfg).items()}
    unknown = sorted(set(cfg) - set(DEFAULTS))
    if unknown:
        raise CLIError(f"config file {path}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFAULTS))}")
    return cfg


def _validate(o: dict) -> None:
    def positive(name, value, integer=False):
        if not isinstance(value, int | float) or value <= 0 or (integer and int(value) != value):
            raise CLIError(f"--{name.replace('_', '-')} must be a positive {'integer' if integer else 'number'}, got {value!r}")

    positive("lr", o["lr"])
    positive("epochs", o["epochs"], integer=True)
    positive("batch_size", o["batch_size"], integer=True)
    if not 0 <= o["validation"] < 1:
        raise CLIError(f"--validation must lie in [0, 1), got {o['validation']}")
    try:
        o["hidden"] = [int(s) for s in str(o["layers"]).split(",") if s.strip()] if str(o["layers"]).strip() else []
    except ValueError:
        raise CLIError(f"--layers expects comma-separated integers like 256,128, got {o['layers']!r}") from None
    if any(h <= 0 or h > 100_000 for h in o["hidden"]):
        raise CLIError(f"--layers sizes must lie in 1..100000, got {o['layers']!r}")


def load_dataset(name: str, seed: int):
    import nablagrad as ng  # noqa: PLC0415

    if name in ("mnist", "fashion-mnist"):
        loader = ng.data.load_mnist if name == "mnist" else ng.data.load_fashion_mnist
        try:
            X, y, Xt, yt = loader(flatten=True)
        except ng.data.DataFormatError as exc:
            raise CLIError(str(exc)) from None
        scale = np.float32(1 / 255)
        return (X * scale).astype(np.float32), y.astype(np.int64), (Xt * scale).astype(np.float32), yt.astype(np.int64)
    X, y = ng.data.DATASETS[name](1000, noise=0.1, seed=seed)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(X))
    tr, te = perm[:700], perm[700:]
    return X[tr].astype(np.float32), y[tr], X[te].astype(np.float32), y[te]


def run_train(args: argparse.Namespace) -> int:
    import nablagrad as ng  # noqa: PLC0415

    o = resolve_options(args)
    X, y, Xt, yt = load_dataset(o["dataset"], o["seed"])
    if o["limit"]:
        X, y = X[: o["limit"]], y[: o["limit"]]
    n_classes = int(max(y.max(), yt.max())) + 1
    validation = None
    if o["validation"]:
        k = int(len(X) * (1 - o["validation"]))
        X, y, validation = X[:k], y[:k], (X[k:], y[k:])
    ng.manual_seed(o["seed"])
    sizes = [X.shape[1], *o["hidden"], n_classes]
    output_activation = None if o["output_activation"] == "none" else o["output_activation"]
    model = ng.nn.MLP(sizes, activation=o["activation"], output_activation=output_activation, seed=o["seed"])
    opt_cls = ng.optim.OPTIMIZERS[o["optimizer"]]
    kw = {"lr": o["lr"], "weight_decay": o["weight_decay"]}
    if o["optimizer"] == "sgd":
        kw["momentum"] = o["momentum"]
    if o["optimizer"] == "momentum":
        kw["forgetting"] = o["forgetting"]
    optimizer = opt_cls(model.parameters(), **kw)
    callbacks = []
    if o["schedule"] != "none":
        sched_cls = ng.optim.SCHEDULES[o["schedule"]]
        sched = {
            "inverse_time": lambda: sched_cls(optimizer, gamma=o["gamma"]),
            "step": lambda: sched_cls(optimizer, step_size=o["step_size"], gamma=o["gamma"]),
            "exponential": lambda: sched_cls(optimizer, gamma=o["gamma"]),
            "cosine": lambda: sched_cls(optimizer, T_max=o["epochs"]),
        }[o["schedule"]]()
        callbacks.append(ng.train.LRSchedulerCallback(sched))
    batch_size = {"batch": None, "stochastic": 1, "minibatch": o["batch_size"]}[o["regime"]]
    targets = (lambda v: ng.data.one_hot(v, n_classes)) if o["loss"] != "cross_entropy" else (lambda v: v)
    out = Path(o["out"])
    arch = "-".join(map(str, sizes))
    print(f"nablagrad train: {o['dataset']} ({len(X)} training, {len(Xt)} test examples), MLP {arch} {o['activation']}"
          f"{'' if output_activation is None else ' → ' + output_activation}, {o['loss']}, "
          f"{o['optimizer']} lr={o['lr']} ({o['schedule']}), {o['regime']} batch={batch_size}, {o['epochs']} epochs")  # fmt: skip
    t0 = time.perf_counter()
    try:
        history = ng.train.fit(
            model, o["loss"], optimizer, X, targets(y), epochs=o["epochs"], batch_size=batch_size, sampling=o["sampling"],
            validation_data=(validation[0], targets(validation[1])) if validation else None, metrics=["accuracy"],
            callbacks=callbacks, progress=not args.no_progress, l1=o["l1"], l2=o["l2"], seed=o["seed"],
            clip_grad_norm=o["clip_grad_norm"] or None,
        )  # fmt: skip
    except ng.train.TrainingDivergedError as exc:
        raise CLIError(str(exc)) from None
    seconds = time.perf_counter() - t0
    test = ng.train.evaluate(model, o["loss"], Xt, targets(yt), metrics=["accuracy"])
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "dataset": o["dataset"],
        "preprocessing": MNIST_PREPROCESSING if "mnist" in o["dataset"] else "float32 array of shape (N, 2), raw coordinates",
        "classes": n_classes,
        "options": {k: v for k, v in o.items() if k != "hidden"},
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "train_seconds": seconds,
    }
    ng.io.save(model, out / "model.safetensors", metadata=meta)
    (out / "history.json").write_text(json.dumps(history.to_dict()["history"], indent=1))
    try:
        from nablagrad import viz  # noqa: PLC0415

        viz.save_figure(viz.plot_history(history), out / "curves.png")
    except ImportError:
        print("(matplotlib is not installed: no curves.png; pip install 'nablagrad[viz]')")
    for epoch, (loss, acc) in enumerate(zip(history["loss"], history["accuracy"]), 1):
        print(f"epoch {epoch:3d}  loss {loss:.4f}  train accuracy {acc:.4f}")
    print(f"trained in {seconds:.1f} s; saved {out / 'model.safetensors'} and {out / 'curves.png'}")
    print(f"test accuracy: {test['accuracy']:.4f}")
    return 0


def _model_path(target: str) -> Path:
    p = Path(target)
    if p.is_dir():
        p = p / "model.safetensors"
    if not p.exists():
        raise CLIError(f"no model at {target} (give a run folder or a .safetensors file)")
    return p


def run_evaluate(args: argparse.Namespace) -> int:
    import nablagrad as ng  # noqa: PLC0415

    path = _model_path(args.target)
    try:
        model = ng.io.load(path)
    except ng.io.ModelFileError as exc:
        raise CLIError(str(exc)) from None
    meta = model.metadata
    dataset = args.dataset or meta.get("dataset", "mnist")
    _, _, Xt, yt = load_dataset(dataset, int(meta.get("options", {}).get("seed", 0)))
    pred = ng.train.predict(model, Xt).argmax(1)
    acc = float((pred == yt).mean())
    print(f"{path}: {dataset} test accuracy {acc:.4f} ({int((pred == yt).sum())}/{len(yt)})")
    return 0


def read_digit_image(path: str) -> np.ndarray:
    """A picture of one digit → float32 (1, 784) in [0, 1], white digit on black like MNIST."""
    try:
        from PIL import Image  # noqa: PLC0415
    except ImportError:  # pragma: no cover
        raise CLIError("predict reads pictures with Pillow, which is not installed: pip install 'nablagrad[image]'") from None
    try:
        img = Image.open(path).convert("L")
    except FileNotFoundError:
        raise CLIError(f"no such image {path}") from None
    except Exception as exc:  # Pillow raises several error types for bad files
        raise CLIError(f"cannot read image {path}: {exc}") from None
    if img.size != (28, 28):
        img = img.resize((28, 28))
    a = np.asarray(img, dtype=np.float32) / 255
    if a.mean() > 0.5:  # dark digit on a light background: invert to MNIST's convention
        a = 1 - a
    return a.reshape(1, 784)


def run_predict(args: argparse.Namespace) -> int:
    import nablagrad as ng  # noqa: PLC0415

    try:
        model = ng.io.load(_model_path(args.model))
    except ng.io.ModelFileError as exc:
        raise CLIError(str(exc)) from None
    x = read_digit_image(args.image)
    probs = ng.softmax(ng.tensor(ng.train.predict(model, x)), axis=1).numpy()[0]
    best = int(probs.argmax())
    print(f"{args.image}: class {best} (p = {probs[best]:.3f})")
    for k, p in enumerate(probs):
        print(f"  {k}: {p:.4f}")
    return 0
