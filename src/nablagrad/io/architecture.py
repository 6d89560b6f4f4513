"""Architectures as plain JSON — rebuilt from a whitelist of layer types, never by running code."""

from __future__ import annotations

from ..nn import layers as L
from ..nn.module import Module, Sequential


class ArchitectureError(ValueError):
    """The model cannot be described as (or rebuilt from) a JSON architecture."""


_SIMPLE = {cls.__name__: cls for cls in (L.Identity, L.Step, L.Sigmoid, L.Tanh, L.ReLU, L.Abs)}


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


def from_spec(spec: dict, dtype=None) -> Module:
    """Rebuild a module from :func:`to_spec` output (unknown types are refused)."""
    if not isinstance(spec, dict) or "type" not in spec:
        raise ArchitectureError(f"malformed architecture entry {spec!r}")
    kind = spec["type"]
    if kind == "Sequential":
        return Sequential(*(from_spec(s, dtype) for s in spec.get("layers", [])))
    if kind == "Linear":
        return L.Linear(int(spec["in_features"]), int(spec["out_features"]), bias=bool(spec.get("bias", True)), dtype=dtype)
    if kind in _SIMPLE:
        return _SIMPLE[kind]()
    if kind == "LeakyReLU":
        return L.LeakyReLU(float(spec["negative_slope"]))
    if kind == "PReLU":
        return L.PReLU(int(spec["num_parameters"]), dtype=dtype)
    if kind == "Softmax":
        return L.Softmax(int(spec["axis"]))
    if kind == "LogSoftmax":
        return L.LogSoftmax(int(spec["axis"]))
    raise ArchitectureError(f"unknown layer type {kind!r} in the architecture")
