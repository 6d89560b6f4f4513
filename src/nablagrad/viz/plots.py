"""Plots. Every function returns a matplotlib Figure; :func:`save_figure` writes it atomically."""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Sequence

import numpy as np

from ..autodiff import Explanation, Tensor, grad, tensor
from ..io import atomic_write_bytes
from ..ml.metrics import confusion_matrix
from ..nn import Linear, Module
from ..optim import OPTIMIZERS
from ..train import History, predict


def _plt():
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("nablagrad.viz needs matplotlib: pip install 'nablagrad[viz]'") from exc
    return plt


def save_figure(fig, path: str | os.PathLike, dpi: int = 110) -> None:
    """PNG, SVG or PDF by the file's suffix, written atomically; the figure is closed.  A bad
    suffix, ``dpi`` or figure is refused before anything is written (and the figure stays open)."""
    if not callable(getattr(fig, "savefig", None)):
        raise TypeError(f"save_figure: expected a matplotlib Figure (what every viz.plot_* returns), got "
                        f"{type(fig).__name__}")  # fmt: skip
    suffix = os.path.splitext(os.fspath(path))[1]
    fmt = suffix[1:].lower()
    formats = fig.canvas.get_supported_filetypes()
    if fmt not in formats:
        told = f"suffix {suffix!r}" if suffix else "no suffix"
        raise ValueError(f"save_figure: cannot tell the format from {os.fspath(path)!r} ({told}); "
                         f"end the name with .png, .svg or .pdf (supported: {', '.join(sorted(formats))})")  # fmt: skip
    if not (_is_number(dpi) and dpi > 0):
        raise ValueError(f"save_figure: dpi must be a positive number, e.g. 110, got {dpi!r}")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    _plt().close(fig)
    atomic_write_bytes(path, buf.getvalue())


def _is_number(x) -> bool:
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool) and bool(np.isfinite(x))


