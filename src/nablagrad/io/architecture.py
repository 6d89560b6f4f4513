"""Architectures as plain JSON — rebuilt from a whitelist of layer types, never by running code.

:func:`parameter_shapes` reads a description without building anything, so a loader can check
what a file declares against the tensors it holds before allocating a single array.
"""

from __future__ import annotations

import numbers

from ..nn import layers as L
from ..nn.module import Module, Sequential


class ArchitectureError(ValueError):
    """The model cannot be described as (or rebuilt from) a JSON architecture."""


_SIMPLE = {cls.__name__: cls for cls in (L.Identity, L.Step, L.Sigmoid, L.Tanh, L.ReLU, L.Abs)}
MAX_DEPTH = 32  # nested Sequentials in one description
MAX_FEATURES = 2**31


def to_spec(m: Module) -> dict:
    """A JSON-able description of ``m``."""
    if isinstance(m, Sequential):
        return {"type": "Sequential", "layers": [to_spec(c) for c in m]}
    if isinstance(m, L.Linear):
        return {"type": "Linear", "in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None}
    if type(m).__name__ in _SIMPLE and type(m) is _SIMPLE[type(m).__name__]:
        return {"type": type(m).__name__}
    if isinstance(m, L.LeakyReLU):
        return {"type": "LeakyReLU", "negative_slope": m.negative_slope}
    if isinstance(m, L.PReLU):
        return {"type": "PReLU", "num_parameters": m.alpha.shape[0]}
    if isinstance(m, L.LogSoftmax):
        return {"type": "LogSoftmax", "axis": m.axis}
    if isinstance(m, L.Softmax):
        return {"type": "Softmax", "axis": m.axis}
    raise ArchitectureError(
        f"cannot describe a {type(m).__name__} as JSON; save it anyway and load with io.load(path, model=YourModel(...))"
    )


def _kind(spec, depth: int) -> str:
    if depth > MAX_DEPTH:
        raise ArchitectureError(f"the architecture nests more than {MAX_DEPTH} Sequentials")
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise ArchitectureError(f"malformed architecture entry {str(spec)[:80]!r}: expected a dict with a 'type'")
    kind = spec["type"]
    if kind not in ("Sequential", "Linear", "LeakyReLU", "PReLU", "Softmax", "LogSoftmax", *_SIMPLE):
        raise ArchitectureError(f"unknown layer type {kind!r} in the architecture")
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


def _layers(spec: dict) -> list:
    layers = spec.get("layers", [])
    if not isinstance(layers, list):
        raise ArchitectureError(f"Sequential: layers must be a list, got {type(layers).__name__}")
    return layers


def parameter_shapes(spec, depth: int = 0) -> dict[str, tuple[int, ...]]:
    """Name → shape of every parameter the module described by ``spec`` would have (nothing is built)."""
    kind = _kind(spec, depth)
    if kind == "Sequential":
        return {f"{i}.{k}": s for i, sub in enumerate(_layers(spec)) for k, s in parameter_shapes(sub, depth + 1).items()}
    if kind == "Linear":
        n_in, n_out = _field(spec, "in_features", int, 1), _field(spec, "out_features", int, 1)
        bias = _field(spec, "bias", bool, default=True)
        return {"weight": (n_in, n_out), **({"bias": (n_out,)} if bias else {})}
    if kind == "PReLU":
        return {"alpha": (_field(spec, "num_parameters", int, 1),)}
    return {}


def from_spec(spec: dict, dtype=None, depth: int = 0) -> Module:
    """Rebuild a module from :func:`to_spec` output (unknown types and malformed fields are refused)."""
    kind = _kind(spec, depth)
    if kind == "Sequential":
        return Sequential(*(from_spec(s, dtype, depth + 1) for s in _layers(spec)))
    if kind == "Linear":
        shapes = parameter_shapes(spec, depth)
        return L.Linear(*shapes["weight"], bias="bias" in shapes, dtype=dtype)
    if kind in _SIMPLE:
        return _SIMPLE[kind]()
    if kind == "LeakyReLU":
        return L.LeakyReLU(_field(spec, "negative_slope", float))
    if kind == "PReLU":
        return L.PReLU(_field(spec, "num_parameters", int, 1), dtype=dtype)
    return (L.Softmax if kind == "Softmax" else L.LogSoftmax)(_field(spec, "axis", int))
