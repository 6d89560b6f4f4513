"""Architectures as plain JSON — rebuilt from a whitelist of layer types, never by running code.

Described: ``Sequential`` (and ``MLP``, as the Sequential it is; its children's names when they are not
``0, 1, …``: ``Sequential(OrderedDict(...))``), ``Linear``, the parameter-free
activations, ``LeakyReLU``, ``GELU``, ``ELU``, ``Softplus`` (their options), ``PReLU``,
``Softmax``/``LogSoftmax``, ``Flatten``/``Unflatten`` (their axes), ``Embedding`` (its sizes and options),
``Dropout`` (its ``p``; a rebuilt
one draws fresh masks), ``BatchNorm1d`` and ``LayerNorm`` (their options; the running statistics are
BatchNorm1d's own buffers), ``KANLinear`` and ``KAN`` (sizes, grid size, spline order, grid range).
These exact classes only: a user's subclass (its own ``forward``) is refused, as rebuilding its base
would compute something else; ``io.save`` then writes the weights with no architecture, and
``io.load(path, model=TheClass(...))`` reads them back.  An entry holding a key its type's description does
not (:data:`LAYER_KEYS`) is refused, as a file this version would half understand.  Buffers registered on
these modules (``model.register_buffer("x_mean", m)``) are described by name, shape and dtype under ``"buffers"``
and rebuilt as zeros, which the file's values then fill; a non-persistent buffer (its values are
not saved) cannot be rebuilt, so a module holding one is refused.

:func:`parameter_shapes` reads a description without building anything, so a loader can check
what a file declares against the tensors it holds before allocating a single array.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict

import numpy as np

from ..autodiff import Tensor
from ..backend import get_default_dtype
from ..backend.checks import is_real
from ..nn import layers as L
from ..nn.embedding import Embedding
from ..nn.functional import GELU_APPROXIMATIONS
from ..nn.kan import KAN, KANLinear
from ..nn.module import Module, Sequential
from ..nn.normalization import BatchNorm1d, LayerNorm
from .dtypes import DTYPE_NAMES


class ArchitectureError(ValueError):
    """The model cannot be described as (or rebuilt from) a JSON architecture."""


_SIMPLE = {cls.__name__: cls for cls in (L.Identity, L.Step, L.Sigmoid, L.Tanh, L.ReLU, L.Abs, L.SiLU)}
# activations with options: each option a finite number, or one of a layer's named choices
_OPTIONED = {cls.__name__: cls for cls in (L.GELU, L.ELU, L.Softplus)}
MAX_DEPTH = 32  # nested Sequentials in one description
MAX_FEATURES = 2**31
# Each described type and the keys its description holds besides "type" and "buffers" (what _layer_spec writes):
# a loader refuses any other key, as a file it would half-understand.
LAYER_KEYS: dict[str, tuple[str, ...]] = {
    "Sequential": ("layers", "names"),
    "Linear": ("in_features", "out_features", "bias"),
    "KANLinear": ("in_features", "out_features", "grid_size", "spline_order", "grid_range"),
    "KAN": ("sizes", "grid_size", "spline_order", "grid_range"),
    "Dropout": ("p",),
    "LeakyReLU": ("negative_slope",),
    "PReLU": ("num_parameters",),
    "Softmax": ("axis",),
    "LogSoftmax": ("axis",),
    "BatchNorm1d": ("num_features", "eps", "momentum", "affine", "track_running_stats", "bias"),
    "LayerNorm": ("normalized_shape", "eps", "elementwise_affine", "bias"),
    "Flatten": ("start_dim", "end_dim"),
    "Unflatten": ("dim", "unflattened_size"),
    "Embedding": ("num_embeddings", "embedding_dim", "padding_idx", "max_norm", "norm_type", "scale_grad_by_freq", "sparse"),
    **{name: () for name in _SIMPLE},
    **{name: cls.options for name, cls in _OPTIONED.items()},
}


def _kan_grid(m: KANLinear) -> dict:
    return {"grid_size": m.grid_size, "spline_order": m.spline_order, "grid_range": [float(v) for v in m.grid_range]}


# the exact classes described (MLP and KAN compute what the Sequential of their layers computes)
_SEQUENTIALS = (Sequential, L.MLP, KAN)
_DESCRIBED = (*_SEQUENTIALS, L.Linear, KANLinear, L.Dropout, L.LeakyReLU, L.PReLU, L.Softmax, L.LogSoftmax,
              BatchNorm1d, LayerNorm, L.Flatten, L.Unflatten, Embedding, *_SIMPLE.values(), *_OPTIONED.values())  # fmt: skip


def _described_type(m: Module) -> type:
    """``type(m)``, one of the classes this module describes; a user's subclass (its own ``forward``, its
    own state) is refused, since rebuilding its base class would compute something else."""
    cls = type(m)
    if cls in _DESCRIBED:
        return cls
    base = next((b for b in cls.__mro__ if b in _DESCRIBED), None)
    if base is not None:
        raise ArchitectureError(
            f"cannot describe {cls.__qualname__} as JSON: it subclasses {base.__name__}, and rebuilding a "
            f"{base.__name__} would not run its code; save it anyway and load with io.load(path, "
            f"model={cls.__name__}(...)), or keep model.state_dict() and rebuild the class yourself"
        )
    raise ArchitectureError(
        f"cannot describe a {cls.__name__} as JSON; save it anyway and load with io.load(path, model=YourModel(...))"
    )


def _one_kan(m: KAN) -> bool:
    """Every layer a KANLinear on one grid, each feeding the next, none holding a buffer: ``KAN(sizes, …)``
    describes it."""
    ks = list(m)
    return (all(type(k) is KANLinear and next(k.buffers(), None) is None for k in ks)
            and all(_kan_grid(k) == _kan_grid(ks[0]) for k in ks)
            and all(a.out_features == b.in_features for a, b in zip(ks, ks[1:])))  # fmt: skip


def to_spec(m: Module) -> dict:
    """A JSON-able description of ``m``: nablagrad's own classes only (see :func:`_described_type`), each
    parameter and buffer in one place (a description cannot say that two places hold the same one; a shared
    parameter-free layer, one ReLU used twice, is described twice and computes the same)."""
    if not isinstance(m, Module):
        raise ArchitectureError(f"to_spec: expected an nn.Module, got {type(m).__name__}")
    tied = len(list(m.named_parameters(remove_duplicate=False))) != len(list(m.parameters()))
    if tied or len(list(m.named_buffers(remove_duplicate=False))) != len(list(m.buffers())):
        raise ArchitectureError(
            f"cannot describe this {type(m).__name__} as JSON: it uses one module or parameter in two places (tied "
            "weights), or one buffer, which a rebuilt model would untie; save it anyway and load with io.load(path, model=...)"
        )
    return _spec(m)


def _spec(m: Module) -> dict:
    spec = _layer_spec(m)
    made = {} if spec["type"] in ("Sequential", "KAN") else _layer_shapes(spec, 0)  # what the layer builds itself
    buffers = _buffer_spec(m, made)
    return {**spec, "buffers": buffers} if buffers else spec


def _buffer_spec(m: Module, made) -> dict:
    """``m``'s own buffers but those its layer makes itself (``made``: BatchNorm1d's running statistics): name →
    ``{"shape", "dtype"}``; a non-persistent buffer, whose values a file does not hold, is refused."""
    own = {k: b for k, b in m.named_buffers(recurse=False) if k not in made}
    lost = [k for k in own if k in m._non_persistent_buffers_set]
    if lost:
        raise ArchitectureError(
            f"cannot describe this {type(m).__name__} as JSON: its non-persistent buffers {lost} are not saved, so a "
            "rebuilt model would lack their values; save it anyway and load with io.load(path, model=...)"
        )
    return {k: {"shape": list(b.shape), "dtype": str(b.dtype)} for k, b in own.items()}


def _layer_spec(m: Module) -> dict:
    cls = _described_type(m)
    if cls is KAN and len(m) and _one_kan(m):
        return {"type": "KAN", "sizes": [m[0].in_features, *(k.out_features for k in m)], **_kan_grid(m[0])}
    if cls in _SEQUENTIALS:
        names = list(m._modules)
        named = {"names": names} if names != [str(i) for i in range(len(names))] else {}
        return {"type": "Sequential", "layers": [_spec(c) for c in m], **named}
    if cls is L.Linear:
        return {"type": "Linear", "in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None}
    if cls.__name__ in _SIMPLE:
        return {"type": cls.__name__}
    if cls is KANLinear:
        return {"type": "KANLinear", "in_features": m.in_features, "out_features": m.out_features, **_kan_grid(m)}
    if cls is L.Dropout:  # its random generator is not saved: a rebuilt one draws fresh masks
        return {"type": "Dropout", "p": m.p}
    if cls is L.LeakyReLU:
        return {"type": "LeakyReLU", "negative_slope": m.negative_slope}
    if cls.__name__ in _OPTIONED:
        return {"type": cls.__name__, **{k: getattr(m, k) for k in m.options}}
    if cls is L.PReLU:
        return {"type": "PReLU", "num_parameters": m.weight.shape[0]}
    if cls is BatchNorm1d:
        momentum = None if m.momentum is None else float(m.momentum)
        return {"type": "BatchNorm1d", "num_features": m.num_features, "eps": m.eps, "momentum": momentum,
                "affine": m.affine, "track_running_stats": m.track_running_stats, "bias": m.bias is not None}  # fmt: skip
    if cls is LayerNorm:
        return {"type": "LayerNorm", "normalized_shape": list(m.normalized_shape), "eps": m.eps,
                "elementwise_affine": m.elementwise_affine, "bias": m.bias is not None}  # fmt: skip
    if cls is L.Flatten:
        return {"type": "Flatten", "start_dim": m.start_dim, "end_dim": m.end_dim}
    if cls is L.Unflatten:
        return {"type": "Unflatten", "dim": m.dim, "unflattened_size": list(m.unflattened_size)}
    if cls is Embedding:
        max_norm = None if m.max_norm is None else float(m.max_norm)
        return {"type": "Embedding", "num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim,
                "padding_idx": m.padding_idx, "max_norm": max_norm, "norm_type": m.norm_type,
                "scale_grad_by_freq": m.scale_grad_by_freq, "sparse": m.sparse}  # fmt: skip
    return {"type": cls.__name__, "axis": m.axis}  # Softmax or LogSoftmax


def _kind(spec, depth: int) -> str:
    if depth > MAX_DEPTH:
        raise ArchitectureError(f"the architecture nests more than {MAX_DEPTH} Sequentials")
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ArchitectureError(f"malformed architecture entry {str(spec)[:80]!r}: expected a dict with a 'type'")
    kind = spec["type"]
    if kind not in LAYER_KEYS:
        raise ArchitectureError(f"unknown layer type {kind!r} in the architecture")
    accepted = ("type", *LAYER_KEYS[kind], "buffers")
    unknown = sorted(str(k) for k in spec if k not in accepted)
    if unknown:
        raise ArchitectureError(
            f"unsupported architecture entry {str(spec)[:80]!r}: unknown key(s) {unknown}; a {kind} entry holds only "
            f"{list(accepted)} (a file from another program or a newer nablagrad, or corrupted)"
        )
    return kind


def _field(spec: dict, key: str, kind: type, lo=None, default=None):
    """``spec[key]`` checked to be a ``kind`` (int, float or bool) at least ``lo``."""
    v = spec.get(key, default)
    ok = isinstance(v, bool) if kind is bool else isinstance(v, numbers.Integral if kind is int else numbers.Real)
    ok = ok and (kind is bool or not isinstance(v, bool)) and (lo is None or lo <= v <= MAX_FEATURES)
    if not ok:
        raise ArchitectureError(f"{spec['type']}: {key} must be {'an integer' if kind is int else kind.__name__}"
                                f"{f' in {lo}..{MAX_FEATURES}' if lo is not None else ''}, got {v!r}")  # fmt: skip
    return kind(v)


def _finite(spec: dict, key: str) -> float:
    """``spec[key]``, a finite number (a layer refuses NaN/inf; a JSON integer may not fit a float)."""
    try:
        f = _field(spec, key, float)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise ArchitectureError(f"{spec['type']}: {key} must be a finite number, got {str(spec.get(key))[:40]}")
    return f


def _grid_range(spec: dict) -> tuple[float, float]:
    r = spec.get("grid_range", [-1.0, 1.0])
    ok = isinstance(r, list | tuple) and len(r) == 2 and all(is_real(v) for v in r)
    try:
        lo, hi = (float(v) for v in r) if ok else (math.nan, math.nan)
    except OverflowError:  # an integer beyond float's range
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ArchitectureError(f"{spec['type']}: grid_range must be two finite increasing numbers, got {str(r)[:80]}")
    return lo, hi


def _kan_fields(spec: dict) -> dict:
    """``grid_size``, ``spline_order`` and ``grid_range`` of a KAN or KANLinear description, checked."""
    return {
        "grid_size": _field(spec, "grid_size", int, 1, default=5),
        "spline_order": _field(spec, "spline_order", int, 0, default=3),
        "grid_range": _grid_range(spec),
    }


def _kan_sizes(spec: dict) -> list[int]:
    sizes = spec.get("sizes")
    ok = isinstance(sizes, list) and len(sizes) >= 2
    if not (ok and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_FEATURES for v in sizes)):
        raise ArchitectureError(f"KAN: sizes must be a list of at least two positive integers, got {str(sizes)[:80]}")
    return sizes


def _layers(spec: dict) -> list:
    layers = spec.get("layers", [])
    if not isinstance(layers, list):
        raise ArchitectureError(f"Sequential: layers must be a list, got {type(layers).__name__}")
    return layers


def _names(spec: dict) -> list[str]:
    """A Sequential's children's names: ``names`` (one per layer, distinct, non-empty, without '.'), or
    ``"0", "1", …``."""
    n = len(_layers(spec))
    names = spec.get("names", [str(i) for i in range(n)])
    ok = isinstance(names, list) and len(names) == n and len(set(names)) == n
    if not (ok and all(isinstance(k, str) and k and "." not in k and len(k) <= 256 for k in names)):
        raise ArchitectureError(f"Sequential: names must list {n} distinct non-empty names without '.', one per layer, "
                                f"got {str(names)[:80]}")  # fmt: skip
    return names


def _momentum(spec: dict) -> float | None:
    """BatchNorm1d's ``momentum``: a number in [0, 1], or None (the cumulative average)."""
    if spec.get("momentum") is None:
        return None
    m = _finite(spec, "momentum")
    if not 0 <= m <= 1:
        raise ArchitectureError(f"BatchNorm1d: momentum must lie in [0, 1] or be null, got {m!r}")
    return m


