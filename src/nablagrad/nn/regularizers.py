"""L1 and L2 penalties on weights; biases (intercepts) are never penalised (lecture 004)."""

from __future__ import annotations

from ..autodiff import Tensor, abs
from .module import Module
from .utils import tensor_list


def penalised_parameters(model: Module) -> list[Tensor]:
    """Weights only: parameters named ``bias``, and those a module lists in its ``unpenalised`` names (PReLU's
    slopes), are skipped.  ``model`` is a module; a list of tensors (``model.parameters()``) is taken as it
    is, every one penalised (it carries no names)."""
    if isinstance(model, Module):
        skipped = {id(getattr(m, name)) for m in model.modules() for name in getattr(m, "unpenalised", ())}
        return [p for name, p in model.named_parameters()
                if not name.split(".")[-1].startswith("bias") and id(p) not in skipped]  # fmt: skip
    return tensor_list(model, "penalty", "a Module (its weights are penalised, biases not) or an iterable of tensors")


def l2_penalty(model: Module, strength: float) -> Tensor | float:
    """``λ Σ w²`` over the weights (ridge / weight decay)."""
    params = penalised_parameters(model)
    return strength * sum((p * p).sum() for p in params) if params and strength else 0.0


def l1_penalty(model: Module, strength: float) -> Tensor | float:
    """``λ Σ |w|`` over the weights (lasso: drives weights to exactly 0)."""
    params = penalised_parameters(model)
    return strength * sum(abs(p).sum() for p in params) if params and strength else 0.0
