"""A module's backward hooks (PyTorch's ``register_full_backward_hook`` / ``register_full_backward_pre_hook``).

One call of a hooked module wires two gradient hooks into the tape, as PyTorch's ``BackwardHook`` does with its
identity function: the tensors among the positional arguments that require grad are packed into one node ``p_in``
(their identity, or one flat ``concatenate`` when there are several) which ``forward`` reads through views, and the
outputs likewise into ``p_out``.  The tape walk gives a tensor's hook its complete adjoint, so

* the hook on ``p_out`` sees every ``grad_output = ∂L/∂output`` at once: the pre-hooks run there and may replace them;
* the hook on ``p_in`` sees every ``grad_input = ∂L/∂input`` at once (after ``forward``'s VJPs):
  ``hook(module, grad_input, grad_output)`` runs there, and a tuple it returns replaces what flows on upstream.

``grad_input`` has one entry per positional argument: ``None`` for a non-tensor, zeros for a tensor that does not
require grad (PyTorch's values); all ``None`` when no argument requires grad, the hooks then running at the outputs.
``grad_output`` has ``None`` for an output no gradient reached.  A gradient replaced by ``None`` flows on as zeros.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable

import numpy as np

from ..autodiff import Tensor, concatenate, identity, is_grad_enabled, zeros

_INPLACE_MSG = (
    "{who}: an {what} of the module, seen through the backward hooks' identity (PyTorch's BackwardHookFunction), "
    "is a view and is being modified inplace; with backward hooks (register_full_backward_hook) a module's inputs "
    "and outputs must not be written in place, or the hooks would see the gradient of another value (PyTorch "
    "refuses it too). Fix: clone it first (y = module(x).clone()), use inplace=False in the module, or remove the "
    "backward hook"
)


class _Packed:
    """Tensors that require grad seen as one node ``node`` (their identity, or a flat concatenation) and the
    views of it that replace them; ``split``/``join`` go between the node's gradient and per-tensor ones.
    Only weak references to them are kept: the node's hook holds this object, and no cycle must keep the graph."""

    def __init__(self, tensors: list[Tensor]):
        self.shapes = [t.shape for t in tensors]
        self.dtypes = [t.dtype for t in tensors]
        self.devices = [t.device for t in tensors]
        if len(tensors) == 1:  # the common case: no copy
            node = identity(tensors[0])
            views = [node]
        else:  # (one dtype for the flat node: NumPy's promotion, each view cast back)
            self.dtype = np.result_type(*self.dtypes)
            node = concatenate([t.reshape(-1).astype(self.dtype) for t in tensors])
            self.bounds = np.cumsum([0, *(t.size for t in tensors)])
            views = [self._part(node, k) for k in range(len(tensors))]
        self.node, self.views = node, views  # (the caller's, until it has wired them: see release)
        self.refs = [weakref.ref(v) for v in (node, *views)]
        self.made = [v.grad_fn for v in (node, *views)]

    def release(self) -> None:
        """Drop the strong references once the caller holds the tensors (no cycle through the node's hook)."""
        self.node = self.views = None

    def _part(self, flat: Tensor, k: int) -> Tensor:
        return flat[int(self.bounds[k]) : int(self.bounds[k + 1])].reshape(self.shapes[k]).astype(self.dtypes[k])

    def split(self, g: Tensor) -> list[Tensor]:
        return [g] if len(self.shapes) == 1 else [self._part(g, k) for k in range(len(self.shapes))]

    def join(self, grads: list[Tensor | None]) -> Tensor:
        """One gradient for the node from per-tensor ones (``None``: zeros, on the tensor's device)."""
        grads = [zeros(shape, dtype=dtype, device=device) if g is None else g
                 for shape, dtype, device, g in zip(self.shapes, self.dtypes, self.devices, grads)]  # fmt: skip
        if len(grads) == 1:
            return grads[0]
        return concatenate([g.reshape(-1).astype(self.dtype) for g in grads])

    def written(self) -> bool:
        """Whether the node or a view was written in place since it was packed (its node replaced)."""
        return any(t is not None and t.grad_fn is not op for op, t in zip(self.made, (r() for r in self.refs)))