def _normalized_shape(spec: dict) -> tuple[int, ...]:
    shape = spec.get("normalized_shape")
    ok = isinstance(shape, list) and 1 <= len(shape) <= 32
    if not (ok and all(type(v) is int and 1 <= v <= MAX_FEATURES for v in shape)):
        raise ArchitectureError(f"LayerNorm: normalized_shape must be a list of 1 to 32 sizes in 1..{MAX_FEATURES}, "
                                f"got {str(shape)[:80]}")  # fmt: skip
    return tuple(shape)


def _norm_options(spec: dict) -> dict:
    """The keyword arguments of the BatchNorm1d or LayerNorm that ``spec`` describes, checked."""
    eps = _finite(spec, "eps")
    if eps < 0:
        raise ArchitectureError(f"{spec['type']}: eps must be >= 0, got {eps!r}")
    if spec["type"] == "LayerNorm":
        return {"normalized_shape": _normalized_shape(spec), "eps": eps,
                "elementwise_affine": _field(spec, "elementwise_affine", bool, default=True),
                "bias": _field(spec, "bias", bool, default=True)}  # fmt: skip
    return {"num_features": _field(spec, "num_features", int, 1), "eps": eps, "momentum": _momentum(spec),
            "affine": _field(spec, "affine", bool, default=True),
            "track_running_stats": _field(spec, "track_running_stats", bool, default=True),
            "bias": _field(spec, "bias", bool, default=True)}  # fmt: skip