def _count(name: str, value, lo: int, hi: int | None = None) -> int:
    """``value`` as an int in ``lo..hi``, or a ValueError naming the function's argument."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be a whole number {bounds}, got {value!r}")
    return int(value)


def plot_history(history: History | dict, keys: Sequence[str] | str | None = None):
    """Loss (left) and the other metrics (right) per epoch, train and validation (``val_<key>``,
    drawn over as many epochs as it holds)."""
    plt = _plt()
    h = history.history if isinstance(history, History) else history
    if not isinstance(h, dict) or not all(isinstance(k, str) for k in h):
        raise TypeError(f"plot_history: expected the History that fit returned (or its dict of name -> values per "
                        f"epoch), got {type(history).__name__}")  # fmt: skip
    keys = [keys] if isinstance(keys, str) else keys
    keys = keys or [k for k in h if not k.startswith("val_") and k not in ("lr", "weight_change")]
    bad = [k for k in keys if k in h for v in [h[k], h.get(f"val_{k}", [])] if np.ndim(v) != 1]
    if bad:
        raise ValueError(f"plot_history: {bad[0]!r} must hold one value per epoch (a list), got {h[bad[0]]!r}")
    if not keys or any(k not in h for k in keys):
        raise ValueError(f"plot_history: nothing to plot for keys {list(keys)} in a history of {sorted(h)}; "
                         "pass the History that fit returned (after at least one epoch) or keys it holds")  # fmt: skip
    losses = [k for k in keys if "loss" in k]
    others = [k for k in keys if "loss" not in k]
    fig, axes = plt.subplots(1, 2 if others else 1, figsize=(10 if others else 5, 3.6), squeeze=False)
    for ax, group, title in ((axes[0][0], losses, "loss"), (axes[0][-1], others, "metrics")):
        for k in group:
            ax.plot(np.arange(1, len(h[k]) + 1), h[k], label=k)
            if f"val_{k}" in h:
                ax.plot(np.arange(1, len(h[f"val_{k}"]) + 1), h[f"val_{k}"], "--", label=f"val_{k}")
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _scores(model_or_fn):
    """What to call on a grid of points: a Module's outputs, an estimator's decision function or predictions, or the
    function itself."""
    if hasattr(model_or_fn, "parameters") and callable(model_or_fn):
        return lambda grid: predict(model_or_fn, grid)
    for name in ("decision_function", "predict"):
        if callable(getattr(model_or_fn, name, None)) and not callable(model_or_fn):
            return getattr(model_or_fn, name)
    if not callable(model_or_fn):
        raise TypeError(f"plot_decision_boundary: expected a Module, a fitted estimator (with predict) or a function "
                        f"X -> scores, got a {type(model_or_fn).__name__}")  # fmt: skip
    return model_or_fn


MAX_RESOLUTION = 2000  # grid points per side: 4 million predictions, a few hundred MB at most


def _codes(*arrays: np.ndarray) -> list[np.ndarray]:
    """Arrays of numbers as they are; arrays of names (strings, objects) as class codes 0, 1, …
    shared by all of them (a classifier's predicted names and the true ones get the same colours)."""
    named = [a for a in arrays if a.dtype.kind not in "biuf"]
    if not named:
        return list(arrays)
    classes = np.unique(np.concatenate([a.astype(str) for a in named]))
    return [a if a.dtype.kind in "biuf" else np.searchsorted(classes, a.astype(str)) for a in arrays]


def plot_decision_boundary(model_or_fn, X: np.ndarray, y: np.ndarray, resolution: int = 200, ax=None):
    """The decision regions of any 2-D classifier — a Module, a fitted estimator (its ``decision_function``, else
    ``predict``; scikit-learn's or nablagrad.ml's) or a function X → scores — with the data.

    The model is evaluated on a ``resolution × resolution`` grid (2 … ``MAX_RESOLUTION``) spanning X and 10 % more;
    labels may be numbers or names (strings)."""
    plt = _plt()
    X = np.asarray(X.numpy() if isinstance(X, Tensor) else X)
    X = X.astype(np.float64) if X.dtype.kind == "b" else X  # 0/1 features: a grid needs arithmetic
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"plot_decision_boundary: needs X of shape (n, 2) with n >= 1 (two input features), got shape "
                         f"{X.shape}")  # fmt: skip
    if X.dtype.kind not in "biuf" or not np.all(np.isfinite(X)):
        raise ValueError("plot_decision_boundary: X must hold finite numbers (no NaN or inf); remove or impute those rows")
    y = np.asarray(y.numpy() if isinstance(y, Tensor) else y)
    if y.ndim == 2 and y.shape[0] == len(X) and y.shape[1] > 1:
        raise ValueError(f"plot_decision_boundary: y has shape {y.shape}, one row of scores per sample; give one label "
                         "per row, e.g. y.argmax(1) for one-hot targets")  # fmt: skip
    y = y.reshape(-1)
    if len(y) != len(X):
        raise ValueError(f"plot_decision_boundary: X has {len(X)} rows but y has {len(y)} labels; give one label per row")
    resolution = _count("plot_decision_boundary: resolution", resolution, 2, MAX_RESOLUTION)
    pad = 0.1 * (X.max(0) - X.min(0) + 1e-9)
    xs = np.linspace(X[:, 0].min() - pad[0], X[:, 0].max() + pad[0], resolution)
    ys = np.linspace(X[:, 1].min() - pad[1], X[:, 1].max() + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    out = _scores(model_or_fn)(grid)
    out = np.asarray(out.numpy() if isinstance(out, Tensor) else out)
    z = out.argmax(1) if out.ndim == 2 and out.shape[1] > 1 else out.reshape(-1)
    if z.size != len(grid):
        raise ValueError(f"plot_decision_boundary: the model gave outputs of shape {out.shape} for {len(grid)} grid "
                         "points; it must give one score (or one row of class scores) per point")  # fmt: skip
    z, y = _codes(z, y)
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.contourf(gx, gy, z.reshape(gx.shape), levels=20 if z.dtype.kind == "f" else None, cmap="RdBu", alpha=0.6)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", edgecolors="k", s=14)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return fig or ax.figure


def plot_confusion_matrix(y_true, y_pred, labels: Sequence | None = None):
    """Counts C[i, j] of (true class i, predicted class j), from :func:`nablagrad.ml.metrics.confusion_matrix`
    (``labels``: the classes to show, in order; samples of other classes are left out, as scikit-learn)."""
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if len(y_true) != len(y_pred):
        raise ValueError(f"plot_confusion_matrix: y_true has {len(y_true)} samples but y_pred has {len(y_pred)}; "
                         "give one prediction per sample")  # fmt: skip
    plt = _plt()
    classes = np.unique(np.concatenate([y_true, y_pred])) if labels is None else np.asarray(labels)
    cm = confusion_matrix(y_true, y_pred, labels=classes)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    im = ax.imshow(cm, cmap="Blues")
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, cm[i, j], ha="center", va="center", color="white" if cm[i, j] > cm.max() / 2 else "black", fontsize=7)
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(im)
    return fig


