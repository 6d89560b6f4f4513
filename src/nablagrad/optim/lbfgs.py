"""L-BFGS (Nocedal, 1980; Liu & Nocedal, 1989), as ``torch.optim.LBFGS`` computes it.

A quasi-Newton method: the inverse Hessian is approximated from the last ``m`` (``history_size``)
pairs ``s_k = w_{k+1} − w_k``, ``y_k = g_{k+1} − g_k`` by the two-loop recursion

``q ← −g``;  for k newest → oldest: ``α_k = ρ_k s_kᵀq``, ``q ← q − α_k y_k``  (``ρ_k = 1 / y_kᵀs_k``);
``r ← γ q`` (``γ = yᵀs / yᵀy`` of the newest pair);  for k oldest → newest: ``r ← r + (α_k − ρ_k y_kᵀr) s_k``;

``d = r`` is the direction; the step ``t`` is ``lr`` (the very first one ``min(1, 1/‖g‖₁)·lr``) or, with
``line_search_fn='strong_wolfe'``, one satisfying the strong Wolfe conditions (cubic interpolation,
minFunc's ``lswolfe``).  A pair enters the memory only if ``yᵀs > 1e−10`` (curvature).  One
``step(closure)`` runs up to ``max_iter`` iterations (``max_eval`` closure calls) and stops early when
``max|g| ≤ tolerance_grad``, ``gᵀd > −tolerance_change``, ``max|t d| ≤ tolerance_change`` or the loss
changed by less than ``tolerance_change``.

As torch's, the whole memory is the state of the first parameter (``func_evals``, ``n_iter``, ``d``,
``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``, ``prev_flat_grad``, ``prev_loss``, ``al``): flat
vectors over all parameters, lists of them, and scalars (0-d values of the parameters' dtype where torch
keeps 0-d tensors, so float32 runs round as torch's).  A step is all or nothing: a closure that raises,
a NaN or infinite gradient or loss, or parameters driven to NaN/Inf leave the parameters and the memory
as they were before the step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from ..backend.checks import is_int, is_real
from ..backend.device import to_device
from ..backend.namespace import namespace_of
from .optimizer import Optimizer, _all_finite, _copy_to, _is_array, _real

# name -> (test, what a valid value is), checked here (the table of the base is for the first-order rules)
_RULES: dict[str, tuple[Callable[[object], bool], str]] = {
    "max_iter": (lambda v: is_int(v) and v >= 1, "a positive integer, e.g. 20"),
    "max_eval": (lambda v: is_int(v) and v >= 1, "a positive integer or None (max_iter * 5 // 4)"),
    "tolerance_grad": (lambda v: _real(v) and v >= 0, "a finite number >= 0, e.g. 1e-7"),
    "tolerance_change": (lambda v: _real(v) and v >= 0, "a finite number >= 0, e.g. 1e-9"),
    "history_size": (lambda v: is_int(v) and v >= 1, "a positive integer, e.g. 100"),
}
_LINE_SEARCHES = (None, "strong_wolfe")


def _dot(a, b):
    """``aᵀb`` of two flat vectors, a 0-d value of their dtype (as ``torch.dot``)."""
    return namespace_of(a).vecdot(a, b)


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through ``(x1, f1)``, ``(x2, f2)`` with slopes ``g1``, ``g2``, clipped to
    ``bounds`` (default: between the two points); their midpoint where the cubic has no minimum:

    ``d1 = g1 + g2 − 3 (f1 − f2)/(x1 − x2)``, ``d2 = √(d1² − g1 g2)``,
    ``x = x2 − (x2 − x1)(g2 + d2 − d1)/(g2 − g1 + 2 d2)``."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square**0.5
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, lo), hi)
    return (lo + hi) / 2.0


@dataclass
class _Bracket:
    """Points of the line search: step lengths, losses, gradients and slopes ``gᵀd``."""

    t: list
    f: list
    g: list
    gtd: list

    def set(self, i: int, t, f, g, gtd) -> None:
        self.t[i], self.f[i], self.g[i], self.gtd[i] = t, f, g, gtd


def _strong_wolfe(obj_func, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step ``t`` along ``d`` with sufficient decrease ``f(t) ≤ f + c1 t gᵀd`` and curvature
    ``|g(t)ᵀd| ≤ c2 |gᵀd|`` (strong Wolfe): bracket, then zoom by cubic interpolation (minFunc's lswolfe,
    as torch's ``_strong_wolfe``).  ``obj_func(t)`` gives the loss and the flat gradient at ``w + t d``.
    Returns ``(f_new, g_new, t, evaluations)``."""
    xp = namespace_of(d)
    d_norm = xp.max(xp.abs(d))
    f_new, g_new = obj_func(t)
    evals = 1
    gtd_new = _dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:  # bracket an interval that holds a point satisfying the conditions
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = _Bracket([t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new])
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, done = _Bracket([t], [f_new], [g_new], [gtd_new]), True
            break
        if gtd_new >= 0:
            bracket = _Bracket([t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new])
            break
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(t)
        evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = _Bracket([0, t], [f, f_new], [g, g_new], [None, None])  # (the zoom is skipped: no slopes needed)
    low, high = (0, 1) if bracket.f[0] <= bracket.f[-1] else (1, 0)
    insufficient = False
    while not done and ls_iter < max_ls:  # zoom: shrink the bracket until a point satisfies the conditions
        if abs(bracket.t[1] - bracket.t[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket.t[0], bracket.f[0], bracket.gtd[0], bracket.t[1], bracket.f[1], bracket.gtd[1])
        top, bottom = max(bracket.t), min(bracket.t)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:  # too close to an end: move it 0.1 of the bracket inside
            if insufficient or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        f_new, g_new = obj_func(t)
        evals += 1
        gtd_new = _dot(g_new, d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket.f[low]:
            bracket.set(high, t, f_new, g_new, gtd_new)
            low, high = (0, 1) if bracket.f[0] <= bracket.f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket.t[high] - bracket.t[low]) >= 0:
                bracket.set(high, bracket.t[low], bracket.f[low], bracket.g[low], bracket.gtd[low])
            bracket.set(low, t, f_new, g_new, gtd_new)
    return bracket.f[low], bracket.g[low], bracket.t[low], evals


@dataclass
class _Memory:
    """L-BFGS's memory between steps, under torch's state names (see :meth:`from_state`, :meth:`to_state`)."""

    func_evals: int = 0  # closure calls, all steps
    n_iter: int = 0  # iterations, all steps
    d: object = None  # the last direction (flat)
    t: object = None  # the last step length
    old_dirs: list = field(default_factory=list)  # y_k
    old_stps: list = field(default_factory=list)  # s_k
    ro: list = field(default_factory=list)  # ρ_k = 1 / y_kᵀs_k
    H_diag: object = None  # γ, the scale of the initial inverse Hessian  # noqa: N815 - torch's state name
    prev_flat_grad: object = None
    prev_loss: float | None = None
    al: list | None = None  # the α_k of the last two-loop recursion

    @classmethod
    def from_state(cls, state: dict) -> _Memory:
        """The memory in ``state`` (lists copied: a failed step must leave the state's own lists as they are)."""
        mem = cls(**{f.name: state[f.name] for f in fields(cls) if f.name in state})
        for name in ("old_dirs", "old_stps", "ro", "al"):
            value = getattr(mem, name)
            if value is not None:
                setattr(mem, name, list(value))
        return mem

    def to_state(self) -> dict:
        """torch's layout: the counters always; the rest once an iteration ran; ``al`` once it was made."""
        state = {"func_evals": self.func_evals, "n_iter": self.n_iter}
        if self.d is not None:
            state.update({f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("func_evals", "n_iter", "al")})
        if self.al is not None:
            state["al"] = self.al
        return state


class LBFGS(Optimizer):
    """L-BFGS with ``torch.optim.LBFGS``'s options, defaults and trajectory (see the module docstring).

    ``step(closure)``: ``closure()`` zeroes the gradients, computes the loss, calls ``backward()`` and
    returns the loss; it is called several times per step.  One parameter group only (as torch's); a
    parameter without a gradient counts as a zero gradient.  Returns the loss of the first call::

        opt = ng.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            return loss

        opt.step(closure)
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):  # fmt: skip
        if max_eval is None and is_int(max_iter):
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))  # fmt: skip
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): pass one list of "
                             f"parameters, got {len(self.param_groups)} groups")  # fmt: skip

    def add_param_group(self, group: dict) -> None:
        raise ValueError("LBFGS doesn't support parameter groups: build it with every parameter in one list")

    def _validate(self, group: dict) -> None:
        """The base's rules (``lr``), then L-BFGS's own: positive counts, tolerances >= 0, a known line search."""
        super()._validate(group)
        name = type(self).__name__
        for key, (test, what) in _RULES.items():
            value = group.get(key)
            if key in group and not test(value):
                kind = ValueError if is_real(value) else TypeError
                raise kind(f"{name}: {key} must be {what}, got {value!r}")
        search = group.get("line_search_fn")
        if search not in _LINE_SEARCHES:
            kind = ValueError if isinstance(search, str) else TypeError
            raise kind(f"{name}: line_search_fn must be None or 'strong_wolfe' (the only line search torch has), "
                       f"got {search!r}")  # fmt: skip

    # --- the flat view of the parameters ---------------------------------------------------------------
    def _params(self) -> list:
        return self.param_groups[0]["params"]

    def _flat_grad(self):
        """Every parameter's gradient (zeros where it has none) flattened into one vector, in order."""
        params = self._params()
        xp = namespace_of(params[0].data)
        parts = []
        for p in params:
            if p.grad is None:
                parts.append(xp.zeros((math.prod(p.shape),), p.dtype, device=xp.device(p.data)))
            else:
                parts.append(xp.reshape(p.grad.data, (-1,)))
        return xp.concatenate(parts)

    def _add_grad(self, t, d) -> None:
        """``w ← w + t d`` over the flat vector ``d``, in place."""
        offset = 0
        for p in self._params():
            n = math.prod(p.shape)
            p.data += t * namespace_of(d).reshape(d[offset : offset + n], p.shape)
            p.bump_version_()
            offset += n

    def _evaluate(self, closure: Callable):
        """``closure()`` and the flat gradient it left, both checked finite: ``(returned, loss, flat_grad)``."""
        returned = closure()
        loss = float(returned)
        self._check_grads()
        if not math.isfinite(loss):
            raise FloatingPointError(f"LBFGS.step: the closure returned a loss of {loss}; the parameters and the "
                                     "optimiser's memory were left as they were before the step")  # fmt: skip
        return returned, loss, self._flat_grad()

    # --- the step ----------------------------------------------------------------------------------------
    def step(self, closure: Callable | None = None):
        """Up to ``max_iter`` L-BFGS iterations (see the class docstring); all or nothing."""
        if closure is None or not callable(closure):
            raise TypeError("LBFGS.step needs a closure that zeroes the gradients, computes the loss, calls "
                            f"backward() and returns the loss: opt.step(closure), got {closure!r}")  # fmt: skip
        params = self._params()
        key = params[0]
        d = self.state.get(key, {}).get("d")
        if d is not None and d.__class__ is not params[0].data.__class__:  # model.to(device) after steps (as the base's)
            self.to(params[0].device)
        mem = _Memory.from_state(self.state.get(key, {}))
        start = self._snapshot(params)
        try:
            returned = self._iterate(closure, mem)
            if not all(_all_finite(p.data) for p in params) or (mem.d is not None and not _all_finite(mem.d)):
                raise FloatingPointError(
                    f"LBFGS.step: the update would make a parameter NaN or Inf (lr={self.param_groups[0]['lr']}); "
                    "the parameters and the optimiser's memory keep their values from before this step. Lower lr "
                    "or use line_search_fn='strong_wolfe'."
                )
        except BaseException:
            self._put_back(params, start)
            raise
        self.state[key] = mem.to_state()
        return returned

    def _iterate(self, closure: Callable, mem: _Memory):
        """torch's ``LBFGS.step`` loop on ``mem``; returns what the first ``closure()`` returned."""
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        returned, loss, flat_grad = self._evaluate(closure)
        xp = namespace_of(flat_grad)
        evals = 1
        mem.func_evals += 1
        if xp.max(xp.abs(flat_grad)) <= tolerance_grad:
            return returned
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            mem.n_iter += 1
            if mem.n_iter == 1:
                mem.d, mem.old_dirs, mem.old_stps, mem.ro, mem.H_diag = -flat_grad, [], [], [], 1
            else:
                mem.d = self._direction(mem, flat_grad, group["history_size"])
            mem.prev_flat_grad = flat_grad  # (never written in place: each evaluation makes a new vector)
            mem.prev_loss = loss
            d = mem.d
            mem.t = t = min(1.0, 1.0 / xp.sum(xp.abs(flat_grad))) * lr if mem.n_iter == 1 else lr
            gtd = _dot(flat_grad, d)
            if gtd > -tolerance_change:  # not a descent direction (any more)
                break
            if group["line_search_fn"] == "strong_wolfe":
                x0 = self._snapshot(self._params())

                def obj_func(step_length, x0=x0, d=d):
                    self._add_grad(step_length, d)
                    _, f, g = self._evaluate(closure)
                    self._put_back(self._params(), x0)
                    return f, g

                loss, flat_grad, t, ls_evals = _strong_wolfe(obj_func, t, d, loss, flat_grad, gtd,
                                                             max_ls=max_eval - evals)  # fmt: skip
                mem.t = t
                self._add_grad(t, d)
                opt_cond = xp.max(xp.abs(flat_grad)) <= tolerance_grad
            else:
                self._add_grad(t, d)
                ls_evals = 0
                if n_iter != max_iter:  # (no evaluation after the last iteration: torch's rule for noisy losses)
                    _, loss, flat_grad = self._evaluate(closure)
                    opt_cond = xp.max(xp.abs(flat_grad)) <= tolerance_grad
                    ls_evals = 1
            evals += ls_evals
            mem.func_evals += ls_evals
            if n_iter == max_iter or evals >= max_eval or opt_cond:
                break
            if xp.max(xp.abs(d * t)) <= tolerance_change or abs(loss - mem.prev_loss) < tolerance_change:
                break  # no progress
        return returned

    @staticmethod
    def _direction(mem: _Memory, flat_grad, history_size: int):
        """The new pair ``(y, s)`` into the memory (if ``yᵀs > 1e−10``), then ``d = −H g`` by the two-loop recursion."""
        y = flat_grad - mem.prev_flat_grad
        s = mem.d * mem.t
        ys = _dot(y, s)
        if ys > 1e-10:
            del mem.old_dirs[: max(0, len(mem.old_dirs) - history_size + 1)]  # the oldest pairs make room
            del mem.old_stps[: max(0, len(mem.old_stps) - history_size + 1)]
            del mem.ro[: max(0, len(mem.ro) - history_size + 1)]
            mem.old_dirs.append(y)
            mem.old_stps.append(s)
            mem.ro.append(1.0 / ys)
            mem.H_diag = ys / _dot(y, y)
        if mem.al is None or len(mem.al) < len(mem.old_dirs):
            mem.al = [None] * max(history_size, len(mem.old_dirs))
        al = mem.al
        q = -flat_grad
        for i in range(len(mem.old_dirs) - 1, -1, -1):
            al[i] = _dot(mem.old_stps[i], q) * mem.ro[i]
            q += -al[i] * mem.old_dirs[i]
        r = q * mem.H_diag
        for i in range(len(mem.old_dirs)):
            be_i = _dot(mem.old_dirs[i], r) * mem.ro[i]
            r += (al[i] - be_i) * mem.old_stps[i]
        return r

    # --- state -------------------------------------------------------------------------------------------
    def to(self, device) -> LBFGS:
        """Move the memory to ``device``: its flat vectors, the entries of its lists (``old_dirs``, ``old_stps``,
        ``ro``, ``al``) and its NumPy scalars (``H_diag``, ``ro`` entries on the host), which another array
        library would refuse to mix with its own arrays.  Every entry is moved before any is assigned, so a
        failed move changes nothing."""
        moved = [(state, k, _moved(v, device)) for state in self.state.values() for k, v in state.items()
                 if isinstance(v, list) or _on_a_device(v)]  # fmt: skip
        self._place(moved)
        return self

    def _checked_state_dict(self, state_dict: dict):
        """The base's checks of the groups; the memory (the first parameter's state only) checked here:
        counters, flat vectors of the parameters' total size, lists of them, finite scalars."""
        state = state_dict.get("state") if isinstance(state_dict, dict) else None
        if not isinstance(state, dict):
            return super()._checked_state_dict(state_dict)
        _, new_groups = super()._checked_state_dict({**state_dict, "state": {}})
        name = "LBFGS.load_state_dict"
        params = self._params()
        new_state = {}
        for i, buffers in state.items():
            if str(i) != "0" or not isinstance(buffers, dict):
                raise ValueError(f"{name}: L-BFGS keeps its memory as the state of parameter 0 only (as torch's); "
                                 f"got an entry {i!r}")  # fmt: skip
            if buffers:
                new_state[params[0]] = _checked_memory(buffers, params, new_groups[0]["history_size"], name)
        return new_state, new_groups

    def update(self, p, g, state, group):  # pragma: no cover - step() is overridden
        raise NotImplementedError


def _on_a_device(v) -> bool:
    """An array of any library, or a NumPy scalar (what a 0-d NumPy computation gives)."""
    return _is_array(v) or isinstance(v, np.generic)


def _moved(v, device):
    """``v`` on ``device``: an array or NumPy scalar moved, a list entry by entry, anything else (a count, None) kept."""
    if isinstance(v, list):
        return [_moved(a, device) for a in v]
    return to_device(v, device) if _on_a_device(v) else v


_VECTORS = ("d", "prev_flat_grad")
_LISTS = ("old_dirs", "old_stps")
_SCALARS = ("t", "H_diag", "prev_loss")
_AFTER_FIRST = frozenset((*_VECTORS, *_LISTS, *_SCALARS, "ro"))


def _checked_memory(buffers: dict, params: list, history_size: int, name: str) -> dict:
    """A saved L-BFGS memory, checked and copied onto the parameters' device and dtype."""
    keys = set(buffers)
    expected = {"func_evals", "n_iter"} | (_AFTER_FIRST if keys & _AFTER_FIRST else set())
    unknown, missing = sorted(keys - expected - {"al"}), sorted(expected - keys)
    if unknown or missing:
        raise ValueError(f"{name}: the memory has entries {sorted(keys)}: missing {missing}, unexpected {unknown}")
    for k in ("func_evals", "n_iter"):
        if not (is_int(buffers[k]) and buffers[k] >= 0):
            raise ValueError(f"{name}: {k} must be a count (an integer >= 0), got {repr(buffers[k])[:40]}")
    n = sum(math.prod(p.shape) for p in params)
    like = params[0]

    def vector(what: str, v):
        if not hasattr(v, "shape") or tuple(v.shape) != (n,) or not _all_finite(v):
            raise ValueError(f"{name}: {what} must be a finite flat vector of the parameters' total size {n}, got "
                             f"{type(v).__name__} of shape {getattr(v, 'shape', None)}")  # fmt: skip
        return _copy_to(v, like)

    def scalar(what: str, v):
        if _real(v):
            return v
        if hasattr(v, "shape") and tuple(v.shape) == () and _all_finite(v):
            return _copy_to(v, like)
        raise ValueError(f"{name}: {what} must be a finite number, got {repr(v)[:40]}")

    out = {k: buffers[k] for k in ("func_evals", "n_iter")}
    if "d" in keys:
        out.update({k: vector(k, buffers[k]) for k in _VECTORS})
        out.update({k: scalar(k, buffers[k]) for k in _SCALARS})
        lists = [buffers[k] for k in (*_LISTS, "ro")]
        if not all(isinstance(v, list) for v in lists) or len({len(v) for v in lists}) != 1 or len(lists[0]) > history_size:
            raise ValueError(f"{name}: old_dirs, old_stps and ro must be lists of one length <= history_size "
                             f"({history_size})")  # fmt: skip
        out.update({k: [vector(f"{k}[{j}]", v) for j, v in enumerate(buffers[k])] for k in _LISTS})
        out["ro"] = [scalar(f"ro[{j}]", v) for j, v in enumerate(buffers["ro"])]
    if "al" in keys:
        al = buffers["al"]
        if not isinstance(al, list):
            raise ValueError(f"{name}: al must be a list, got {type(al).__name__}")
        out["al"] = [None if v is None else scalar(f"al[{j}]", v) for j, v in enumerate(al)]
    return out