def _norm_shapes(spec: dict) -> dict[str, tuple[int, ...]]:
    """The state of a BatchNorm1d or LayerNorm: γ, β, then BatchNorm1d's running statistics (its buffers)."""
    o = _norm_options(spec)
    affine, shape = (o["affine"], (o["num_features"],)) if "affine" in o else (o["elementwise_affine"], o["normalized_shape"])
    out = {"weight": shape, **({"bias": shape} if o["bias"] else {})} if affine else {}
    if o.get("track_running_stats"):
        out.update(running_mean=shape, running_var=shape, num_batches_tracked=())
    return out


def parameter_shapes(spec, depth: int = 0) -> dict[str, tuple[int, ...]]:
    """Name → shape of every entry of the state dict (parameters and buffers) the module described by ``spec``
    would have, in its order (nothing is built)."""
    own = _layer_shapes(spec, depth)
    buffers = {k: shape for k, (shape, _) in _buffer_fields(spec, own).items()}
    local = [k for k in own if "." not in k]  # (a Sequential's children's entries after its own, as state_dict)
    return {**{k: own[k] for k in local}, **buffers, **{k: s for k, s in own.items() if "." in k}}


def _buffer_fields(spec: dict, own: dict) -> dict[str, tuple[tuple[int, ...], str]]:
    """The described buffers, name → (shape, dtype), checked: a name that is no parameter's nor layer's, a shape
    of at most 32 sizes, a dtype of :data:`DTYPE_NAMES` (``own``: the layer's other entries)."""
    buffers = spec.get("buffers", {})
    if not isinstance(buffers, dict):
        raise ArchitectureError(f"{spec['type']}: buffers must be an object name -> {{shape, dtype}}")
    children = _names(spec) if spec["type"] == "Sequential" else range(len(_kan_sizes(spec)) - 1) if spec["type"] == "KAN" else ()
    taken = {k.split(".", 1)[0] for k in own} | {str(c) for c in children}
    out = {}
    for name, b in buffers.items():
        if not name or "." in name or name in taken:
            raise ArchitectureError(f"{spec['type']}: buffer name {name[:40]!r} is empty, holds a '.', or names a "
                                    "parameter or layer")  # fmt: skip
        shape, dtype = (b.get("shape"), b.get("dtype")) if isinstance(b, dict) else (None, None)
        ok = isinstance(shape, list) and len(shape) <= 32
        if not (ok and all(type(v) is int and 0 <= v <= MAX_FEATURES for v in shape) and dtype in DTYPE_NAMES):
            raise ArchitectureError(f"{spec['type']}: buffer {name[:40]!r} must be {{shape: up to 32 sizes in "
                                    f"0..{MAX_FEATURES}, dtype: one of {DTYPE_NAMES}}}, got {str(b)[:80]}")  # fmt: skip
        out[name] = (tuple(shape), dtype)
    return out