def _checked(who: str, what: str, new, old: tuple, like: list) -> tuple:
    """A hook's replacement gradients: a tuple (or list) of ``len(old)`` entries, each None or a Tensor of the
    shape and dtype of the value it replaces (PyTorch's checks)."""
    kind = "Backward pre hook" if what == "grad_output" else "Backward hook"
    if not isinstance(new, tuple | list):
        raise RuntimeError(f"{who}: {kind} must return None or a tuple of {len(old)} {what} (one per entry of the "
                           f"{what} it was given), got {type(new).__name__}; e.g. return ({what}[0] * 2,)")  # fmt: skip
    if len(new) != len(old):
        raise RuntimeError(f"{who}: {kind} returned an invalid number of {what}, got {len(new)}, but expected "
                           f"{len(old)}; return one entry (a Tensor or None) per entry it was given")  # fmt: skip
    for i, (g, ref) in enumerate(zip(new, like)):
        if g is None or ref is None:
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"{who}: {kind} returned {type(g).__name__} as {what}[{i}]; return a Tensor or None")
        if g.shape != ref.shape or g.dtype != ref.dtype:
            raise RuntimeError(f"{who}: {kind} has changed {what}[{i}] from shape {ref.shape} and dtype {ref.dtype} to "
                               f"shape {g.shape} and dtype {g.dtype} (PyTorch: 'has changed the size/type of value'); "
                               f"return a tensor of the same shape and dtype, e.g. {what}[{i}] * 2")  # fmt: skip
    return tuple(new)


def _named(fn: Callable, name: str) -> Callable:
    fn.__name__ = name  # what the tape walk names in its own errors about this hook
    return fn


