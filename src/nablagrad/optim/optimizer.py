"""The ``Optimizer`` base: parameter groups, per-parameter state, ``state_dict``, safe steps.

Every hyper-parameter is checked when a group is added (the rules of :data:`HYPERPARAMETERS`,
as ``torch.optim`` checks them).  A step first validates every gradient (shape, finiteness);
then it makes sure the update leaves every parameter *and* every state buffer finite (an ``lr``
far too large, or ``g²`` overflowing a second moment while the parameters stay finite): an
optimiser whose ``check_update`` can tell in advance (Adam with the compiled kernels: the same
formula evaluated without writing) is refused before anything is written; for the others the
step copies what it writes (one copy per flat buffer), checks after and restores.  Either way
a failed ``step()`` leaves the model and the optimiser exactly as they were.
``load_state_dict`` checks every entry before writing any.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Iterable

import numpy as np

from ..autodiff import Tensor, no_grad
from ..autodiff.jit import effect, effects_of_subclass
from ..backend import kernels
from ..backend.checks import is_flag, is_int, is_real
from ..backend.device import device_of, to_device
from ..backend.namespace import NUMPY, namespace_of
from ..nn.module import state_array
from ..nn.utils import zero_grads
from . import flat


def _real(v) -> bool:
    return is_real(v) and math.isfinite(v)


def _pair(test, v) -> bool:
    """A pair of finite numbers ``(lo, hi)`` that passes ``test(lo, hi)`` (Rprop's ``etas``, ``step_sizes``)."""
    return isinstance(v, tuple | list) and len(v) == 2 and all(_real(x) for x in v) and test(*v)


# A schedule's record in the groups, as torch.optim.lr_scheduler writes it: loaded though a fresh group lacks it.
SCHEDULE_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")


def _torch_flag(key: str, value) -> bool:
    """One of torch.optim's implementation flags at a value that changes no number (``foreach``, ``fused``,
    ``capturable``: how torch runs the update; ``differentiable=False``): in a saved torch state, skipped by an
    optimiser that does not take it (``differentiable=True`` stays an unknown option, refused)."""
    if key in ("foreach", "fused", "capturable"):
        return value is None or isinstance(value, bool)
    return key == "differentiable" and value is False


# name -> (test, what a valid value is).  One table for every optimiser: a group is checked
# against the rows of the keys it holds.
HYPERPARAMETERS: dict[str, tuple[Callable[[object], bool], str]] = {
    "lr": (lambda v: _real(v) and v >= 0, "a finite number >= 0, e.g. lr=1e-3"),
    "momentum": (lambda v: _real(v) and v >= 0, "a finite number >= 0, typically 0.9"),
    "dampening": (lambda v: _real(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "weight_decay": (lambda v: _real(v) and v >= 0, "a finite number >= 0 (0 for none)"),
    "eps": (lambda v: _real(v) and v >= 0, "a small finite number >= 0, e.g. 1e-8"),
    "lr_decay": (lambda v: _real(v) and v >= 0, "a finite number >= 0"),
    "initial_accumulator_value": (lambda v: _real(v) and v >= 0, "a finite number >= 0"),
    "alpha": (lambda v: _real(v) and 0 <= v <= 1, "a smoothing constant in [0, 1], e.g. 0.99"),
    "forgetting": (lambda v: _real(v) and 0 < v <= 1, "a rate λ in (0, 1], e.g. 0.1"),
    "betas": (
        lambda v: isinstance(v, tuple | list) and len(v) == 2 and all(_real(b) and 0 <= b < 1 for b in v),
        "a pair (β1, β2) with each in [0, 1), e.g. betas=(0.9, 0.999)",
    ),
    "damping": (lambda v: _real(v) and v >= 0, "a finite number >= 0"),
    "increase": (lambda v: _real(v) and v > 1, "a factor > 1, e.g. 10"),
    "decrease": (lambda v: _real(v) and 0 < v < 1, "a factor in (0, 1), e.g. 0.1"),
    "max_tries": (lambda v: is_int(v) and v > 0, "a positive integer"),
    "tol": (lambda v: _real(v) and v > 0, "a finite number > 0"),
    "max_step": (lambda v: _real(v) and v > 0, "a finite number > 0"),
    "nesterov": (is_flag, "True or False"),
    "amsgrad": (is_flag, "True or False"),
    "centered": (is_flag, "True or False"),
    "decoupled_weight_decay": (is_flag, "True or False"),
    "maximize": (is_flag, "True or False (True: step up the gradient, to maximise the objective)"),
    "rho": (lambda v: _real(v) and 0 <= v <= 1, "a decay rate ρ in [0, 1], e.g. 0.9"),
    "momentum_decay": (lambda v: _real(v) and v >= 0, "a finite number >= 0, e.g. 4e-3"),
    "etas": (lambda v: _pair(lambda lo, hi: 0 < lo < 1 < hi, v),
             "a pair (η−, η+) with 0 < η− < 1 < η+, e.g. etas=(0.5, 1.2)"),
    "step_sizes": (lambda v: _pair(lambda lo, hi: 0 <= lo <= hi, v),
                   "a pair (min, max) of finite step sizes with 0 <= min <= max, e.g. step_sizes=(1e-6, 50)"),
    "lambd": (lambda v: _real(v) and v >= 0, "a finite decay term >= 0, e.g. 1e-4"),
    "t0": (lambda v: _real(v) and v >= 0, "a finite step count >= 0 at which averaging starts, e.g. 1e6"),
    "foreach": (lambda v: v is None or is_flag(v), "None, True or False (accepted as torch's; no effect here)"),
    "fused": (lambda v: v is None or is_flag(v), "None, True or False (accepted as torch's; every step here is one fused "
              "update of a flat buffer already)"),
    "capturable": (is_flag, "True or False (accepted as torch's; no effect here)"),
    "differentiable": (lambda v: is_flag(v) and not v,
                       "False: nablagrad's optimiser steps are not differentiable (write the update with ng.grad "
                       "to differentiate through it)"),
    **{k: (lambda v: _real(v) and v >= 0, "a finite number >= 0 (a schedule's record)")
       for k in SCHEDULE_KEYS},
}  # fmt: skip


def _one_number(who: str, key: str, v):
    """``v`` as the number it holds where it is a one-element tensor or array (``lr=torch.tensor(0.01)``,
    ``ng.tensor(0.01)``, ``np.array(0.01)``: torch.optim takes a tensor ``lr`` and tensor ``betas``); else unchanged.
    The number is the tensor's value as a Python float (a float32 ``0.01`` stays float32's nearest value, as
    torch's ``alpha=-lr`` reads it); a larger tensor is refused as torch refuses it."""
    if isinstance(v, numbers.Real) or not hasattr(v, "shape") or not hasattr(v, "item"):
        return v
    if math.prod(tuple(v.shape)) != 1:
        raise ValueError(f"{who}: a tensor {key} must hold one element (e.g. {key}=ng.tensor(0.01)), "
                         f"got shape {tuple(v.shape)}")  # fmt: skip
    return v.item()


def _plain_numbers(who: str, group: dict) -> dict:
    """``group`` with every option of :data:`HYPERPARAMETERS` that is a one-element tensor (or a pair's entry that
    is one) as its number (:func:`_one_number`), so that every rule, every update and ``state_dict`` see plain
    numbers; the group itself is not changed.  torch.optim takes a tensor ``lr``, ``betas`` and SGD's
    ``weight_decay``, and its state dicts hold tensors where they were given (``initial_lr`` of a schedule on a
    tensor ``lr``); any other option given as a 0-d tensor works there too (its updates take a 0-d tensor)."""
    out = dict(group)
    for key in out.keys() & HYPERPARAMETERS.keys():
        v = out[key]
        if isinstance(v, tuple | list):  # a pair (betas, etas, step_sizes): its entries
            out[key] = type(v)(_one_number(who, f"{key}[{i}]", b) for i, b in enumerate(v))
        else:
            out[key] = _one_number(who, key, v)
    return out


def _split_names(who: str, items: list) -> tuple[list, list[str] | None]:
    """A group's parameters and their names where they come as ``(name, tensor)`` pairs (``model.named_parameters()``,
    taken as torch.optim takes them: the names kept in the group's ``param_names``), else ``(items, None)``."""
    pairs = [isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in items]
    if not any(pairs):
        return items, None
    if not all(pairs):
        raise ValueError(f"{who}: some parameters come with a name and some without; pass model.named_parameters() "
                         "or model.parameters(), not a mix")  # fmt: skip
    return [x[1] for x in items], [x[0] for x in items]


def _wrong_type(test: Callable[[object], bool], v) -> bool:
    if test is is_flag:
        return True
    if isinstance(v, tuple | list):
        return False
    return not isinstance(v, numbers.Real) or isinstance(v, bool)


def _normalised(name: str, v):
    """NumPy scalars become Python numbers (so a state dict stays JSON-able); betas a tuple."""
    if name == "betas":
        return tuple(float(b) for b in v)
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    return float(v) if isinstance(v, numbers.Real) else v


def _all_finite(a) -> bool:
    """Whether every entry of the array ``a`` is finite (computed on its own device)."""
    xp = namespace_of(a)
    return bool(xp.all(xp.isfinite(a)))


_WORK_POOLS = ("_flat_groups", "_backup", "_scratch", "_steady", "_written")  # made again when needed: flat packs,
# copies, scratch, the steady step's groups, the parameters' versions after this optimiser's last write
_SCALARS = frozenset((int, float, bool))  # never arrays: the per-step state test skips them at once


def _is_array(v) -> bool:
    """An array of NumPy or of another library (a state buffer, not a scalar such as a step count)."""
    return isinstance(v, np.ndarray) or (hasattr(v, "shape") and namespace_of(v) is not NUMPY)


def _copy_to(a, p: Tensor):
    """A copy of the array ``a`` (any library, any device) with ``p``'s dtype, on ``p``'s device."""
    moved = to_device(a, p.device, p.dtype)
    return namespace_of(moved).copy(moved) if moved is a else moved


def _write(dst, src) -> None:
    """``dst[...] = src`` (``np.copyto``, on any array library)."""
    dst[...] = src


def _finite(pc: flat.Piece) -> bool:
    """No NaN or Inf in the piece's values or state buffers."""
    arrays = [pc.target.data, *(v for v in pc.state.values() if _is_array(v))]
    return all(_all_finite(a) for a in arrays)


def _forget_checks(pieces: list[flat.Piece]) -> None:
    """Drop the answers of ``check_update`` kept for updates that will not run (a refused or interrupted
    step): Adam's check keeps its arrays until its update comes, and nothing else would release them."""
    for pc in pieces:
        for v in pc.state.values():
            if _is_array(v):
                kernels.forget_check(v)


def _forget_bounds(pc: flat.Piece) -> None:
    """Drop what a check carried over about ``pc``'s state and values (Adam's bounds): they were written
    outside the update, and the next check reads them in full."""
    for v in pc.state.values():
        if _is_array(v):
            kernels.forget_bounds(v)


def _restore(pc: flat.Piece, values: np.ndarray, state: dict) -> None:
    """Put back what :meth:`Optimizer._save` copied, in place (views of flat buffers see it)."""
    _write(pc.target.data, values)
    _forget_bounds(pc)  # its values change outside the update: Adam's carried bounds no longer hold
    for k in [k for k in pc.state if k not in state]:
        del pc.state[k]
    for k, v in state.items():
        now = pc.state.get(k)
        if _is_array(v) and _is_array(now) and now.shape == v.shape:
            _write(now, v)
        else:
            pc.state[k] = namespace_of(v).copy(v) if _is_array(v) else v


MAX_STEPS = 2**53  # a step count beyond this is no run's: a float could no longer count on from it


def _checked_buffer(what: str, v, p: Tensor):
    """One saved state buffer for parameter ``p``, checked: an array of ``p``'s shape with finite
    values (a NaN moment would turn the weights into NaN at the first step after loading), or a
    step count (an integer in ``0..MAX_STEPS``); a copy on ``p``'s device and in its dtype."""
    if _is_array(v):
        dtype = namespace_of(v).numpy_dtype(v.dtype)
        if tuple(v.shape) != p.shape or dtype.kind not in "fiub":
            raise ValueError(f"{what} has shape {tuple(v.shape)} and dtype {dtype}; the parameter has shape {p.shape}")
        if not _all_finite(v):
            raise ValueError(f"{what} holds NaN or infinite values; the saved state is corrupted (a step from it "
                             "would turn the weights into NaN): load the weights without the optimiser state")  # fmt: skip
        return _copy_to(v, p)
    if not (is_int(v) and 0 <= v <= MAX_STEPS):
        raise ValueError(f"{what} must be an array or a step count (an integer in 0..2**53), got {repr(v)[:40]}")
    return int(v)


def _exported(key: str, v, numbers_as_tensors: frozenset[str]):
    """One entry of a parameter's state as :meth:`Optimizer.state_dict` gives it, as torch.optim does: a buffer
    as a new :class:`Tensor` (a copy, on its device); a count or number torch keeps as a 0-d tensor (``step``,
    ``mu_product``, …) as a 0-d float64 Tensor on the CPU (exact for every step count :data:`MAX_STEPS` allows,
    where torch's float32 is exact to 2**24); a list entry by entry (L-BFGS's memory); anything else a copy."""
    if _is_array(v):
        return Tensor(v, device=device_of(v))
    if isinstance(v, list):
        return [_exported(key, a, frozenset()) for a in v]
    if key in numbers_as_tensors and is_real(v):
        return Tensor(np.array(v, dtype=np.float64), device="cpu")
    return copy.deepcopy(v)


def _read_state(state_dict):
    """``state_dict`` with each entry of each parameter's state as an array the checks read (:func:`state_array`:
    a Tensor as its data, a torch tensor as NumPy), lists entry by entry; a shape the checks refuse unchanged."""
    if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state"), dict):
        return state_dict

    def read(v):
        return [read(a) for a in v] if isinstance(v, list) else state_array(v)

    state = {i: {k: read(v) for k, v in b.items()} if isinstance(b, dict) else b for i, b in state_dict["state"].items()}
    return {**state_dict, "state": state}


def _step_of(v):
    """A saved step count as an int where torch.optim saves it as a 0-d float array (``tensor(3.)``) or a float
    with a whole value; anything else unchanged, for :func:`_checked_buffer` to check."""
    if _is_array(v) and tuple(v.shape) == () or isinstance(v, float | np.floating):
        f = float(v)
        if 0 <= f <= MAX_STEPS and f == int(f):
            return int(f)
    return v


class ParameterState(dict):
    """``opt.state``: each parameter's buffers keyed by the parameter itself, as torch.optim's
    (``opt.state[p]["exp_avg"]``; iteration, ``len`` and ``in`` see the parameters that have a state).  As
    torch's ``defaultdict(dict)``, a tensor without a state reads as a new empty dict, kept; a key that is
    ``id(p)`` of a parameter with a state finds it too (how this state was keyed before).  Plain ``dict``
    underneath: the steps' ``get``/``setdefault`` by parameter cost what they cost on a dict."""

    __slots__ = ()

    def __missing__(self, key):
        if isinstance(key, Tensor):
            return self.setdefault(key, {})
        if is_int(key) and not isinstance(key, bool):
            for p, s in self.items():
                if id(p) == key:
                    return s
        raise KeyError(key)

    def __contains__(self, key) -> bool:
        if dict.__contains__(self, key):
            return True
        return is_int(key) and not isinstance(key, bool) and any(id(p) == key for p in self)


class Optimizer:
    """Base class: ``param_groups`` (list of dicts with ``params`` and hyper-parameters) and
    ``state`` (per-parameter buffers such as moments).  Subclasses implement :meth:`update`
    and name the buffers a parameter's state must hold in :meth:`state_keys`; those whose
    update is elementwise set ``elementwise = True`` and are stepped over one flat buffer per
    group (:mod:`.flat`), packed when the group is added: an array taken from a parameter after
    the optimiser is built shares its memory (as in PyTorch), one taken before is a copy."""

    elementwise = False

    def __init_subclass__(cls, **kwargs):
        """A subclass's own ``step`` and ``zero_grad`` are effects that ``ng.jit`` repeats, as the base's are."""
        super().__init_subclass__(**kwargs)
        effects_of_subclass(cls, ("step", "zero_grad"))

    def __init__(self, params: Iterable, defaults: dict):
        if isinstance(params, Tensor | dict) or not isinstance(params, Iterable):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of tensors or of parameter-group dicts, "
                f"got a {type(params).__name__}; pass model.parameters() or [tensor]"
            )
        self.defaults = _plain_numbers(type(self).__name__, defaults)
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.param_groups: list[dict] = []
        for g in groups:
            self._add_group(g)
        for g in self.param_groups:  # every group accepted: only now are the parameters packed (flat.pack_group)
            flat.pack_group(self, g)
        self.state: ParameterState = ParameterState()

    def __getstate__(self) -> dict:
        """For ``copy.deepcopy`` and ``pickle``: the state keyed by the parameters' positions (their ids do
        not survive a copy), without the work pools (made again on the copy's first step)."""
        d = {k: v for k, v in self.__dict__.items() if k not in _WORK_POOLS}
        d["state"] = self._state_by_position()
        return d

    def __setstate__(self, d: dict) -> None:
        self.__dict__.update(d)
        params = self._index()
        self.state = ParameterState({params[i]: s for i, s in d["state"].items()})

    def add_param_group(self, group: dict) -> None:
        """Add a group (a dict with ``params`` and any options), checked as the constructor's; its parameters
        are then packed into one buffer (:mod:`.flat`): arrays taken from them afterwards see every step."""
        self._add_group(group)
        flat.pack_group(self, self.param_groups[-1])

    def _add_group(self, group: dict) -> None:
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}: a parameter group is a dict with a 'params' entry, got {group!r}")
        raw = group["params"]
        if not isinstance(raw, Tensor) and (isinstance(raw, str | dict) or not hasattr(raw, "__iter__")):
            raise TypeError(f"{name}: a group's 'params' must be a parameter or an iterable of parameters "
                            f"(e.g. model.parameters()), got {type(raw).__name__}")  # fmt: skip
        params, names = _split_names(name, [raw] if isinstance(raw, Tensor) else list(raw))
        named = [("param_names" in g) for g in getattr(self, "param_groups", [])]
        if named and any(n != (names is not None) for n in named):
            raise ValueError(f"{name}: all parameter groups must be given with names (model.named_parameters()) or all "
                             "without (model.parameters()), as torch.optim; this group differs from the others")  # fmt: skip
        for p in params:  # a frozen parameter (requires_grad=False) is taken, as torch takes it: it gets no gradient
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimise tensors (e.g. model.parameters()), got {type(p).__name__}")
            if p._op is not None:  # as torch.optim: its updates would be lost with the graph that computes it
                raise ValueError(
                    f"{name}: can't optimise a non-leaf tensor (shape {p.shape}, computed by {p._op.name}); pass the "
                    "leaf it is computed from, or t.detach().requires_grad_() for a new parameter"
                )
        seen = {id(p) for g in getattr(self, "param_groups", []) for p in g["params"]}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ValueError(
                    f"{name}: the parameter at position {i} (shape {p.shape}) is given twice; it would be updated twice "
                    "per step. Pass each parameter once (in one group only)"
                )
            seen.add(id(p))
        for k in group:  # any other key is the caller's (a group's "name"), kept as torch.optim keeps it
            if k in HYPERPARAMETERS and k not in self.defaults and k not in SCHEDULE_KEYS:
                raise ValueError(f"{name}: unknown option {k!r} (an option of other optimisers); known: "
                                 f"{sorted(self.defaults)}")  # fmt: skip
        full = _plain_numbers(name, {**self.defaults, **group})
        if names is not None:
            full["param_names"] = names
        self._validate(full)
        full = {k: _normalised(k, v) for k, v in full.items() if k != "params"}
        self.param_groups.append({**full, "params": params})

    def _validate(self, group: dict) -> None:
        """Check each hyper-parameter of ``group`` against its rule in :data:`HYPERPARAMETERS`."""
        for key, value in group.items():
            rule = HYPERPARAMETERS.get(key)
            if rule is not None and not rule[0](value):
                kind = TypeError if _wrong_type(rule[0], value) else ValueError  # as torch.optim: None or "0.1" is a TypeError
                raise kind(f"{type(self).__name__}: {key} must be {rule[1]}, got {value!r}")
        if group.get("fused") and group.get("foreach"):  # torch.optim's RuntimeError, word for word
            raise RuntimeError(f"{type(self).__name__}: `fused` and `foreach` cannot be `True` together; pass one of them "
                               "(neither changes a number here)")  # fmt: skip

    def state_keys(self, group: dict) -> set[str]:
        """The buffers a parameter's (non-empty) state must hold under ``group``'s options."""
        return set()

    def to(self, device) -> Optimizer:
        """Move the state buffers (moments, …) to ``device``, as after ``model.to(device)`` (which
        :meth:`step` also notices by itself: state made before the move follows its parameter)."""
        moved = [(state, k, to_device(v, device)) for state in self.state.values() for k, v in state.items() if _is_array(v)]
        self._place(moved)
        return self

    def _follow_parameters(self) -> None:
        """State arrays of a library other than their parameter's (``model.to(device)`` after steps
        were taken) moved to the parameter's device — a class test per buffer on every step."""
        moved = []
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state.get(p)
                if state:
                    cls = p.data.__class__
                    for k, v in state.items():  # class tests first: cheap (a step count is a plain int)
                        if v.__class__ is not cls and v.__class__ not in _SCALARS and _is_array(v):
                            moved.append((state, k, to_device(v, p.device)))
        if moved:
            self._place(moved)

    def _place(self, moved: list) -> None:
        """Assign moved state buffers once every one is across (a failed move changes nothing); the
        work buffers and flat packs of the old arrays are dropped (made again on the new device)."""
        for state, k, v in moved:
            state[k] = v
        for pool in _WORK_POOLS:
            self.__dict__.pop(pool, None)

    @staticmethod
    def _snapshot(params: list[Tensor]) -> list:
        """Copies of the parameters' values, for :meth:`_put_back` (a search that may fail midway)."""
        return [namespace_of(p.data).copy(p.data) for p in params]

    @staticmethod
    def _put_back(params: list[Tensor], start: list) -> None:
        """The parameters' values as :meth:`_snapshot` took them (a failed step changes nothing)."""
        with no_grad():
            for p, w0 in zip(params, start):
                p.copy_(w0)

    @effect
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every gradient (``set_to_none=True``) or, as PyTorch's ``set_to_none=False``, zero it:
        the same ``.grad`` tensor, holding a new array of zeros (gradients may share arrays, so none
        is written in place), cut from any graph a ``create_graph=True`` backward left on it."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    def _check_grads(self, finite: bool = True) -> None:
        """Every gradient has its parameter's shape and (with ``finite``) no NaN or Inf."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if not isinstance(g, Tensor) or g.dtype.kind != p.dtype.kind:
                    got = type(g).__name__ if not isinstance(g, Tensor) else f"a tensor of dtype {g.dtype}"
                    raise TypeError(
                        f"{type(self).__name__}.step: the gradient of a parameter of shape {p.shape} ({p.dtype}) is "
                        f"{got}; .grad must be None or a tensor of the parameter's dtype, e.g. ng.tensor(g, dtype=p.dtype)"
                    )
                if g.shape != p.shape:
                    raise ValueError(f"{type(self).__name__}.step: a gradient has shape {g.shape} but its parameter {p.shape}")
                if finite and not _all_finite(g.data):
                    raise FloatingPointError(
                        f"{type(self).__name__}.step: a gradient of a parameter of shape {p.shape} contains NaN or Inf; "
                        "parameters were left unchanged. Likely causes: a learning rate that is too large, log or "
                        "division by 0 in the loss; lower lr or clip gradients."
                    )

    @effect
    def step(self, closure=None):
        """One update of every parameter that has a gradient (all or nothing, see the module docstring)."""
        if closure is None and self._steady_step():
            return None
        if closure is not None and not callable(closure):
            raise TypeError(f"{type(self).__name__}.step: closure must be a function that returns the loss, got {closure!r}")
        loss = closure() if closure is not None else None
        self._check_grads(finite=False)
        self._follow_parameters()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # detected and reported once
            pieces = [pc for group in self.param_groups for pc in flat.pieces(self, group)]
            written = self.__dict__.setdefault("_written", {})
            for pc in pieces:  # a parameter written since our last update (p.copy_, load_state_dict, p -= …):
                if any(written.get(id(p)) != p._version for p in pc.params):  # what a check carried no longer holds
                    _forget_bounds(pc)
            try:
                verdicts = [self.check_update(pc.target, pc.grad, pc.state, pc.group) for pc in pieces]
                if not all(v is True for v in verdicts):  # a True verdict implies finite gradients: one pass less
                    self._check_grads()
                if False in verdicts:  # refused before anything was written
                    raise self._diverged(pieces[verdicts.index(False)].group)
            except BaseException:
                _forget_checks(pieces)  # no update follows: the checks' answers must not keep the arrays alive
                raise
            if all(verdicts):
                self.__dict__.pop("_backup", None)  # checked in advance: no copies (the first step's are freed)
                saved = None
            else:
                saved = [self._save(pc) for pc in pieces]
            try:
                for pc in pieces:
                    self.update(pc.target, pc.grad, pc.state, pc.group)
            except BaseException:
                if saved is not None:  # an update that raises (a subclass's bug, an interrupt) changes nothing either
                    for pc, copies in zip(pieces, saved):
                        _restore(pc, *copies)
                _forget_checks(pieces)  # the pieces not reached
                raise
            if saved is not None:
                bad = next((pc for pc in pieces if not _finite(pc)), None)
                if bad is not None:
                    for pc, copies in zip(pieces, saved):
                        _restore(pc, *copies)
                    raise self._diverged(bad.group)
            for pc in pieces:
                pc.commit(self.state)
                for p in pc.params:
                    written[id(p)] = p._version
        steady = (self.has_steady_step() and all(verdicts) and all(pc.flat is not None for pc in pieces)
                  and not any(pc.group.get("maximize") for pc in pieces))  # (the steady step reads the gradients as they are)
        self.__dict__["_steady"] = [(pc.group, pc.flat) for pc in pieces] if steady else None
        return loss

    def _steady_step(self) -> bool:
        """The step again over the flat groups that the last step packed and checked in advance (the
        steady state of a training loop), without finding its pieces anew: each group's parameters are
        still its views, each has a gradient of its shape and its state is still the one bound; then
        :meth:`steady_check` for every group before :meth:`steady_update` writes any (all or nothing, as
        the full step).  ``False``, having changed nothing, where any of that fails — the full step runs."""
        groups = self.__dict__.get("_steady")
        written = self.__dict__.get("_written")
        if not groups or len(groups) != len(self.param_groups) or written is None:
            return False
        state = self.state
        grads = []
        for (group, fg), now in zip(groups, self.param_groups):
            found = fg.steady_grads(group["params"], state, written) if group is now and not group.get("maximize") else None
            if found is None:  # a parameter, gradient or state changed (or written past us): the full step
                return False
            grads.append(found)
        prepared: list = []
        try:
            for (group, fg), g in zip(groups, grads):
                prepared.append(self.steady_check(fg, group, g))
        except BaseException:
            self._abandon(groups, prepared)
            raise
        if None in prepared:
            self._abandon(groups, prepared)
            return False
        for (_, fg), update in zip(groups, prepared):
            self.steady_update(fg, update)
        for _, fg in groups:
            fg.after_update(state)
            for p in fg.params:
                p.bump_version_()  # written in place: a graph that saved p must not back-propagate
                written[id(p)] = p._version
        return True

    def _abandon(self, groups: list, prepared: list) -> None:
        """No update follows these prepared checks (another group's failed, or raised): what they hold is let go."""
        for (_, fg), update in zip(groups, prepared):
            if update is not None:
                self.steady_abandon(fg, update)

    def has_steady_step(self) -> bool:
        """Whether this optimiser has a steady step (:meth:`steady_check`, :meth:`steady_update`).  The base
        has none; an optimiser whose checked update has one overrides the three."""
        return False

    def steady_check(self, fg: flat.FlatGroup, group: dict, grads: list[np.ndarray]):
        """For :meth:`_steady_step`: this step's update of the packed group ``fg`` (its parameters' gradients
        ``grads``, in order) prepared and shown finite without writing anything, or ``None`` (nothing kept)
        where that cannot be told cheaply."""
        return None

    def steady_abandon(self, fg: flat.FlatGroup, update) -> None:
        """Let go of what :meth:`steady_check` prepared for an update that will not run (another group's
        check failed): the full step runs instead."""

    def steady_update(self, fg: flat.FlatGroup, update) -> None:
        """Carry out what :meth:`steady_check` prepared (the update of ``fg`` and its state)."""
        raise NotImplementedError

    def update(self, p: Tensor, g: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    def check_update(self, p: Tensor, g: np.ndarray, state: dict, group: dict) -> bool | None:
        """Whether ``update(p, g, state, group)`` would leave ``p`` and every state buffer finite,
        found without writing anything; ``None`` when that cannot be told in advance — the step
        then copies what the update writes, checks after and restores on failure.  True must
        imply that ``g`` is finite too (a NaN or Inf gradient makes a NaN or Inf update)."""
        return None

    def scratch(self, p: Tensor) -> np.ndarray:
        """A work buffer shaped like ``p`` (not part of the state), so updates make no temporaries."""
        return self._buffer("_scratch", id(p), p.data)

    def _buffer(self, pool: str, key, like: np.ndarray) -> np.ndarray:
        buffers = self.__dict__.setdefault(pool, {})
        buf = buffers.get(key)
        if buf is None or buf.shape != like.shape or buf.dtype != like.dtype or buf.__class__ is not like.__class__:
            buf = buffers[key] = namespace_of(like).empty_like(like)
        return buf

    def _copy(self, key, a: np.ndarray) -> np.ndarray:
        """``a`` copied into the reused buffer named ``key``."""
        buf = self._buffer("_backup", key, a)
        _write(buf, a)
        return buf

    def _save(self, pc: flat.Piece) -> tuple[np.ndarray, dict]:
        """Copies of what updating ``pc`` may write: its values and its state (one copy per flat buffer)."""
        key = id(pc.target)
        state = {k: self._copy((key, k), v) if _is_array(v) else v for k, v in pc.state.items()}
        return self._copy(key, pc.target.data), state

    def _diverged(self, group: dict) -> FloatingPointError:
        return FloatingPointError(
            f"{type(self).__name__}.step: the update would make a parameter or the optimiser state NaN or Inf "
            f"(lr={group.get('lr')}); every parameter and the optimiser state keep their values from before this "
            "step. Lower lr or clip gradients (clip_grad_norm)."
        )

    # --- state ---------------------------------------------------------------------------
    def _index(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def _state_by_position(self) -> dict[int, dict]:
        """Each parameter's state keyed by its position in the groups (what survives a copy or a file)."""
        state = self.state
        return {i: state[p] for i, p in enumerate(self._index()) if dict.__contains__(state, p)}

    def state_dict(self) -> dict:
        """Hyper-parameters of each group and the state of each parameter, keyed by position, as torch.optim's:
        buffers (``exp_avg``, ``momentum_buffer``, …) as :class:`Tensor` copies, ``step`` as a 0-d Tensor
        (:func:`_exported`).  :meth:`load_state_dict` takes this, the same with NumPy arrays and numbers, or
        ``torch.optim``'s own state dict (its tensors)."""
        numbers = frozenset({"step", *getattr(self, "float_state", ())})
        state = {i: {k: _exported(k, v, numbers) for k, v in s.items()} for i, s in self._state_by_position().items()}
        groups, start = [], 0
        for g in self.param_groups:
            n = len(g["params"])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": list(range(start, start + n))})
            start += n
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Replace the state and hyper-parameters; every entry is checked before anything is written."""
        new_state, new_groups = self._checked_state_dict(_read_state(state_dict))
        self.state = ParameterState(new_state)
        for saved, group in zip(new_groups, self.param_groups):
            group.update(saved)

    def check_state_dict(self, state_dict: dict) -> None:
        """Raise ``ValueError`` naming the first problem if :meth:`load_state_dict` would refuse ``state_dict``."""
        self._checked_state_dict(_read_state(state_dict))

    def _checked_state_dict(self, state_dict: dict) -> tuple[dict[Tensor, dict], list[dict]]:
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(
                f"{name}: expected a dict with 'state' and 'param_groups' (from state_dict()), got {type(state_dict).__name__}"
            )
        params = self._index()
        groups = state_dict["param_groups"]
        if not isinstance(groups, list | tuple) or len(groups) != len(self.param_groups) or any(
            not isinstance(a, dict) or len(a.get("params", ())) != len(b["params"]) for a, b in zip(groups, self.param_groups)
        ):
            raise ValueError(f"{name}: the saved optimiser has a different number of parameters or groups")
        new_groups = []
        for saved, group in zip(groups, self.param_groups):
            saved = _plain_numbers(name, {k: v for k, v in saved.items() if k in group or not _torch_flag(k, v)})
            merged = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            names = saved.get("param_names", group.get("param_names"))
            if names is not None and (not isinstance(names, list | tuple) or len(names) != len(group["params"])
                                      or not all(isinstance(n, str) for n in names)):
                raise ValueError(f"{name}: param_names must list one name (str) per parameter of the group, got "
                                 f"{repr(names)[:80]}")  # fmt: skip
            # (a schedule's record and the parameters' names, as torch.optim keeps them)
            unknown = sorted(set(saved) - set(group) - set(SCHEDULE_KEYS) - {"param_names"})
            if unknown:
                raise ValueError(f"{name}: unknown option(s) {unknown} in the saved groups; known: {sorted(self.defaults)}")
            self._validate(merged)
            new_groups.append({k: _normalised(k, v) for k, v in merged.items() if k != "params"})
        group_of = [new_groups[gi] for gi, g in enumerate(self.param_groups) for _ in g["params"]]
        if not isinstance(state_dict["state"], dict):
            raise ValueError(f"{name}: 'state' must be a dict position -> buffers")
        new_state: dict[Tensor, dict] = {}
        for i, buffers in state_dict["state"].items():
            try:
                pos = int(i)
            except (TypeError, ValueError):
                pos = -1
            if not 0 <= pos < len(params) or not isinstance(buffers, dict):
                raise ValueError(f"{name}: state entry {i!r} is not the position of one of the {len(params)} parameters")
            p = params[pos]
            need = self.state_keys(group_of[pos])
            if buffers and set(buffers) != need:
                missing, extra = sorted(need - set(buffers)), sorted(set(buffers) - need)
                raise ValueError(
                    f"{name}: the state of parameter {pos} has buffers {sorted(buffers)}; {type(self).__name__} with these "
                    f"options needs {sorted(need)} (missing {missing}, unexpected {extra})"
                )
            new_state[p] = {k: _checked_buffer(f"{name}: buffer {k!r} of parameter {pos}",
                                                   _step_of(v) if k == "step" else v, p) for k, v in buffers.items()}  # fmt: skip
        return new_state, new_groups

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({opts})"
