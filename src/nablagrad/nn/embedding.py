"""``Embedding`` and ``F.embedding``: a lookup table ``out[..., :] = W[idx[...], :]`` (PyTorch's arguments, values
and gradients).

The gradient of row ``k`` is the sum of the upstream gradients of the positions holding ``k`` (the lookup's
VJP scatters them back), divided by ``k``'s count in the batch with ``scale_grad_by_freq``; the row
``padding_idx`` gets none.  ``max_norm`` rescales, in place and before the lookup, each looked-up row whose
``norm_type``-norm exceeds it to ``max_norm / (‖W_k‖ + 1e−7)`` times itself, as PyTorch's ``embedding_renorm_``.
Unlike ``Linear``'s, the weight is stored as PyTorch stores it, (num_embeddings, embedding_dim).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autodiff import JitError, Tensor, as_tensor, bincount, no_grad, take, where
from ..autodiff.grad_mode import state
from ..backend.checks import is_int, is_real
from ..backend.device import to_device
from . import init as init_mod
from .loss_support import device_arg
from .module import Module, Parameter


class EmbeddingArgumentError(ValueError, AssertionError):
    """A ``padding_idx`` or table shape PyTorch refuses with an ``AssertionError``: a ``ValueError`` too here."""


class IndicesTypeError(TypeError, RuntimeError):
    """Indices that are not integers (PyTorch's ``RuntimeError``): a ``TypeError`` too here."""


def _indices(input, who: str, rows: int) -> Tensor:
    """The indices as an integer tensor (an op input, so a compiled function reads each call's), each in ``[0, rows)``."""
    idx = input if isinstance(input, Tensor) else as_tensor(np.asarray(input) if not hasattr(input, "__array_namespace__")
                                                            else input)  # fmt: skip
    if idx.dtype.kind not in "iu":
        raise IndicesTypeError(f"{who}: expected integer indices (Long or Int), got {idx.dtype}; cast them, e.g. "
                        "idx.astype('int64')")  # fmt: skip
    host = np.asarray(to_device(idx.data, "cpu"))
    if host.size and (host.min() < 0 or host.max() >= rows):
        bad = host[(host < 0) | (host >= rows)].reshape(-1)[0]
        raise IndexError(f"{who}: index {bad} out of range for a table of {rows} rows; give indices in 0..{rows - 1}")
    return idx


def _padding_index(padding_idx, rows: int, who: str) -> int | None:
    """``padding_idx`` as a row in ``[0, rows)`` (a negative one counts from the end), or None."""
    if padding_idx is None:
        return None
    if not is_int(padding_idx):
        raise TypeError(f"{who}: padding_idx must be an int or None, got {type(padding_idx).__name__} {padding_idx!r}")
    if not -rows <= padding_idx < rows:
        raise EmbeddingArgumentError(f"{who}: padding_idx must be within num_embeddings ({rows}), got {padding_idx}")
    return int(padding_idx) % rows


def _renorm_(weight: Tensor, idx: Tensor, max_norm: float, norm_type: float, who: str) -> None:
    """PyTorch's ``embedding_renorm_``: each looked-up row with ``‖W_k‖ > max_norm`` scaled by
    ``max_norm / (‖W_k‖ + 1e−7)``, in place, outside the graph."""
    if state.jit_trace is not None:
        raise JitError(f"{who}: max_norm rewrites the looked-up rows of the weight on every call, which a compiled "
                       "function would not repeat; call it without ng.jit (fit then takes the eager step)")  # fmt: skip
    rows = np.unique(np.asarray(to_device(idx.data, "cpu")))
    w = np.asarray(to_device(weight.data, "cpu"))
    norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if not big.any():
        return
    new = w.copy()
    new[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(w.dtype)
    with no_grad():
        weight.copy_(to_device(new, weight.device))


def embedding(input, weight, padding_idx: int | None = None, max_norm: float | None = None,  # noqa: A002
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:  # fmt: skip
    """Rows of ``weight`` (num_embeddings, embedding_dim) at integer ``input`` of any shape: the result has shape
    ``input.shape + (embedding_dim,)`` (module docstring for the gradient and the options).  ``sparse`` is taken as
    PyTorch takes it; the gradient is dense here (the same values)."""
    who = "embedding"
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        what = f"shape {weight.shape}" if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"{who}: weight must be a 2-D tensor (num_embeddings, embedding_dim), got {what}")
    for name, flag in (("scale_grad_by_freq", scale_grad_by_freq), ("sparse", sparse)):
        if not isinstance(flag, bool | np.bool_):
            raise TypeError(f"{who}: {name} must be True or False, got {flag!r}")
    rows = weight.shape[0]
    pad = _padding_index(padding_idx, rows, who)
    idx = _indices(input, who, rows)
    if max_norm is not None:
        if not is_real(max_norm) or not max_norm > 0 or not is_real(norm_type):
            raise ValueError(f"{who}: max_norm must be a number > 0 and norm_type a number, got {max_norm!r}, {norm_type!r}")
        _renorm_(weight, idx, float(max_norm), float(norm_type), who)
    out = take(weight, idx, axis=0)
    if pad is None and not scale_grad_by_freq:
        return out
    if not scale_grad_by_freq:
        return where((idx != pad).reshape(*idx.shape, 1), out, out.detach())
    counts = take(bincount(idx.reshape(-1), minlength=rows), idx, axis=0)  # each position's row count in the batch
    factor = (1.0 / counts.astype(out.dtype)) * ((idx != pad).astype(out.dtype) if pad is not None else 1.0)
    frozen = out.detach()
    return frozen + (out - frozen) * factor.reshape(*idx.shape, 1)  # the values of ``out``, the gradient scaled


class Embedding(Module):
    """A learned lookup table (PyTorch's ``nn.Embedding``): ``weight`` (num_embeddings, embedding_dim) drawn from
    N(0, 1), the row ``padding_idx`` (if given) zeros and never updated; ``forward(idx)`` is :func:`embedding`."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, device=None, dtype=None,
                 seed=None):  # fmt: skip
        super().__init__()
        device = device_arg("Embedding", device)  # refused before anything is drawn
        for name, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not is_int(n) or n < 0:
                raise (ValueError if is_int(n) else TypeError)(f"Embedding: {name} must be an integer >= 0, got {n!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = _padding_index(padding_idx, self.num_embeddings, "Embedding")
        if max_norm is not None and (not is_real(max_norm) or not max_norm > 0):
            raise ValueError(f"Embedding: max_norm must be a number > 0 or None, got {max_norm!r}")
        self.max_norm, self.norm_type = max_norm, float(norm_type)
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), bool(sparse)
        shape = (self.num_embeddings, self.embedding_dim)
        self._rng = None if seed is None else backend.resolve_rng(seed, "Embedding")  # for reset_parameters
        if _weight is None:
            dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
            self.weight = Parameter(np.zeros(shape, dt), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            w = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
            if tuple(w.shape) != shape:
                raise EmbeddingArgumentError(f"Embedding: shape of weight {tuple(w.shape)} does not match num_embeddings and "
                                 f"embedding_dim {shape}")  # fmt: skip
            self.weight = Parameter(w, requires_grad=not _freeze, dtype=dtype)
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """The table drawn again from N(0, 1), in place, the row ``padding_idx`` (if any) zeros (PyTorch's)."""
        init_mod.normal_(self.weight, 0.0, 1.0, backend.resolve_rng(self._rng))
        if self.padding_idx is not None:
            w = np.array(to_device(self.weight.data, "cpu"))
            w[self.padding_idx] = 0.0
            with no_grad():
                self.weight.copy_(to_device(w, self.weight.device))

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:  # fmt: skip
        """An Embedding holding a copy of the 2-D ``embeddings`` (its rows as they are, the padding row too);
        ``freeze=True`` (the default, as PyTorch's) makes the weight require no gradient."""
        shape = tuple(embeddings.shape) if hasattr(embeddings, "shape") else np.shape(embeddings)
        if len(shape) != 2:
            raise EmbeddingArgumentError(f"Embedding.from_pretrained: embeddings parameter is expected to be 2-dimensional, got "
                             f"shape {shape}")  # fmt: skip
        return cls(shape[0], shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=bool(freeze))  # fmt: skip

    def forward(self, input):  # noqa: A002 - PyTorch's name
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                         self.sparse)  # fmt: skip

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        if self.sparse:
            s += ", sparse=True"
        return s
