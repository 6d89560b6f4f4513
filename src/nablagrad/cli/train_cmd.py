"""``nablagrad train`` / ``evaluate`` / ``predict``: the main job, MNIST end to end.

Defaults: MLP 784-256-128-10 (ReLU), Adam(lr=1e-3, cosine schedule), batch 128, 12 epochs on the bundled
MNIST, 10% of the training set held out for validation — about 98% test accuracy.  A run
folder receives ``model.safetensors`` (inputs: float32 (N, 784) scaled to [0, 1], recorded in
the file's metadata), ``history.json`` and ``curves.png`` (training and validation side by side).
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import time
from pathlib import Path

import numpy as np

from ..backend.checks import is_int, is_real
from ..data import CLASSIFICATION_SETS
from ..data.loader import SAMPLING
from ..nn import HIDDEN_ACTIVATIONS
from ..optim import OPTIMIZERS, SCHEDULES
from .errors import CLIError, CommandFailedError

MNIST_PREPROCESSING = "float32 array of shape (N, 784): pixel / 255, so values lie in [0, 1]"
TOY_SETS = CLASSIFICATION_SETS
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
    "validation": 0.1,
    "clip_grad_norm": 0.0,
    "device": "cpu",
}


# Every option's allowed values, in one place: argparse uses CHOICES, and _validate applies both
# tables to the merged options, so a config file cannot bypass them.
CHOICES = {
    "dataset": ("mnist", "fashion-mnist", *TOY_SETS),
    "activation": HIDDEN_ACTIVATIONS,
    "output_activation": ("none", "sigmoid", "softmax"),
    "loss": ("cross_entropy", "mse", "squared_error"),
    "optimizer": tuple(OPTIMIZERS),
    "schedule": ("none", *SCHEDULES),
    "regime": ("batch", "stochastic", "minibatch"),
    "sampling": SAMPLING,
}


def _number(v) -> bool:
    return is_real(v) and math.isfinite(v)


RULES = {
    "lr": (lambda v: _number(v) and v > 0, "a positive finite number, e.g. 1e-3"),
    "momentum": (lambda v: _number(v) and 0 <= v < 1, "a number in [0, 1), e.g. 0.9"),
    "forgetting": (lambda v: _number(v) and 0 < v <= 1, "a rate in (0, 1], e.g. 0.1"),
    "weight_decay": (lambda v: _number(v) and v >= 0, "a number >= 0 (0 for none)"),
    "gamma": (lambda v: _number(v) and v > 0, "a positive number, e.g. 0.5"),
    "step_size": (lambda v: is_int(v) and v > 0, "a positive integer (epochs per step)"),
    "batch_size": (lambda v: is_int(v) and v > 0, "a positive integer"),
    "epochs": (lambda v: is_int(v) and v > 0, "a positive integer"),
    "l1": (lambda v: _number(v) and v >= 0, "a number >= 0 (0 for none)"),
    "l2": (lambda v: _number(v) and v >= 0, "a number >= 0 (0 for none)"),
    "clip_grad_norm": (lambda v: _number(v) and v >= 0, "a number >= 0 (0 for no clipping)"),
    "validation": (lambda v: _number(v) and 0 <= v < 1, "a fraction in [0, 1) (0 for no validation split)"),
    "seed": (lambda v: is_int(v) and v >= 0, "an integer >= 0"),
    "limit": (lambda v: is_int(v) and v >= 0, "an integer >= 0 (0 for the whole training set)"),
    "layers": (lambda v: isinstance(v, str | int | list) and not isinstance(v, bool),
               "comma-separated sizes like 256,128 (in a config file also a list, [256, 128])"),
    "out": (lambda v: isinstance(v, str) and v != "", "a folder name"),
    "device": (lambda v: isinstance(v, str) and v != "", "'cpu', 'cuda' or 'cuda:N'"),
}


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="a TOML file with any of these options (command-line flags win)")
    p.add_argument("--dataset", choices=CHOICES["dataset"])
    p.add_argument("--layers", "--hidden", dest="layers", help="hidden sizes, comma-separated (default 256,128)")
    p.add_argument("--activation", choices=CHOICES["activation"])
    p.add_argument("--output-activation", dest="output_activation", choices=CHOICES["output_activation"],
                   help="applied to the last layer (lecture 003: sigmoid with --loss mse); default none (logits)")
    p.add_argument("--loss", choices=CHOICES["loss"])
    p.add_argument("--optimizer", choices=CHOICES["optimizer"])
    p.add_argument("--lr", type=float)
    p.add_argument("--momentum", type=float, help=f"momentum (--optimizer {_users('optimizer', 'momentum')})")
    p.add_argument("--forgetting", type=float,
                   help=f"the lectures' EMA momentum rate λ (--optimizer {_users('optimizer', 'forgetting')})")
    p.add_argument("--weight-decay", type=float, dest="weight_decay")
    p.add_argument("--schedule", choices=CHOICES["schedule"])
    p.add_argument("--gamma", type=float, help=f"schedule factor (--schedule {_users('schedule', 'gamma')})")
    p.add_argument("--step-size", type=int, dest="step_size",
                   help=f"epochs per step (--schedule {_users('schedule', 'step_size')})")
    p.add_argument("--regime", choices=CHOICES["regime"], help="full batch, batch size 1, or mini-batches")
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--sampling", choices=CHOICES["sampling"])
    p.add_argument("--epochs", type=int)
    p.add_argument("--l1", type=float, help="L1 penalty strength on weights")
    p.add_argument("--l2", type=float, help="L2 penalty strength on weights")
    p.add_argument("--clip-grad-norm", type=float, dest="clip_grad_norm")
    p.add_argument("--validation", type=float, help="fraction of the training set held out for validation (default 0.1)")
    p.add_argument("--seed", type=int)
    p.add_argument("--limit", type=int, help="use only the first N training examples (quick runs)")
    p.add_argument("--out", help="run folder (default runs/latest)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--device", help="where to train: cpu (default), cuda or cuda:N (needs nablagrad[gpu])")
    p.add_argument("--distributed", action="store_true",
                   help="data parallel: mpiexec -n N nablagrad train --distributed (rank 0 prints and saves)")  # fmt: skip


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
    except IsADirectoryError:
        raise CLIError(f"--config {path} is a folder, not a file; give the TOML file itself, "
                       f"e.g. --config {Path(path) / 'train.toml'}") from None  # fmt: skip
    except OSError as exc:  # no permission, a broken device...: the option names a file that cannot be read
        raise CLIError(f"--config {path} cannot be read ({exc.strerror or exc}); give a readable TOML file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CLIError(f"config file {path} is not valid TOML: {exc}") from None
    table = cfg.get("train", cfg)
    if not isinstance(table, dict):
        raise CLIError(f"config file {path}: [train] must be a table of options, got {type(table).__name__}")
    cfg = {k.replace("-", "_"): v for k, v in table.items()}
    unknown = sorted(set(cfg) - set(DEFAULTS))
    if unknown:
        raise CLIError(f"config file {path}: unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(DEFAULTS))}")
    return cfg


def _validate(o: dict) -> None:
    for name, allowed in CHOICES.items():
        if o[name] not in allowed:
            raise CLIError(f"--{name.replace('_', '-')} must be one of {', '.join(allowed)}; got {o[name]!r}")
    for name, (ok, what) in RULES.items():
        if not ok(o[name]):
            raise CLIError(f"--{name.replace('_', '-')} must be {what}, got {o[name]!r}")
    layers = o["layers"]  # a config file's list [256, 128] reads as "256,128"
    text = (",".join(map(str, layers)) if isinstance(layers, list) else str(layers)).strip()
    parts = text.split(",") if text else []  # "" (or "0 hidden layers"): a linear model
    if "" in (p.strip() for p in parts):
        raise CLIError(f"--layers has an empty size in {o['layers']!r}; write one integer between each pair of commas, "
                       "like 256,128")  # fmt: skip
    try:
        o["hidden"] = [int(p) for p in parts]
    except ValueError:
        raise CLIError(f"--layers expects comma-separated integers like 256,128, got {o['layers']!r}") from None
    if any(h <= 0 or h > 100_000 for h in o["hidden"]):
        raise CLIError(f"--layers sizes must lie in 1..100000, got {o['layers']!r}")
    _check_used(o)


# Options read by the optimiser / the schedule whose constructor takes them (their signatures say which).
OPTIMIZER_OPTIONS = ("lr", "momentum", "forgetting", "weight_decay")
SCHEDULE_OPTIONS = ("gamma", "step_size")


def _takes(kind: str, choice: str) -> set[str]:
    """The options among OPTIMIZER_OPTIONS / SCHEDULE_OPTIONS that the optimiser or schedule ``choice`` takes."""
    if kind == "optimizer":
        return set(OPTIMIZER_OPTIONS) & set(inspect.signature(OPTIMIZERS[choice]).parameters)
    return set() if choice == "none" else set(SCHEDULE_OPTIONS) & set(inspect.signature(SCHEDULES[choice]).parameters)


def _users(kind: str, name: str) -> str:
    """The choices of ``--kind`` that take the option ``name``, e.g. "sgd or rmsprop"."""
    return " or ".join(k for k in CHOICES[kind] if name in _takes(kind, k))


def _check_used(o: dict) -> None:
    """Refuse an option set (away from its default) that the chosen optimiser or schedule would silently ignore:
    ``--momentum 0.9 --optimizer adam`` would train without momentum."""
    for kind, names in (("optimizer", OPTIMIZER_OPTIONS), ("schedule", SCHEDULE_OPTIONS)):
        takes = _takes(kind, o[kind])
        for name in names:
            if name not in takes and o[name] != DEFAULTS[name]:
                flag = f"--{name.replace('_', '-')}"
                raise CLIError(f"{flag} {o[name]} does nothing with --{kind} {o[kind]}, which takes no {name}; choose "
                               f"--{kind} {_users(kind, name)}, or drop {flag}")  # fmt: skip


def _split(X: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """``(X_train, y_train, validation or None)``: a random ``fraction`` of the rows held out."""
    if not fraction:
        return X, y, None
    k = math.ceil(len(X) * fraction)
    if len(X) - k < 1:
        raise CLIError(f"--validation {fraction} of {len(X)} examples leaves none for training; lower --validation "
                       "or raise --limit")  # fmt: skip
    perm = np.random.default_rng(seed).permutation(len(X))
    train, held = np.sort(perm[k:]), np.sort(perm[:k])
    return X[train], y[train], (X[held], y[held])


def load_dataset(name: str, seed: int):
    import nablagrad as ng  # noqa: PLC0415

    if name in ("mnist", "fashion-mnist"):
        loader = ng.data.load_mnist if name == "mnist" else ng.data.load_fashion_mnist
        try:
            X, y, Xt, yt = loader(flatten=True)
        except ng.data.DataFormatError as exc:
            raise CommandFailedError(str(exc)) from None
        scale = np.float32(1 / 255)
        return (X * scale).astype(np.float32), y.astype(np.int64), (Xt * scale).astype(np.float32), yt.astype(np.int64)
    X, y = ng.data.DATASETS[name](1000, noise=0.1, seed=seed)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(X))
    tr, te = perm[:700], perm[700:]
    return X[tr].astype(np.float32), y[tr], X[te].astype(np.float32), y[te]


def _check_writable(out: Path) -> None:
    """That the run folder ``out`` can be made (or written) later, without making anything now."""
    from ..io.atomic import folder_problem  # noqa: PLC0415 - io pulls in the engine: loaded only to train

    problem, base = folder_problem(out, trial=True)
    if problem is not None:
        raise CommandFailedError(f"--out {out}: {problem}: {base}")


def _memory_bytes() -> int | None:
    """This machine's physical memory in bytes (None where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX
        return None


