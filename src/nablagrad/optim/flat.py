"""One flat buffer per parameter group: one fused update per step instead of one per parameter.

The idea of PyTorch's ``foreach``/``fused`` optimisers.  The parameters of a group (one dtype)
are packed into one contiguous array and each parameter's ``.data`` becomes a view into it —
when the optimiser is built (:func:`pack_group`), so an array taken from a parameter after
that (``p.data``, ``p.numpy()``, ``np.asarray(p)``, ``p.detach()``) shares its memory and sees
every step, as in PyTorch.  One taken *before* is a copy from then on (NumPy cannot make
scattered arrays one buffer), unless the parameters already are consecutive views of one buffer
(another optimiser's on them): that buffer is adopted, not copied;
each step copies the gradients into one flat gradient and calls the optimiser's elementwise
``update`` once, on the whole buffer (Adam's compiled kernels skip the copy: they read each
gradient where it is, see :class:`kernels.Parts`).  The state keeps PyTorch's ``state_dict`` layout: every
parameter's buffers (``exp_avg``, ``momentum_buffer``, …) are views into the group's flat
buffers, so ``state_dict``, ``load_state_dict`` and checkpoints see per-parameter arrays.

An elementwise update gives the same numbers on a flat buffer as on each piece, so
trajectories are unchanged.  Views are checked by identity every step; when something outside
replaced an array (a parameter's ``.data`` rebound, a state loaded or restored) the group is
packed again from the arrays it now finds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..autodiff import Tensor, as_tensor
from ..backend import kernels


def _pieces(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """``flat`` cut into consecutive views of the given shapes."""
    out, start = [], 0
    for shape in shapes:
        n = int(np.prod(shape, dtype=np.int64))
        out.append(flat[start : start + n].reshape(shape))
        start += n
    return out


def _shared_buffer(params: list[Tensor]) -> np.ndarray | None:
    """The one writable 1-D buffer whose consecutive C-ordered pieces the parameters' arrays are, in order and
    covering it exactly (what :meth:`FlatGroup.pack` made for another optimiser), or ``None``."""
    base = params[0].data.base
    if base is None or base.__class__ is not np.ndarray or base.ndim != 1 or not base.flags.writeable:
        return None
    if not base.flags.c_contiguous or base.dtype != params[0].data.dtype:
        return None
    address, total = base.ctypes.data, 0
    for p in params:
        a = p.data
        if a.base is not base or not a.flags.c_contiguous or a.ctypes.data != address + total * base.itemsize:
            return None
        total += a.size
    return base if total == base.size else None


@dataclass
class FlatGroup:
    """The packed parameters of one group: ``flat`` holds them all; ``views[i]`` is ``params[i].data``."""

    params: list[Tensor]
    views: list[np.ndarray]
    tensor: Tensor  # the whole buffer as one tensor: what ``update`` receives
    grad_layout: kernels.Layout  # the flat gradient buffer (``grad``) cut at the parameters' shapes
    state: dict = field(default_factory=dict)  # flat buffers and scalars, as ``update`` keeps them
    state_views: list[dict] = field(default_factory=list)  # per parameter: key -> its view
    kernel_plan: object = None  # an optimiser's kernel arguments for its steady step, kept while these buffers are

    @classmethod
    def pack(cls, params: list[Tensor]) -> FlatGroup:
        shapes = [p.shape for p in params]
        flat = _shared_buffer(params)
        if flat is not None:  # already one buffer (another optimiser's): adopted, so no array taken is orphaned
            views = [p.data for p in params]
        else:
            flat = np.empty(sum(p.data.size for p in params), dtype=params[0].dtype)
            views = _pieces(flat, shapes)
            for p, view in zip(params, views):
                np.copyto(view, p.data)
                p.data = view
        grad = np.empty_like(flat)
        return cls(list(params), views, as_tensor(flat, device="cpu"), kernels.Layout(_pieces(grad, shapes), grad))

    @property
    def grad(self) -> np.ndarray:
        """The one flat gradient buffer."""
        return self.grad_layout.out

    def intact(self, params: list[Tensor]) -> bool:
        """The same parameters, each still a view of this buffer (so all NumPy arrays of its dtype)."""
        if len(params) != len(self.params):
            return False
        for p, q, v in zip(params, self.params, self.views):  # a plain loop: asked on every step
            if p is not q or p.data is not v:
                return False
        return True

    def steady_grads(self, params: list[Tensor], opt_state: dict, written: dict) -> list[np.ndarray] | None:
        """For a steady step, in one pass over the parameters: their gradients' arrays where the group is as
        the last step left it — the same parameters, each still its view, with a gradient of its shape, not
        written since the optimiser's last update (``written``: id → version), and the states
        :meth:`scatter_state` made; ``None`` otherwise (asked every step, so plain loops)."""
        if len(params) != len(self.params) or not self.state_views:
            return None
        n, scalars, grads = len(self.state), self._scalars(), []
        for p, q, view, views in zip(params, self.params, self.views, self.state_views):
            g = p.grad
            if p is not q or p.data is not view or g is None or g.shape != view.shape or written.get(id(p)) != p._version:
                return None
            if not _state_bound(opt_state.get(p), views, n, scalars):
                return None
            grads.append(g.data)
        return grads

    def grad_parts(self) -> kernels.Parts:
        """The gradients as they are, for an update that reads them in place (gathered on demand)."""
        return kernels.Parts([p.grad.data for p in self.params], self.grad_layout)

    def gather_grads(self) -> np.ndarray:
        """The gradients copied into the one flat gradient buffer."""
        return self.grad_parts().whole()

    def bind_state(self, opt_state: dict) -> bool:
        """Make :attr:`state` the flat form of the parameters' states; False if they cannot share one."""
        states = [opt_state.get(p) for p in self.params]
        if not any(states):
            self.state, self.state_views, self.kernel_plan = {}, [], None
            return True
        if self.state_views and self._bound(states):
            return True
        if not all(states) or len({frozenset(s) for s in states}) != 1:
            return False
        flat_state = {}
        for k in states[0]:
            values = [s[k] for s in states]
            if all(isinstance(v, np.ndarray) and v.shape == p.shape for v, p in zip(values, self.params)):
                buf = np.empty_like(self.grad)
                for piece, v in zip(_pieces(buf, [p.shape for p in self.params]), values):
                    np.copyto(piece, v)
                flat_state[k] = buf
            elif all(not isinstance(v, np.ndarray) and v == values[0] for v in values):
                flat_state[k] = values[0]
            else:
                return False
        self.state, self.kernel_plan = flat_state, None  # a plan holds the buffers it was made for: let them go
        self.scatter_state(opt_state)
        return True

    def _bound(self, states: list) -> bool:
        """Whether every parameter's state is still what :meth:`scatter_state` made."""
        n, scalars = len(self.state), self._scalars()
        for s, views in zip(states, self.state_views):
            if not _state_bound(s, views, n, scalars):
                return False
        return True

    def _scalars(self) -> list[tuple]:
        return [(k, v) for k, v in self.state.items() if not isinstance(v, np.ndarray)]

    def scatter_state(self, opt_state: dict) -> None:
        """Each parameter's state: views of the flat buffers and the (shared) scalars."""
        shapes = [p.shape for p in self.params]
        arrays = {k: _pieces(v, shapes) for k, v in self.state.items() if isinstance(v, np.ndarray)}
        self.state_views = [{k: pieces[i] for k, pieces in arrays.items()} for i in range(len(self.params))]
        for p, views in zip(self.params, self.state_views):
            opt_state[p] = {k: views.get(k, v) for k, v in self.state.items()}

    def after_update(self, opt_state: dict) -> None:
        """Publish what ``update`` changed: new buffers as views, scalars (``step``) by value."""
        views = self.state_views[0] if self.state_views else {}
        scalars, arrays = {}, 0
        for k, v in self.state.items():
            if not isinstance(v, np.ndarray):
                scalars[k] = v
            elif k not in views or views[k].base is not v:  # a new buffer: views of it, for every parameter
                self.scatter_state(opt_state)
                return
            else:
                arrays += 1
        if arrays != len(views):
            self.scatter_state(opt_state)
            return
        for p in self.params:
            opt_state.setdefault(p, {}).update(scalars)


