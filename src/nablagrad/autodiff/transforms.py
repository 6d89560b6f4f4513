"""Function transforms in JAX's style: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacfwd``,
``jacrev``, ``hessian``.

* ``jvp`` is genuine forward mode (tangents pushed through each primitive's JVP rule);
* ``vjp``/``grad``/``jacrev`` are reverse mode (the tape walk);
* ``hessian`` is forward-over-reverse: ``jacfwd(grad(f))`` — the backward pass of ``grad`` is
  recorded with Tensors, so forward-mode tangents flow through it too.

Inputs may be Tensors, NumPy arrays or Python numbers; results are Tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps

import numpy as np

from .backward import grad_of
from .forward import forward_mode
from .ops import identity, stack
from .tensor import Tensor, _wrap, tensor


def _lift(x) -> tuple[Tensor, bool]:
    """A tensor to differentiate with respect to, and whether an outer transform traces it.

    A tensor already on an outer tape is passed through an identity op, so the outer
    derivative still flows; the inner backward then records its own graph (``create_graph``).
    """
    if isinstance(x, Tensor):
        if x.requires_grad:
            return identity(x), True
        lifted = _wrap(x.data).requires_grad_(True)
        lifted._tangent = x._tangent
        return lifted, x._tangent is not None
    t = tensor(x)
    return t.requires_grad_(True), False


def _argnums(argnums) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, int):
        return (argnums,), True
    return tuple(argnums), False


def _check_scalar(out, who: str) -> Tensor:
    if not isinstance(out, Tensor):
        out = tensor(out)
    if out.size != 1:
        raise TypeError(f"{who}: f must return a scalar (one element), got shape {out.shape}; use jacrev or vjp")
    return out


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """``(f(x), ∇f(x))`` from one forward and one reverse pass."""
    nums, single = _argnums(argnums)

    @wraps(f)
    def wrapped(*args, **kwargs):
        args = list(args)
        lifted, traced = [], False
        for i in nums:
            if i >= len(args):
                raise TypeError(f"grad: argnums={argnums} but f was called with {len(args)} positional arguments")
            args[i], outer = _lift(args[i])
            lifted.append(args[i])
            traced = traced or outer
        out = f(*args, **kwargs)
        aux = None
        if has_aux:
            out, aux = out
        out = _check_scalar(out, "grad")
        if out.requires_grad:
            grads = grad_of(out, lifted, create_graph=traced)
        else:
            grads = [_wrap(np.zeros_like(t.data)) for t in lifted]
        g = grads[0] if single else tuple(grads)
        value = out if traced else out.detach()
        return ((value, aux), g) if has_aux else (value, g)

    return wrapped


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """``∇f``: a function returning the gradient of scalar ``f`` w.r.t. the ``argnums`` arguments."""
    vg = value_and_grad(f, argnums, has_aux)

    @wraps(f)
    def wrapped(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapped


def vjp(f: Callable, *primals):
    """``(f(x), v ↦ vᵀ ∂f/∂x)``: one forward pass, then any number of reverse passes."""
    lifted, traced = [], False
    for p in primals:
        t, outer = _lift(p)
        lifted.append(t)
        traced = traced or outer
    out = f(*lifted)

    def vjp_fn(cotangent):
        if not out.requires_grad:
            return tuple(_wrap(np.zeros_like(t.data)) for t in lifted)
        return tuple(grad_of(out, lifted, grad=cotangent, retain_graph=True, create_graph=traced))

    return (out if traced else out.detach()), vjp_fn


def jvp(f: Callable, primals: Sequence, tangents: Sequence):
    """``(f(x), ∂f/∂x · v)`` by forward-mode propagation of the tangent ``v``."""
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    with forward_mode():
        xs = []
        for p, v in zip(primals, tangents):
            x = p if isinstance(p, Tensor) else tensor(p)
            dual = identity(x) if x.requires_grad else _wrap(x.data)
            v = np.asarray(v.data if isinstance(v, Tensor) else v, dtype=x.dtype)
            if v.shape != x.shape:
                raise ValueError(f"jvp: tangent shape {v.shape} does not match primal shape {x.shape}")
            dual._tangent = v
            xs.append(dual)
        out = f(*xs)
        if not isinstance(out, Tensor):
            out = tensor(out)
        t = out._tangent
        tangent = _wrap(np.zeros_like(out.data) if t is None else np.asarray(t))
        out._tangent = None
    return out, tangent


def _one_arg(f: Callable, args: tuple, argnum: int) -> tuple[Callable, object]:
    def g(x):
        a = list(args)
        a[argnum] = x
        return f(*a)

    return g, args[argnum]


def jacfwd(f: Callable, argnums: int = 0) -> Callable:
    """Jacobian by forward mode: one JVP per input coordinate; shape ``out.shape + x.shape``."""

    @wraps(f)
    def wrapped(*args):
        g, x = _one_arg(f, args, argnums)
        x = x if isinstance(x, Tensor) else tensor(x)
        columns = []
        for i in range(x.size):
            e = np.zeros(x.size, dtype=x.dtype)
            e[i] = 1
            out, t = jvp(g, (x,), (e.reshape(x.shape),))
            columns.append(t)
        jac = stack(columns, axis=-1)
        return jac.reshape(out.shape + x.shape)

    return wrapped


def jacrev(f: Callable, argnums: int = 0) -> Callable:
    """Jacobian by reverse mode: one backward pass per output coordinate; ``out.shape + x.shape``."""

    @wraps(f)
    def wrapped(*args):
        g, x = _one_arg(f, args, argnums)
        xl, traced = _lift(x)
        out = g(xl)
        if not isinstance(out, Tensor):
            out = tensor(out)
        rows = []
        for j in range(out.size):
            e = np.zeros(out.size, dtype=out.dtype)
            e[j] = 1
            if out.requires_grad:
                (r,) = grad_of(out, [xl], grad=e.reshape(out.shape), retain_graph=True, create_graph=traced)
            else:
                r = _wrap(np.zeros_like(xl.data))
            rows.append(r)
        return stack(rows, axis=0).reshape(out.shape + xl.shape)

    return wrapped


def hessian(f: Callable, argnums: int = 0) -> Callable:
    """``∂²f/∂x²`` of a scalar ``f``, forward-over-reverse: ``jacfwd(grad(f))``."""
    return jacfwd(grad(f, argnums), argnums)