def check_model_fits(sizes: list[int], layers: str, memory: int | None = None) -> None:
    """Refuse, before allocating anything, an MLP whose float32 weights, gradients and optimiser
    state (``4 · Σ (n_in + 1) · n_out`` values, 4 bytes each: Adam keeps two moments) need more
    than the machine's memory — ``--layers 100000,100000`` would otherwise allocate 37 GiB and die."""
    params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    need = 4 * params * 4
    memory = _memory_bytes() if memory is None else memory
    if memory is not None and need > memory:
        raise CLIError(f"--layers {layers} makes an MLP {'-'.join(map(str, sizes))} of {params:,} parameters, which needs "
                       f"about {need / 2**30:.1f} GiB (weights, gradients and optimiser state) but this machine has "
                       f"{memory / 2**30:.1f} GiB; choose smaller --layers, e.g. 256,128")  # fmt: skip


def run_train(args: argparse.Namespace) -> int:
    import nablagrad as ng  # noqa: PLC0415

    o = resolve_options(args)
    try:
        device = ng.device(o["device"])  # before loading anything: 'cuda' without CuPy fails here, naming the extra
    except (ValueError, RuntimeError) as exc:
        raise CLIError(f"--device: {exc}") from None
    if o["output_activation"] == "softmax" and o["loss"] == "cross_entropy":
        raise CLIError("--output-activation softmax with --loss cross_entropy would apply the softmax twice "
                       "(cross_entropy takes raw scores and applies its own); drop --output-activation, or pair softmax "
                       "with --loss mse")  # fmt: skip
    X, y, Xt, yt = load_dataset(o["dataset"], o["seed"])
    if o["limit"]:
        X, y = X[: o["limit"]], y[: o["limit"]]
    n_classes = int(max(y.max(), yt.max())) + 1
    X, y, validation = _split(X, y, o["validation"], o["seed"])
    ng.manual_seed(o["seed"])
    sizes = [X.shape[1], *o["hidden"], n_classes]
    check_model_fits(sizes, str(o["layers"]))
    output_activation = None if o["output_activation"] == "none" else o["output_activation"]
    model = ng.nn.MLP(sizes, activation=o["activation"], output_activation=output_activation, seed=o["seed"])
    optimizer = OPTIMIZERS[o["optimizer"]](model.parameters(), **{k: o[k] for k in _takes("optimizer", o["optimizer"])})
    callbacks = []
    sched = ng.optim.make_scheduler(o["schedule"], optimizer, gamma=o["gamma"], step_size=o["step_size"], T_max=o["epochs"])
    if sched is not None:
        callbacks.append(ng.train.LRSchedulerCallback(sched))
    batch_size = {"batch": None, "stochastic": 1, "minibatch": o["batch_size"]}[o["regime"]]
    targets = (lambda v: ng.data.one_hot(v, n_classes)) if o["loss"] != "cross_entropy" else (lambda v: v)
    out = Path(o["out"])
    arch = "-".join(map(str, sizes))
    root = not args.distributed or ng.distributed.init().is_root
    if root:  # in a data-parallel run only rank 0 prints and saves
        _check_writable(out)  # an --out that cannot be written fails now, not after training (and creates nothing)
        print(f"nablagrad train: {o['dataset']} ({len(X)} training, {len(Xt)} test examples), MLP {arch} {o['activation']}"
              f"{'' if output_activation is None else ' → ' + output_activation}, {o['loss']}, "
              f"{o['optimizer']} lr={o['lr']} ({o['schedule']}), {o['regime']} batch={batch_size}, "
              f"{o['epochs']} epochs, on {device}")  # fmt: skip
    t0 = time.perf_counter()
    try:
        history = ng.train.fit(
            model, o["loss"], optimizer, X, targets(y), epochs=o["epochs"], batch_size=batch_size, sampling=o["sampling"],
            validation_data=(validation[0], targets(validation[1])) if validation else None, metrics=["accuracy"],
            callbacks=callbacks, progress=not args.no_progress, l1=o["l1"], l2=o["l2"], seed=o["seed"],
            clip_grad_norm=o["clip_grad_norm"] or None, distributed=args.distributed, device=device,
        )  # fmt: skip
    except (ng.train.TrainingDivergedError, ImportError) as exc:
        raise CommandFailedError(str(exc)) from None
    if not root:
        return 0
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
    ng.io.atomic_write_bytes(out / "history.json", json.dumps(history.to_dict()["history"], indent=1).encode())
    saved = [out / "model.safetensors", out / "history.json"]
    try:
        from nablagrad import viz  # noqa: PLC0415

        viz.save_figure(viz.plot_history(history), out / "curves.png")
        saved.append(out / "curves.png")
    except ImportError:
        print("(matplotlib is not installed: no curves.png; pip install 'nablagrad[viz]')")
    h = history.history
    for i, (loss, acc) in enumerate(zip(h["loss"], h["accuracy"])):
        val = f"  validation loss {h['val_loss'][i]:.4f}  accuracy {h['val_accuracy'][i]:.4f}" if validation else ""
        print(f"epoch {i + 1:3d}  loss {loss:.4f}  train accuracy {acc:.4f}{val}")  # no validation: no val_* history
    print(f"trained in {seconds:.1f} s; saved {', '.join(map(str, saved))}")
    print(f"test accuracy: {test['accuracy']:.4f}")
    return 0


