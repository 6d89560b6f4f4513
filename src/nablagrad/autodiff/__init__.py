"""Automatic differentiation: tensors, primitives with VJP and JVP rules, the tape walk and
the function transforms (lecture 000: forward and reverse mode; lecture 002: backpropagation)."""

from .backward import GraphFreedError, grad_of
from .checkpoint import checkpoint, tape_nbytes
from .creation import arange, eye, full, linspace, ones, ones_like, rand, randint, randn, zeros, zeros_like
from .explain import Explanation, explain
from .gradcheck import GradcheckError, gradcheck, numeric_jacobian
from .jit import JitError, jit
from .mode import enable_grad, is_grad_enabled, no_grad
from .ops import (
    abs,
    astype,
    broadcast_to,
    clip,
    concatenate,
    cos,
    exp,
    expand_dims,
    getitem,
    identity,
    index_update,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    power,
    relu,
    reshape,
    sigmoid,
    sign,
    sin,
    softmax,
    sqrt,
    squeeze,
    stack,
    std,
    sum,
    sum_to,
    swapaxes,
    tanh,
    transpose,
    var,
    where,
)
from .primitive import Primitive
from .pytree import tree_flatten, tree_map, tree_unflatten
from .tensor import Tensor, apply, as_tensor, tensor
from .transforms import grad, hessian, jacfwd, jacrev, jvp, value_and_grad, vjp

__all__ = [name for name in dir() if not name.startswith("_")]
