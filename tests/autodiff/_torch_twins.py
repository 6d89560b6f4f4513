"""What the transform fuzzers share: nablagrad and PyTorch behind one small interface, and fixed weights."""

from __future__ import annotations

import numpy as np
import torch

import nablagrad as ng


class NGBase:
    lib, F, func = ng, ng.nn.functional, ng

    @staticmethod
    def t(a, grad: bool = False):
        return ng.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)

    @staticmethod
    def host(x) -> np.ndarray:
        return np.asarray(x.detach().numpy())


class THBase:
    lib, F, func = torch, torch.nn.functional, torch.func

    @staticmethod
    def t(a, grad: bool = False):
        return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)

    @staticmethod
    def host(x) -> np.ndarray:
        x = x.detach()
        return np.zeros(tuple(x.shape)) if x._is_zerotensor() else x.numpy()


def weights(shape: tuple, seed: float = 0.3) -> np.ndarray:
    """Deterministic, varied weights: cos(0.7 k + seed) over the entries."""
    n = int(np.prod(shape, dtype=int))
    return np.cos(0.7 * np.arange(n) + seed).reshape(shape)