def _layer_shapes(spec, depth: int) -> dict[str, tuple[int, ...]]:
    """Name → shape of every parameter (and, in a Sequential, every child's entry) of ``spec``'s layer."""
    kind = _kind(spec, depth)
    if kind == "Sequential":
        return {f"{name}.{k}": s for name, sub in zip(_names(spec), _layers(spec))
                for k, s in parameter_shapes(sub, depth + 1).items()}  # fmt: skip
    if kind == "Linear":
        n_in, n_out = _field(spec, "in_features", int, 1), _field(spec, "out_features", int, 1)
        bias = _field(spec, "bias", bool, default=True)
        return {"weight": (n_in, n_out), **({"bias": (n_out,)} if bias else {})}
    if kind == "KANLinear":
        n_in, n_out, g = _field(spec, "in_features", int, 1), _field(spec, "out_features", int, 1), _kan_fields(spec)
        return {"base_weight": (n_in, n_out), "spline_weight": (n_in, g["grid_size"] + g["spline_order"], n_out)}
    if kind == "KAN":
        sizes, g = _kan_sizes(spec), _kan_fields(spec)
        layers = [{"type": "KANLinear", "in_features": a, "out_features": b, **g} for a, b in zip(sizes, sizes[1:])]
        return {f"{i}.{k}": s for i, sub in enumerate(layers) for k, s in _layer_shapes(sub, depth).items()}
    if kind == "PReLU":
        return {"weight": (_field(spec, "num_parameters", int, 1),)}
    if kind in ("BatchNorm1d", "LayerNorm"):
        return _norm_shapes(spec)
    if kind == "Embedding":
        o = _embedding_options(spec)
        return {"weight": (o["num_embeddings"], o["embedding_dim"])}
    if kind == "Dropout":
        p = _finite(spec, "p")
        if not 0 <= p <= 1:
            raise ArchitectureError(f"Dropout: p must lie in [0, 1], got {p!r}")
    if kind == "LeakyReLU":
        _finite(spec, "negative_slope")
    if kind in _OPTIONED:
        _options(spec)
    if kind in ("Flatten", "Unflatten"):
        _reshape_options(spec)
    return {}