def _model_path(target: str) -> Path:
    p = Path(target)
    if p.is_dir():
        p = p / "model.safetensors"
    if not p.exists():
        raise CLIError(f"no model at {target} (give a run folder or a .safetensors file)")
    return p


def _load_model(target: str):
    """The model at ``target`` and its (input features, outputs), read from its first and last layer
    with sizes (``Linear``, ``KANLinear``, …; None if it has none)."""
    import nablagrad as ng  # noqa: PLC0415

    path = _model_path(target)
    try:
        model = ng.io.load(path)
    except ng.io.ModelFileError as exc:
        raise CommandFailedError(str(exc)) from None
    sized = [m for m in model.modules() if is_int(getattr(m, "in_features", None)) and is_int(getattr(m, "out_features", None))]
    sizes = (sized[0].in_features, sized[-1].out_features) if sized else (None, None)
    return path, model, sizes


def _outputs(path: Path, model, X: np.ndarray, what: str) -> np.ndarray:
    """The model's outputs on ``X``; a model that cannot take them (layers that do not chain, another
    input shape) is a usage error naming the mismatch, not a crash."""
    import nablagrad as ng  # noqa: PLC0415

    try:
        ng.train.predict(model, X[:1])  # one row first: a mismatch is named before the whole set is read
    except (ValueError, TypeError) as exc:
        raise CLIError(f"{path} cannot take {what}: {exc}; give it the data it was trained on, or check that its "
                       "layers' sizes chain") from None  # fmt: skip
    return ng.train.predict(model, X)