def _image_shape(images: np.ndarray) -> tuple[int, int]:
    """The (rows, cols) of each picture: the array's own for (n, rows, cols), a square for flattened (n, side²)."""
    if images.ndim == 3:
        return images.shape[1], images.shape[2]
    side = math.isqrt(images.shape[1]) if images.ndim == 2 else 0
    if images.ndim != 2 or side * side != images.shape[1] or side == 0:
        raise ValueError(f"plot_misclassified: images of shape {images.shape} are not pictures; give (n, rows, cols) or "
                         "flattened square ones (n, side²), e.g. MNIST's (n, 784) or (n, 28, 28)")  # fmt: skip
    return side, side


def plot_misclassified(images: np.ndarray, y_true, y_pred, max_images: int = 25):
    """A grid of (at most ``max_images``) misclassified digits titled ``true → predicted``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    images = np.asarray(images.numpy() if isinstance(images, Tensor) else images)
    if not (y_true.ndim == y_pred.ndim == 1 and len(images) == len(y_true) == len(y_pred)):
        raise ValueError(f"plot_misclassified: images {np.shape(images)}, y_true {y_true.shape} and y_pred "
                         f"{y_pred.shape} must hold one image and one label per sample: call "
                         "plot_misclassified(images, y_true, y_pred)")  # fmt: skip
    shape = _image_shape(images)
    max_images = _count("plot_misclassified: max_images", max_images, 0)
    plt = _plt()
    wrong = np.flatnonzero(y_true != y_pred)[:max_images]
    cols = 5
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.6, rows * 1.8), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(images[i].reshape(shape), cmap="gray_r")
        ax.set_title(f"{y_true[i]} → {y_pred[i]}", fontsize=9)
    return fig


def plot_first_layer_weights(weight, max_units: int = 32, shape: tuple[int, int] = (28, 28)):
    """Each first-layer unit's incoming weights (a column of W, shape (in, out)) as an image.

    ``weight``: the weight matrix (array, Tensor or Parameter, nablagrad's ``(in, out)`` layout) or a
    model, whose first :class:`~nablagrad.nn.Linear` layer's weight is shown.  ``in`` must equal
    ``shape[0] · shape[1]`` (784 for MNIST's 28×28)."""
    W = _first_layer_weight(weight)
    if not (isinstance(shape, tuple | list) and len(shape) == 2 and all(_is_number(n) and n == int(n) and n > 0 for n in shape)):
        raise ValueError(f"plot_first_layer_weights: shape must be the picture's (rows, cols), two positive whole numbers, "
                         f"e.g. (28, 28); got {shape!r}")  # fmt: skip
    shape = (int(shape[0]), int(shape[1]))
    max_units = _count("plot_first_layer_weights: max_units", max_units, 1)
    pixels = shape[0] * shape[1]
    if W.ndim != 2 or W.shape[0] != pixels:
        fix = (f"pass W.T: nablagrad's Linear stores (in, out) = ({pixels}, units)" if W.ndim == 2 and W.shape[1] == pixels
               else f"pass the first layer of a model on {shape[0]}×{shape[1]} images, e.g. ng.nn.MLP([{pixels}, 16, 10]), "
               "or set shape= to the picture's (rows, cols)")  # fmt: skip
        raise ValueError(f"plot_first_layer_weights: weights of shape {W.shape} do not have {pixels} inputs "
                         f"(one per pixel of a {shape[0]}×{shape[1]} image); {fix}")  # fmt: skip
    plt = _plt()
    n = min(max_units, W.shape[1])
    cols = 8
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.2), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            w = W[:, k].reshape(shape)
            lim = np.abs(w).max() or 1.0
            ax.imshow(w, cmap="RdBu", vmin=-lim, vmax=lim)
    return fig


def _first_layer_weight(weight) -> np.ndarray:
    """The weight of ``weight``'s first Linear layer if it is a model, else ``weight`` as an array."""
    if isinstance(weight, Module) and not isinstance(weight, Linear):
        first = next((m for m in weight.modules() if isinstance(m, Linear)), None)
        if first is None:
            raise ValueError(f"plot_first_layer_weights: {type(weight).__name__} has no Linear layer; pass a model that "
                             "starts with one (e.g. ng.nn.MLP([784, 16, 10])) or the weight array itself")  # fmt: skip
        weight = first
    weight = getattr(weight, "weight", weight)
    return np.asarray(weight.numpy() if isinstance(weight, Tensor) else weight)


def lecture_function(x):
    """f(x1, x2) = x1² − 10x1 + 2x2² − 20x2 + 75 (lecture 003); minimum 0 at (5, 5)."""
    return x[0] ** 2 - 10 * x[0] + 2 * x[1] ** 2 - 20 * x[1] + 75


def optimizer_paths(
    lrs: Sequence[float], optimizer: str = "sgd", steps: int = 30, start=(0.0, 0.0), f: Callable = lecture_function, **kw
) -> dict[float, np.ndarray]:
    """The path of ``optimizer`` on ``f`` from ``start`` for each learning rate (one array (steps+1, 2) each;
    shorter when the path leaves |w| <= 1e6).  ``lrs``: learning rates (or one)."""
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose from {sorted(OPTIMIZERS)}")
    lrs = lrs.item() if isinstance(lrs, np.ndarray) and lrs.ndim == 0 else lrs
    if isinstance(lrs, str | bytes) or not (_is_number(lrs) or isinstance(lrs, float | Sequence | np.ndarray)):
        raise TypeError(f"optimizer_paths: lrs must be a learning rate or a list of them, e.g. [0.02, 0.2], got {lrs!r}")
    lrs = [lrs] if _is_number(lrs) or isinstance(lrs, float) else list(lrs)
    steps = _count("optimizer_paths: steps", steps, 0)
    start = np.asarray(start, dtype=np.float64)
    if start.ndim != 1 or not np.all(np.isfinite(start)):
        raise ValueError(f"optimizer_paths: start must be a point of finite numbers such as (0.0, 0.0), got {start!r}")
    paths = {}
    for lr in lrs:
        w = tensor(start.copy(), requires_grad=True)
        opt = OPTIMIZERS[optimizer]([w], lr=lr, **kw)
        pts = [w.numpy().copy()]
        for _ in range(steps):
            w.grad = grad(f)(w.detach())
            opt.step()
            pts.append(w.numpy().copy())
            if not np.all(np.isfinite(pts[-1])) or np.abs(pts[-1]).max() > 1e6:
                break
        paths[lr] = np.array(pts)
    return paths


def plot_optimizer_paths(lrs: Sequence[float] = (0.02, 0.2, 0.52), optimizer: str = "sgd", steps: int = 30, **kw):
    """Contours of the lecture's function with each learning rate's path: too small creeps,
    a good one converges, too large oscillates and diverges (lecture 003)."""
    plt = _plt()
    paths = optimizer_paths(lrs, optimizer, steps, **kw)
    g = np.linspace(-2, 12, 200)
    gx, gy = np.meshgrid(g, g)
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.contour(gx, gy, lecture_function([gx, gy]), levels=np.geomspace(0.5, 400, 14), cmap="viridis", linewidths=0.8)
    for lr, p in paths.items():
        p = np.clip(p, -2, 12)
        ax.plot(p[:, 0], p[:, 1], "o-", ms=3, label=f"lr = {lr}")
    ax.plot(5, 5, "k*", ms=12)
    ax.set_xlim(-2, 12)
    ax.set_ylim(-2, 12)
    ax.set_title(f"{optimizer} on x1² − 10x1 + 2x2² − 20x2 + 75")
    ax.legend()
    return fig


def plot_graph(ex: Explanation):
    """The computational graph of :func:`nablagrad.explain`: nodes by depth, edges labelled
    with the local derivatives ``∂w_i/∂w_j`` (lecture 002).

    An edge between neighbouring columns is a straight arrow; one that skips columns runs in its
    own lane above or below every node, so it never passes behind a node it does not enter."""
    if not isinstance(ex, Explanation):
        raise TypeError(f"plot_graph: expected what nablagrad.explain returns, e.g. plot_graph(ng.explain(f, 2.0, 3.0)), "
                        f"got {type(ex).__name__}")  # fmt: skip
    plt = _plt()
    from matplotlib.patches import FancyArrowPatch  # noqa: PLC0415 - matplotlib is the viz extra

    pos, depth = _graph_layout(ex)
    n_cols, n_rows = max(depth.values()) + 1, max(sum(d == c for d in depth.values()) for c in set(depth.values()))
    long_edges = [(p, r.name) for r in ex.rows for p in r.parents if depth[r.name] - depth[p] > 1]
    ys = [y for _, y in pos.values()]
    lanes = _lanes(long_edges, pos, min(ys) - 0.9, max(ys) + 0.9)
    fig, ax = plt.subplots(figsize=(2.6 * (n_cols + 1), 1.4 * n_rows + 1.5 + 0.25 * len(long_edges)))
    ax.set_xlim(-1.5, 3.0 * (n_cols - 1) + 1.5)
    ax.set_ylim(min([min(ys) - 1.2, *lanes.values()]) - 0.3, max([max(ys) + 1.2, *lanes.values()]) + 0.3)
    ax.axis("off")
    boxes = {r.name: _node_box(ax, pos[r.name], r) for r in ex.rows}
    half = _half_sizes(fig, ax, boxes)
    seen: dict[tuple[str, str], int] = {}
    for r in ex.rows:
        for p, d in zip(r.parents, r.partials):
            k = seen[(p, r.name)] = seen.get((p, r.name), -1) + 1  # a repeated edge (x·x) bends away from the first
            path, label_at = _edge_path(pos[p], half[p], pos[r.name], half[r.name], lanes.get((p, r.name)),
                                        bend=0.5 * k * (-1) ** k)  # fmt: skip
            ax.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=10, color="gray", lw=1, zorder=2))
            ax.text(*label_at, f"{d:.4g}", fontsize=8, color="firebrick", ha="center", va="bottom", zorder=4,
                    parse_math=False)  # fmt: skip
    return fig