def _embedding_options(spec: dict) -> dict:
    """An ``Embedding``'s sizes and options, each checked (``padding_idx`` a row or None, ``max_norm`` > 0 or None)."""
    o = {"num_embeddings": _field(spec, "num_embeddings", int, 0), "embedding_dim": _field(spec, "embedding_dim", int, 0),
         "norm_type": _finite(spec, "norm_type"), "scale_grad_by_freq": _field(spec, "scale_grad_by_freq", bool),
         "sparse": _field(spec, "sparse", bool)}  # fmt: skip
    pad, max_norm = spec.get("padding_idx"), spec.get("max_norm")
    if pad is not None and (type(pad) is not int or not 0 <= pad < o["num_embeddings"]):
        raise ArchitectureError(f"Embedding: padding_idx must be a row in 0..{o['num_embeddings'] - 1} or null, "
                                f"got {str(pad)[:40]}")  # fmt: skip
    if max_norm is not None and (not isinstance(max_norm, numbers.Real) or isinstance(max_norm, bool)
                                 or not 0 < max_norm < math.inf):  # fmt: skip
        raise ArchitectureError(f"Embedding: max_norm must be a finite number > 0 or null, got {str(max_norm)[:40]}")
    return {**o, "padding_idx": pad, "max_norm": None if max_norm is None else float(max_norm)}


