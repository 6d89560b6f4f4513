"""The ``Optimizer`` base: parameter groups, per-parameter state, ``state_dict``, safe steps.

A step first validates every gradient (shape, dtype, finiteness); only then does it write,
so a failed ``step()`` leaves all parameters exactly as they were.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np

from ..autodiff import Tensor
from . import flat


class Optimizer:
    """Base class: ``param_groups`` (list of dicts with ``params`` and hyper-parameters) and
    ``state`` (per-parameter buffers such as moments).  Subclasses implement :meth:`update`;
    those whose update is elementwise set ``elementwise = True`` and are stepped over one flat
    buffer per group (:mod:`.flat`)."""

    elementwise = False

    def __init__(self, params: Iterable, defaults: dict):
        self.defaults = dict(defaults)
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.param_groups: list[dict] = []
        for g in groups:
            self.add_param_group(g)
        self.state: dict[int, dict] = {}

    def add_param_group(self, group: dict) -> None:
        params = list(group["params"])
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: can only optimise tensors with requires_grad=True")
        for k in group:
            if k != "params" and k not in self.defaults:
                raise ValueError(f"{type(self).__name__}: unknown option {k!r}; known: {sorted(self.defaults)}")
        full = {**self.defaults, **group, "params": params}
        self._validate(full)
        self.param_groups.append(full)

    def _validate(self, group: dict) -> None:
        lr = group.get("lr")
        if lr is not None and not (isinstance(lr, int | float) and lr >= 0):
            raise ValueError(f"{type(self).__name__}: lr must be a non-negative number, got {lr!r}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def _check_grads(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if g.shape != p.shape:
                    raise ValueError(f"{type(self).__name__}.step: a gradient has shape {g.shape} but its parameter {p.shape}")
                if not np.all(np.isfinite(g.data)):
                    raise FloatingPointError(
                        f"{type(self).__name__}.step: a gradient of a parameter of shape {p.shape} contains NaN or Inf; "
                        "parameters were left unchanged. Likely causes: a learning rate that is too large, log or "
                        "division by 0 in the loss; lower lr or clip gradients."
                    )

    def step(self, closure=None):
        """One update of every parameter that has a gradient."""
        loss = closure() if closure is not None else None
        self._check_grads()
        for group in self.param_groups:
            if flat.step_group(self, group):
                continue
            for p in group["params"]:
                if p.grad is not None:
                    self.update(p, p.grad.data, self.state.setdefault(id(p), {}), group)
        return loss

    def update(self, p: Tensor, g: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    def scratch(self, p: Tensor) -> np.ndarray:
        """A work buffer shaped like ``p`` (not part of the state), so updates make no temporaries."""
        buffers = self.__dict__.setdefault("_scratch", {})
        buf = buffers.get(id(p))
        if buf is None or buf.shape != p.shape or buf.dtype != p.dtype:
            buf = buffers[id(p)] = np.empty_like(p.data)
        return buf

    # --- state ---------------------------------------------------------------------------
    def _index(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def state_dict(self) -> dict:
        """Hyper-parameters of each group and the buffers of each parameter, keyed by position."""
        params = self._index()
        state = {i: copy.deepcopy(self.state[id(p)]) for i, p in enumerate(params) if id(p) in self.state}
        groups, start = [], 0
        for g in self.param_groups:
            n = len(g["params"])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": list(range(start, start + n))})
            start += n
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        params = self._index()
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
            len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)
        ):
            raise ValueError("load_state_dict: the saved optimiser has a different number of parameters or groups")
        for i, buffers in state_dict["state"].items():
            p = params[int(i)]
            for k, v in buffers.items():
                if isinstance(v, np.ndarray) and v.shape != p.shape:
                    raise ValueError(f"load_state_dict: buffer {k!r} has shape {v.shape}, parameter {p.shape}")
        self.state = {id(params[int(i)]): copy.deepcopy(b) for i, b in state_dict["state"].items()}
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({opts})"