def run_evaluate(args: argparse.Namespace) -> int:
    path, model, (n_in, n_out) = _load_model(args.target)
    meta = model.metadata
    dataset = args.dataset or meta.get("dataset", "mnist")
    if dataset not in CHOICES["dataset"]:
        raise CLIError(f"{path} records the data set {str(dataset)[:40]!r}, which is not known here; choose one with "
                       f"--dataset {{{','.join(CHOICES['dataset'])}}}")  # fmt: skip
    seed = meta.get("options", {}).get("seed", 0) if isinstance(meta.get("options"), dict) else 0
    _, _, Xt, yt = load_dataset(dataset, seed if is_int(seed) and seed >= 0 else 0)
    if n_in is not None and n_in != Xt.shape[1]:
        trained = f" (trained on {meta['dataset']})" if isinstance(meta.get("dataset"), str) else ""
        raise CLIError(f"{path} takes {n_in} input features{trained} but {dataset} has {Xt.shape[1]}; "
                       f"evaluate it on a data set with {n_in} features, or omit --dataset")  # fmt: skip
    if n_out is not None and n_out <= int(yt.max()):
        raise CLIError(f"{path} has {n_out} outputs but {dataset} has {int(yt.max()) + 1} classes; evaluate it on its own "
                       "data set")  # fmt: skip
    out = _outputs(path, model, Xt, f"the {dataset} examples ({Xt.shape[1]} features)")
    if out.ndim != 2 or out.shape[1] <= int(yt.max()):
        raise CLIError(f"{path} gives outputs of shape {out.shape[1:]} per example but {dataset} has {int(yt.max()) + 1} "
                       "classes; evaluate it on its own data set")  # fmt: skip
    pred = out.argmax(1)
    acc = float((pred == yt).mean())
    print(f"{path}: {dataset} test accuracy {acc:.4f} ({int((pred == yt).sum())}/{len(yt)})")
    return 0