def _reshape_options(spec: dict) -> dict:
    """A ``Flatten``'s axes or an ``Unflatten``'s axis and sizes (at most 32, each in 1..2**31 or −1), checked."""
    axes = ("start_dim", "end_dim") if spec["type"] == "Flatten" else ("dim",)
    out = {k: _field(spec, k, int, default=-1 if k == "end_dim" else 1) for k in axes}
    for k, v in out.items():
        if not -MAX_DEPTH <= v <= MAX_DEPTH:
            raise ArchitectureError(f"{spec['type']}: {k} must be an axis in -{MAX_DEPTH}..{MAX_DEPTH}, got {v}")
    if spec["type"] == "Unflatten":
        sizes = spec.get("unflattened_size")
        size_ok = lambda k: isinstance(k, int) and not isinstance(k, bool) and (1 <= k <= MAX_FEATURES or k == -1)  # noqa: E731
        if not (isinstance(sizes, list) and 1 <= len(sizes) <= 32 and all(size_ok(k) for k in sizes)):
            raise ArchitectureError(f"Unflatten: unflattened_size must be a list of 1 to 32 sizes in 1..{MAX_FEATURES} "
                                    f"(at most one -1), got {str(sizes)[:80]}")  # fmt: skip
        out["unflattened_size"] = tuple(sizes)
    return out