def _state_bound(s: dict | None, views: dict, n: int, scalars: list[tuple]) -> bool:
    """Whether one parameter's state ``s`` is what :meth:`FlatGroup.scatter_state` made: ``n`` entries, the same
    views of the flat buffers and the same scalars (asked every step, so plain loops)."""
    if s is None or len(s) != n:
        return False
    for k, v in views.items():
        if s.get(k) is not v:
            return False
    for k, v in scalars:
        if s.get(k) != v:
            return False
    return True


@dataclass
class Piece:
    """What one call of an optimiser's ``update`` steps: one parameter, or a group's flat buffer."""

    target: Tensor  # the parameter, or the group's buffer as one tensor
    grad: np.ndarray
    state: dict  # the buffers ``update`` reads and writes
    group: dict
    params: list[Tensor]  # the parameters ``target`` holds
    flat: FlatGroup | None = None
    new_state: bool = False  # a parameter with no state yet: ``state`` enters ``opt.state`` on commit

    def commit(self, opt_state: dict) -> None:
        """The update succeeded: publish the state (views of flat buffers) and bump the versions."""
        if self.flat is not None:
            self.flat.after_update(opt_state)
        elif self.new_state:
            opt_state[self.target] = self.state
        for p in self.params:
            p.bump_version_()  # written in place: a graph that saved p must not back-propagate


