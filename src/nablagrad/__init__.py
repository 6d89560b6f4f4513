"""nablagrad — the deep-learning lectures as fast, readable software.

``import nablagrad as ng`` gives tensors with reverse- and forward-mode automatic
differentiation; ``ng.nn``, ``ng.optim``, ``ng.train``, ``ng.data``, ``ng.io`` and ``ng.ml``
build on them.
"""

from . import autodiff, backend
from .autodiff import *  # noqa: F403 - the tensor API lives at the top level, like torch
from .autodiff import __all__ as _autodiff_all
from .backend import Device, device, get_default_device, get_default_dtype, manual_seed, set_default_device, set_default_dtype

float32 = "float32"
float64 = "float64"

__version__ = "0.1.0"
__all__ = [
    *_autodiff_all,
    "autodiff",
    "backend",
    "Device",
    "device",
    "get_default_device",
    "get_default_dtype",
    "manual_seed",
    "set_default_device",
    "set_default_dtype",
]


_BUILTIN_NAMED_DTYPES = {"float": "float32", "int": "int32", "bool": "bool"}  # torch.float, torch.int, torch.bool


def __getattr__(name: str):
    # sub-packages load on first use, so `import nablagrad` stays light
    import importlib  # noqa: PLC0415

    if name in {"nn", "optim", "data", "io", "distributed", "train", "ml", "viz", "cli", "playground"}:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _BUILTIN_NAMED_DTYPES:  # ng.float, ng.int, ng.bool as torch.float …: looked up here, so that neither
        return _BUILTIN_NAMED_DTYPES[name]  # this module nor a star import shadows Python's float, int and bool
    raise AttributeError(f"module 'nablagrad' has no attribute {name!r}")