def _options(spec: dict) -> dict:
    """An optioned activation's options from its description: GELU's ``approximate`` one of its choices, every
    other option a finite number (what the layer's constructor takes)."""
    cls = _OPTIONED[spec["type"]]
    out = {}
    for key in cls.options:
        if key == "approximate":
            v = spec.get(key)
            if v not in GELU_APPROXIMATIONS:
                raise ArchitectureError(f"GELU: approximate must be one of {GELU_APPROXIMATIONS}, got {str(v)[:40]!r}")
            out[key] = v
        else:
            out[key] = _finite(spec, key)
    return out


def from_spec(spec: dict, dtype=None, depth: int = 0) -> Module:
    """Rebuild a module from :func:`to_spec` output (unknown types and malformed fields are refused); its
    buffers are zeros of their shapes and dtypes, and a ``Linear``'s or KAN's weights are left as allocated, not drawn
    (a file's values are loaded into them: building takes no more memory than the weights)."""
    m = _build(spec, dtype, depth)
    for name, b in _buffer_fields(spec, _layer_shapes(spec, depth)).items():
        try:
            m.register_buffer(name, Tensor(np.zeros(*b)))
        except KeyError:  # an attribute of the layer (``forward``, ``in_features``)
            raise ArchitectureError(f"{spec['type']}: buffer name {name[:40]!r} is an attribute of the layer") from None
    return m


def _unset(weight) -> None:
    """A ``Linear``'s or ``KANLinear``'s ``init`` that leaves the weights as allocated: a loader fills them from
    the file (a random draw would first take several times their memory, through float64)."""


def _build(spec: dict, dtype, depth: int) -> Module:
    """The layer ``spec`` describes, without its buffers."""
    kind = _kind(spec, depth)
    if kind == "Sequential":
        layers = OrderedDict((k, from_spec(s, dtype, depth + 1)) for k, s in zip(_names(spec), _layers(spec)))
        try:
            return Sequential(layers)
        except KeyError as exc:  # a name that is an attribute of a Sequential ("forward", "training")
            raise ArchitectureError(f"Sequential: {exc.args[0]}") from None
    if kind == "Linear":
        shapes = parameter_shapes(spec, depth)
        layer = L.Linear(*shapes["weight"], bias="bias" in shapes, init=_unset, dtype=dtype)
        layer._init = None  # built without a draw; from now on reset_parameters() draws as a Linear built by hand
        return layer
    if kind in ("BatchNorm1d", "LayerNorm"):
        return (BatchNorm1d if kind == "BatchNorm1d" else LayerNorm)(**_norm_options(spec), dtype=dtype)
    if kind == "KANLinear":
        parameter_shapes(spec, depth)
        return KANLinear(spec["in_features"], spec["out_features"], **_kan_fields(spec), dtype=dtype, init=_unset)
    if kind == "KAN":
        parameter_shapes(spec, depth)
        return KAN(_kan_sizes(spec), **_kan_fields(spec), dtype=dtype, init=_unset)
    if kind == "Dropout":
        parameter_shapes(spec, depth)
        return L.Dropout(_field(spec, "p", float))
    if kind == "Embedding":  # the table as zeros, not drawn (the file's values fill it)
        o = _embedding_options(spec)
        table = np.zeros((o["num_embeddings"], o["embedding_dim"]), np.dtype(dtype) if dtype is not None else get_default_dtype())
        return Embedding(**o, _weight=table)
    if kind in _SIMPLE:
        return _SIMPLE[kind]()
    if kind in ("Flatten", "Unflatten"):
        return (L.Flatten if kind == "Flatten" else L.Unflatten)(**_reshape_options(spec))
    if kind == "LeakyReLU":
        return L.LeakyReLU(_finite(spec, "negative_slope"))
    if kind in _OPTIONED:
        try:
            return _OPTIONED[kind](**_options(spec))
        except (TypeError, ValueError) as exc:  # a value the layer refuses (softplus's beta = 0)
            raise ArchitectureError(f"{kind}: {exc}") from None
    if kind == "PReLU":
        return L.PReLU(_field(spec, "num_parameters", int, 1), dtype=dtype)
    return (L.Softmax if kind == "Softmax" else L.LogSoftmax)(_field(spec, "axis", int))