def _node_box(ax, xy: tuple[float, float], r):
    """A node of the graph: its definition, value and adjoint in a box (names are drawn as written, no TeX)."""
    text = f"{r.name} = {r.expr}\nvalue {r.value:.4g}\nw̄ = {r.adjoint:.4g}"
    style = dict(boxstyle="round", fc="lightyellow", ec="gray")
    return ax.text(*xy, text, ha="center", va="center", fontsize=8, parse_math=False, zorder=3, bbox=style)


def _graph_layout(ex: Explanation) -> tuple[dict[str, tuple[float, float]], dict[str, int]]:
    """Each node's (x, y): columns by depth (the longest path from an input), 3 apart; rows centred."""
    depth: dict[str, int] = {}
    for r in ex.rows:
        depth[r.name] = 1 + max((depth[p] for p in r.parents), default=-1)
    columns: dict[int, list[str]] = {}
    for r in ex.rows:
        columns.setdefault(depth[r.name], []).append(r.name)
    pos = {n: (d * 3.0, (len(ns) - 1) * 0.8 - i * 1.6) for d, ns in columns.items() for i, n in enumerate(ns)}
    return pos, depth


def _lanes(edges: list[tuple[str, str]], pos: dict, bottom: float, top: float) -> dict[tuple[str, str], float]:
    """A height for each edge that skips columns: above every node when it starts in the upper half,
    below otherwise, each edge in a lane of its own."""
    lanes: dict[tuple[str, str], float] = {}
    above = below = 0
    for e in edges:
        if pos[e[0]][1] + pos[e[1]][1] >= 0:
            lanes[e], above = top + 0.45 * above, above + 1
        else:
            lanes[e], below = bottom - 0.45 * below, below + 1
    return lanes