IMAGE_SIDES = (8, 4096)  # pixels: smaller holds no digit, larger is not a picture of one digit


def _gray(img):
    """The picture as grey levels: 8-bit ``L`` (0..255), or for 16-bit and 32-bit integer pictures
    (modes ``I;16*`` and ``I``, e.g. a 16-bit PNG) a float ``F`` picture of ``v / 65535`` in [0, 1] —
    Pillow's ``convert("L")`` would clip every value above 255 to white instead of rescaling."""
    from PIL import Image  # noqa: PLC0415

    if img.mode == "I" or img.mode.startswith("I;16"):
        levels = np.asarray(img, dtype=np.float64) / 65535  # 16-bit full scale (Pillow's I holds 16-bit PNG/PGM data)
        return Image.fromarray(np.clip(levels, 0, 1).astype(np.float32))  # mode F
    return img.convert("L")


def read_digit_image(path: str) -> tuple[np.ndarray, str]:
    """A picture of one digit → float32 (1, 784) in [0, 1], white digit on black like MNIST, and a
    note saying how it was resized (empty for 28×28)."""
    try:
        from PIL import Image  # noqa: PLC0415
    except ImportError:  # pragma: no cover
        raise CommandFailedError("predict reads pictures with Pillow, which is not installed: "
                                 "pip install 'nablagrad[image]'") from None  # fmt: skip
    try:
        img = Image.open(path)  # reads the header only: the size is known before decoding
    except FileNotFoundError:
        raise CLIError(f"no such image {path}") from None
    except Exception as exc:  # Pillow raises several error types for bad files
        raise CommandFailedError(f"cannot read image {path}: {exc}") from None
    w, h = img.size
    lo, hi = IMAGE_SIDES
    if not (lo <= w <= hi and lo <= h <= hi):
        raise CLIError(f"{path} is {w}×{h} pixels; predict reads a picture of one digit, ideally 28×28 like MNIST, "
                       f"between {lo}×{lo} and {hi}×{hi}; crop or scale it first")  # fmt: skip
    try:
        img = _gray(img)
    except Exception as exc:  # a truncated or corrupted image body
        raise CommandFailedError(f"cannot read image {path}: {exc}") from None
    note = ""
    if img.size != (28, 28):
        img = img.resize((28, 28))
        note = f" (resized from {w}×{h} to 28×28)"
    a = np.asarray(img, dtype=np.float32) / (255 if img.mode == "L" else 1)
    a = np.clip(a, 0, 1)  # a bicubic resize of an F picture overshoots at edges (L clamps to 0..255 itself)
    if a.mean() > 0.5:  # dark digit on a light background: invert to MNIST's convention
        a = 1 - a
    return a.reshape(1, 784), note