def pieces(opt, group: dict) -> list[Piece]:
    """The pieces of ``group`` to update this step: its flat buffer where packing applies (see
    :func:`packed`), else each parameter that has a gradient.  A group with ``maximize`` gets the
    gradients negated (PyTorch's ``maximize=True``: the update steps up the gradient)."""
    up = group.get("maximize", False)
    fg = packed(opt, group)
    if fg is not None:
        grad = fg.grad_parts() if reads_grad_parts(opt) else fg.gather_grads()
        if up:
            grad = kernels.Parts([-g for g in grad.parts], grad.layout) if isinstance(grad, kernels.Parts) else -grad
        return [Piece(fg.tensor, grad, fg.state, group, fg.params, fg)]
    out = []
    for p in group["params"]:
        if p.grad is not None:
            state = opt.state.get(p)
            g = -p.grad.data if up else p.grad.data
            out.append(Piece(p, g, {} if state is None else state, group, [p], new_state=state is None))
    return out


def takes_grad_parts(method):
    """Mark an optimiser's ``update`` / ``check_update`` as taking a flat group's gradient as
    :class:`kernels.Parts` (Adam's compiled kernels read each gradient in place)."""
    method.takes_grad_parts = True
    return method


def reads_grad_parts(opt) -> bool:
    """Whether both of ``opt``'s update methods are marked (a subclass that overrides one gets arrays)."""
    cls = type(opt)
    return getattr(cls.update, "takes_grad_parts", False) and getattr(cls.check_update, "takes_grad_parts", False)


def packed(opt, group: dict) -> FlatGroup | None:
    """The packed buffer of ``group`` with its state bound, or ``None`` where packing does not
    apply: an optimiser whose update is not elementwise, a group with a parameter without
    gradient, mixed dtypes, fewer than two parameters, or per-parameter states that differ in
    their scalars (e.g. step counts).
    """
    params = group["params"]
    if not getattr(opt, "elementwise", False) or len(params) < 2:
        return None
    for p in params:
        if p.grad is None:
            return None
    groups: dict[int, FlatGroup] = opt.__dict__.setdefault("_flat_groups", {})
    fg = groups.get(id(group))
    if fg is None or not fg.intact(params):  # an intact group's parameters are NumPy views of one dtype
        fg = pack_group(opt, group)
        if fg is None:
            return None
    return fg if fg.bind_state(opt.state) else None


def pack_group(opt, group: dict) -> FlatGroup | None:
    """Pack ``group``'s parameters into one buffer where packing applies (an elementwise optimiser, two
    parameters or more, one dtype, NumPy arrays), else ``None``: called when the group is added, so
    arrays taken from the parameters from then on are views of the memory every step writes."""
    params = group["params"]
    if not getattr(opt, "elementwise", False) or len(params) < 2:
        return None
    if len({p.dtype for p in params}) != 1 or any(p.data.__class__ is not np.ndarray for p in params):
        return None  # mixed dtypes; CuPy, array API: one update per parameter
    fg = opt.__dict__.setdefault("_flat_groups", {})[id(group)] = FlatGroup.pack(params)
    return fg