def _half_sizes(fig, ax, boxes: dict) -> dict[str, tuple[float, float]]:
    """Half the drawn width and height of each node's box, in data units (arrows start and end on the boxes)."""
    fig.canvas.draw()  # the boxes around the texts get their size when drawn
    inverse = ax.transData.inverted()
    half = {}
    for name, text in boxes.items():
        box = text.get_bbox_patch().get_window_extent()
        (x0, y0), (x1, y1) = inverse.transform([(box.x0, box.y0), (box.x1, box.y1)])
        half[name] = ((x1 - x0) / 2 + 0.03, (y1 - y0) / 2 + 0.03)
    return half


def _edge_path(start, start_half, end, end_half, lane: float | None, bend: float = 0.0):
    """The arrow between two boxes (centres, half sizes) and where its label goes: from the right side
    of one to the left side of the next column's box, straight or bent by ``bend`` (a repeated edge);
    for a longer edge, up or down in the gap after its start (gaps between columns hold no node),
    along ``lane`` and down or up onto the top or bottom of the end's box."""
    from matplotlib.path import Path as MplPath  # noqa: PLC0415 - matplotlib is the viz extra

    a = (start[0] + start_half[0], start[1])
    if lane is None:
        b = (end[0] - end_half[0], end[1])
        c = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2 + bend)
        path = MplPath([a, c, b], [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3])
        t = 0.3  # the label near the start, where edges into one node have not yet met
        at = [(1 - t) ** 2 * p + 2 * t * (1 - t) * q + t**2 * r for p, q, r in zip(a, c, b)]  # the curve at t
        return path, (at[0], at[1])
    gap = 0.25 + 0.1 * (round(abs(lane) / 0.45) % 4)  # vertical runs of different lanes side by side
    x_end = end[0] - 0.4 * end_half[0]
    b = (x_end, end[1] + (end_half[1] if lane > end[1] else -end_half[1]))
    corners = [(a[0] + gap, a[1]), (a[0] + gap, lane), (x_end, lane)]
    path = MplPath([a, *corners, b], [MplPath.MOVETO] + [MplPath.LINETO] * 4)
    return path, (a[0] + gap + 0.6, lane)