def run_predict(args: argparse.Namespace) -> int:

    path, model, (n_in, _) = _load_model(args.model)
    if n_in is not None and n_in != 784:
        trained = model.metadata.get("dataset") if isinstance(model.metadata.get("dataset"), str) else "other data"
        raise CLIError(f"{path} takes {n_in} input features (trained on {trained}); predict needs a model of 28×28 = 784 "
                       "pixels, e.g. one from `nablagrad train` on mnist")  # fmt: skip
    x, note = read_digit_image(args.image)
    probs, what = _class_scores(model, _outputs(path, model, x, "a 28×28 picture (784 features)"))
    best = int(probs.argmax())
    print(f"{args.image}: class {best} ({what} = {probs[best]:.3f}){note}")
    for k, p in enumerate(probs):
        print(f"  {k}: {p:.4f}")
    return 0


def _class_scores(model, out: np.ndarray) -> tuple[np.ndarray, str]:
    """The model's outputs for one picture as it means them: a softmax or sigmoid output layer already gives
    probabilities (softmax again would flatten them), log-probabilities are exponentiated, raw scores (logits)
    go through the softmax."""
    import nablagrad as ng  # noqa: PLC0415

    layers = list(model) if isinstance(model, ng.nn.Sequential) else [model]
    last = layers[-1] if layers else None
    row = out[0]
    if isinstance(last, ng.nn.LogSoftmax):
        return np.exp(row), "p"
    if isinstance(last, ng.nn.Softmax):
        return row, "p"
    if isinstance(last, ng.nn.Sigmoid):  # one score per class in [0, 1] (the lecture-003 recipe), not a distribution
        return row, "score"
    return ng.softmax(ng.tensor(out), axis=1).numpy()[0], "p"
