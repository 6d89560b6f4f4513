"""Automatic differentiation: tensors, primitives with VJP and JVP rules, the tape walk and
the function transforms (lecture 000: forward and reverse mode; lecture 002: backpropagation)."""

from types import ModuleType as _ModuleType

from .api import *  # noqa: F403 - every op of the rule table, generated (see api.py)
from .backward import GraphFreedError, grad_of
from .checkpoint import checkpoint, tape_nbytes
from .creation import (
    arange,
    empty_like,
    eye,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from .explain import Explanation, explain
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck, numeric_jacobian
from .jit import JitError, jit
from .ops import *  # noqa: F403 - the ops written by hand (reshape, where, clip …)
from .primitive import Primitive
from .pytree import tree_flatten, tree_map, tree_unflatten
from .tensor import Tensor, apply, as_tensor, guard, tensor
from .torch_names import *  # noqa: F403 - PyTorch's names for computations the ops above already do
from .transforms import grad, hessian, jacfwd, jacrev, jvp, value_and_grad, vjp, vmap

# PyTorch's dtype names, as the strings ng.float32 / ng.float64 are (x.dtype == ng.int64, dtype=ng.long); not
# bool / int / float, which `from nablagrad import *` would turn from Python's builtins into strings
int8, int16, int32, int64, uint8 = "int8", "int16", "int32", "int64", "uint8"
float16, complex64, complex128 = "float16", "complex64", "complex128"
half, double, short, long = "float16", "float64", "int16", "int64"

# the public names: every function and class above, and ng.linalg; not the engine's own modules
# (api, ops, rules_*, mode ...), which the star imports bring into this namespace as a side effect
__all__ = [n for n, v in globals().items() if not n.startswith("_") and (n == "linalg" or not isinstance(v, _ModuleType))]