class BackwardHook:
    """One call's backward hooks (the lists as they were at the call, as PyTorch's): :meth:`setup_input` before
    ``forward``, :meth:`setup_output` after the forward hooks."""

    def __init__(self, module, hooks: list[Callable], pre_hooks: list[Callable]):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.who = f"{type(module).__name__}"
        self.n_inputs, self.inputs, self.input_index = 0, None, None  # input_index None: no input requires grad
        self.n_outputs, self.outputs, self.output_index, self.arrived = 0, None, (), set()
        self.grad_outputs: tuple | None = None
        self.arg_like: list = []  # (shape, dtype, device) of each tensor argument (its grad_input: zeros if it needs none)

    # --- forward: wire the two nodes --------------------------------------------------------------------------------
    def setup_input(self, args: tuple) -> tuple:
        """``args`` with each tensor that requires grad replaced by its view of the input node."""
        self.n_inputs = len(args)
        self.arg_like = [(a.shape, a.dtype, a.device) if isinstance(a, Tensor) else None for a in args]
        index = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not (index and is_grad_enabled()):
            return args
        self.input_index, self.inputs = index, _Packed([args[i] for i in index])
        self.inputs.node.register_hook(_named(lambda g: self._input_hook(g), f"{self.who} full backward hook"))
        new = list(args)
        for i, view in zip(index, self.inputs.views):
            new[i] = view
        self.inputs.release()
        return tuple(new)

    def check_forward(self) -> None:
        """Refuse a ``forward`` that wrote into an input in place (PyTorch refuses it as it writes)."""
        if self.inputs is not None and self.inputs.written():
            raise RuntimeError(_INPLACE_MSG.format(who=self.who, what="input"))

    def setup_output(self, output):
        """``output`` (a Tensor or a tuple) with each tensor that requires grad replaced by its view of the output
        node; another kind of result gets no hook (PyTorch's warning says so)."""
        if not isinstance(output, Tensor | tuple):
            warnings.warn("For backward hooks to be called, module output should be a Tensor or a tuple of Tensors "
                          f"but received {type(output)}", UserWarning, stacklevel=3)  # fmt: skip
            return output
        items = output if isinstance(output, tuple) else (output,)
        self.n_outputs = len(items)
        index = [i for i, a in enumerate(items) if isinstance(a, Tensor) and a.requires_grad]
        if not (index and is_grad_enabled()):
            return output
        self.output_index, self.outputs = index, _Packed([items[i] for i in index])
        self.outputs.node.register_hook(_named(lambda g: self._output_hook(g), f"{self.who} full backward pre hook"))
        if len(index) > 1:  # which outputs a gradient reaches (the others' grad_output is None, as PyTorch's)
            arrived = self.arrived  # (not self: a view's hook must not hold the node, which holds this object)
            for k, view in enumerate(self.outputs.views):
                view.register_hook(_named(lambda g, k=k: arrived.add(k), f"{self.who} backward hook (output)"))
        new = list(items)
        for i, view in zip(index, self.outputs.views):
            new[i] = view
        self.outputs.release()
        if not isinstance(output, tuple):
            return new[0]
        return tuple(new) if type(output) is tuple else type(output)(*new)  # (a namedtuple stays one)

    # --- backward: the two gradient hooks ---------------------------------------------------------------------------
    def _output_hook(self, g: Tensor) -> Tensor:
        if self.outputs.written():
            raise RuntimeError(_INPLACE_MSG.format(who=self.who, what="output"))
        parts = self.outputs.split(g)
        reached = self.arrived if len(parts) > 1 else {0}
        grads = [None] * self.n_outputs
        for k, i in enumerate(self.output_index):
            grads[i] = parts[k] if k in reached else None
        self.arrived.clear()
        grad_output = tuple(grads)
        like = list(grad_output)
        for k, i in enumerate(self.output_index):
            like[i] = parts[k]
        for hook in self.pre_hooks:
            new = hook(self.module, grad_output)
            if new is not None:
                grad_output = _checked(self.who, "grad_output", new, grad_output, like)
        self.grad_outputs = grad_output
        if self.input_index is None:
            self._hooks_without_inputs()
        return self.outputs.join([grad_output[i] for i in self.output_index])

    def _hooks_without_inputs(self) -> None:
        """No input requires grad: the hooks run at the outputs with ``grad_input`` all None (PyTorch's)."""
        if self.hooks:  # (PyTorch warns with pre-hooks alone too, though no full hook fires)
            msg = ("Full backward hook is firing when gradients are computed with respect to module outputs since no "
                   "inputs require gradients (as in PyTorch); grad_input is all None")
            warnings.warn(msg, UserWarning, stacklevel=2)
        grad_input = (None,) * self.n_inputs
        for hook in self.hooks:
            res = hook(self.module, grad_input, self.grad_outputs)
            if res is not None and not (isinstance(res, tuple | list) and all(v is None for v in res)):
                raise RuntimeError(f"{self.who}: Backward hook for Modules where no input requires gradient should "
                                   "always return None or None for all gradients")  # fmt: skip
        self.grad_outputs = None

    def _input_hook(self, g: Tensor) -> Tensor | None:
        if self.grad_outputs is None:  # the gradient reached the inputs without passing the outputs: no call (PyTorch)
            return None
        parts = self.inputs.split(g)
        grads: list = [None if like is None else zeros(like[0], dtype=like[1], device=like[2]) for like in self.arg_like]
        for k, i in enumerate(self.input_index):
            grads[i] = parts[k]
        grad_input, like = tuple(grads), list(grads)
        for hook in self.hooks:
            new = hook(self.module, grad_input, self.grad_outputs)
            if new is not None:
                grad_input = _checked(self.who, "grad_input", new, grad_input, like)
        self.grad_outputs = None
        return self.inputs.join([grad_input[i] for i in self.input_index])
