"""Contractions: ``einsum`` as one multilinear primitive, and ``tensordot``, ``outer``,
``inner``, ``kron``, ``dot``, ``vdot`` written as einsums (their derivatives come from it).

einsum is linear in each operand, so its JVP is the same einsum with that operand replaced by
its tangent, and its VJP for operand k is an einsum of the output adjoint with the other
operands onto operand k's subscripts: for ``C = Σ_j A_ij B_jk``, ``∂L/∂A = Σ_k G_ik B_jk``.
Letters that occur only in operand k (summed away, or broadcast from size 1) are put back by
broadcasting; a letter repeated in operand k (a diagonal, ``"ii->i"``) by an identity factor.
"""

from __future__ import annotations

import string
from collections.abc import Sequence

import numpy as np

from ..backend.namespace import NUMPY, namespace_of
from . import ops
from .primitive import Primitive, constant_like, function
from .tensor import Tensor, _apply, tensor


class _Einsum(Primitive):
    """``einsum(*operands, subscripts)`` with explicit subscripts (``"ij,jk->ik"``, no ``...``)."""

    def vjp(self, F, g, ans, args, params, needs):
        return [_einsum_vjp(F, g, args, params["subscripts"], k) if need else None for k, need in enumerate(needs)]

    def jvp(self, F, tangents, ans, args, params):
        out = None
        for k, t in enumerate(tangents):
            if t is not None:
                d = F.apply(self, (*args[:k], t, *args[k + 1 :]), params)
                out = d if out is None else out + d
        return out


def _einsum_np(*operands, subscripts: str):
    xp = namespace_of(operands[0])
    if xp is NUMPY:
        return np.einsum(subscripts, *operands, optimize=len(operands) > 2)
    return xp.einsum(subscripts, *operands)  # the adapter: the library's einsum, or one from standard calls


def _einsum_batch(F, prim, args, batched, params):
    """vmap: a fresh letter for the batch axis, leading in the batched operands and the output."""
    subscripts = params["subscripts"]
    z = next(c for c in string.ascii_letters if c not in subscripts)
    ins, out = _split_subscripts(subscripts)
    new = ",".join(z + s if b else s for s, b in zip(ins, batched)) + "->" + z + out
    return F.apply(prim, args, {"subscripts": new})


EINSUM = _Einsum("einsum", _einsum_np, (), (), "einsum(…)", batch=_einsum_batch)


def _split_subscripts(subscripts: str) -> tuple[list[str], str]:
    ins, out = subscripts.split("->")
    return ins.split(","), out


def _einsum_vjp(F, g, args, subscripts: str, k: int):
    """∂L/∂(operand k): contract ``g`` with the other operands onto operand k's letters."""
    ins, out = _split_subscripts(subscripts)
    mine, shape = ins[k], tuple(np.shape(args[k]))  # per-example shapes inside vmap
    size = dict(zip(out, np.shape(g)))
    for sub, a in zip(ins, args):
        for letter, n in zip(sub, np.shape(a)):
            size[letter] = max(size.get(letter, 1), n)
    others = [(sub, a) for i, (sub, a) in enumerate(zip(ins, args)) if i != k]
    seen = out + "".join(sub for sub, _ in others)
    unique = "".join(dict.fromkeys(mine))
    mine_size = dict(zip(mine, shape))
    kept = "".join(c for c in unique if c in seen and mine_size[c] == size[c])
    h = F.apply(EINSUM, (g, *(a for _, a in others)), {"subscripts": ",".join([out] + [s for s, _ in others]) + "->" + kept})
    # expand back the letters summed inside operand k alone, or broadcast from 1 in operand k — and those of
    # size n in operand k met only with size 1 elsewhere ("ij,jk->ik", j of sizes 1 and n): h has 1 there, and
    # ∂L/∂B_jk = Σ_i G_ik A_i0 is the same for every j
    h_size = dict(zip(kept, np.shape(h)))
    if kept != unique or any(h_size[c] != mine_size[c] for c in kept):
        h = F.reshape(h, tuple(h_size[c] if c in kept else 1 for c in unique))
        h = F.broadcast_to(h, tuple(mine_size[c] for c in unique))
    if len(unique) == len(mine):
        return h
    # a letter repeated in operand k: its gradient lives on the diagonal; rename each repeat
    # and multiply by an identity so that out[..i..i'..] = h[..i..] δ(i, i')
    fresh = iter(c for c in string.ascii_letters if c not in subscripts)
    renamed, eyes, firsts = [], [], set()
    for c in mine:
        if c in firsts:
            r = next(fresh)
            renamed.append(r)
            eyes.append((c + r, constant_like(F, g, np.eye(mine_size[c]))))  # an identity on g's device
        else:
            firsts.add(c)
            renamed.append(c)
    sub = ",".join([unique] + [s for s, _ in eyes]) + "->" + "".join(renamed)
    return F.apply(EINSUM, (h, *(e for _, e in eyes)), {"subscripts": sub})


def explicit_subscripts(subscripts: str, ndims: Sequence[int]) -> str:
    """NumPy's einsum notation made explicit: ``...`` replaced by letters, the implicit output
    (letters used once, in alphabetical order, after the broadcast ones) written out."""
    subscripts = subscripts.replace(" ", "")
    ins, arrow, out = subscripts.partition("->")
    parts = ins.split(",")
    if len(parts) != len(ndims):
        raise ValueError(f"einsum: {subscripts!r} names {len(parts)} operands but {len(ndims)} were given")
    free = [c for c in string.ascii_letters if c not in subscripts]
    n_ell = max((nd - (len(p) - 3) for p, nd in zip(parts, ndims) if "..." in p), default=0)
    ell = "".join(free[:n_ell])
    explicit = []
    for p, nd in zip(parts, ndims):
        if "..." in p:
            p = p.replace("...", ell[n_ell - (nd - (len(p) - 3)) :])
        if len(p) != nd:
            raise ValueError(f"einsum: operand subscripts {p!r} do not match an operand with {nd} dimensions")
        explicit.append(p)
    if arrow:
        out = out.replace("...", ell)
    else:
        letters = "".join(explicit)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return ",".join(explicit) + "->" + out


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _sublist_letter(label) -> str:
    """One label of the sublist form: an int in 0..51 (0–25 'a'–'z', 26–51 'A'–'Z', as NumPy) or ``...``."""
    if label is Ellipsis:
        return "..."
    if isinstance(label, int | np.integer) and not isinstance(label, bool) and 0 <= label < 52:
        return string.ascii_letters[label]
    raise ValueError(f"einsum: a sublist label must be an int in 0..51 or Ellipsis, got {label!r}")


def _from_sublists(args: tuple) -> tuple[str, tuple]:
    """``einsum(op₀, [0, 1], op₁, [1, 2], [0, 2])`` (PyTorch's and NumPy's sublist form) as
    ``("ab,bc->ac", (op₀, op₁))``: operands and their label lists alternate, an output list may end them."""
    operands, subs = args[0::2], [args[i] for i in range(1, len(args), 2)]
    out = None
    if len(args) % 2:  # an odd count: the last item is the output's labels
        operands, out = operands[:-1], args[-1]
    for sub in subs + ([] if out is None else [out]):
        if isinstance(sub, Tensor | np.ndarray | str) or not isinstance(sub, Sequence):
            raise TypeError(
                f"einsum: in the sublist form operands and label lists alternate, einsum(x, [0, 1], y, [1, 2], [0, 2]); "
                f"got {type(sub).__name__} where a list of labels belongs"
            )
    text = ",".join("".join(_sublist_letter(c) for c in sub) for sub in subs)
    if out is not None:
        text += "->" + "".join(_sublist_letter(c) for c in out)
    return text, tuple(operands)


def _check_sizes(subscripts: str, explicit: str, shapes: list[tuple[int, ...]]) -> None:
    """A letter's sizes across operands must be equal or 1 (broadcast); otherwise an error naming the letter
    (or the ``...`` it stands for), the operands and their shapes (NumPy's own message shows remapped shapes)."""
    seen: dict[str, tuple[int, int]] = {}  # letter -> (size, operand), a size other than 1 once there is one
    for k, (letters, shape) in enumerate(zip(_split_subscripts(explicit)[0], shapes)):
        for c, n in zip(letters, shape):
            size, first = seen.get(c, (1, k))
            if n != size and 1 not in (n, size) and first != k:
                what = f"subscript {c!r}" if c in subscripts else "a dimension covered by '...'"
                raise ValueError(
                    f"einsum: {subscripts!r}: {what} has size {n} in operand {k} (shape {shape}) but {size} in "
                    f"operand {first} (shape {shapes[first]}); sizes of one subscript must be equal, or 1 to broadcast"
                )
            if size == 1:
                seen[c] = (n, k)


@function(method=False)
def einsum(subscripts: str, *operands):
    """Einstein summation, NumPy's notation (``"ij,jk->ik"``, ``...``, implicit output); operands
    as arguments or one list (PyTorch), or the sublist form ``einsum(x, [0, 1], y, [1, 2], [0, 2])``.
    VJP for operand k: the einsum of the output adjoint with the other operands onto k's
    subscripts; JVP: Σ_k einsum(…, ẋ_k, …)."""
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists((subscripts, *operands))
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    ts = ops.promote_all(operands)
    sub = explicit_subscripts(subscripts, [t.ndim for t in ts])
    _check_sizes(subscripts, sub, [t.shape for t in ts])
    try:
        np.einsum(sub, *(np.empty(t.shape, dtype=np.uint8) for t in ts))  # shapes checked, nothing computed
    except ValueError as exc:
        shapes = ", ".join(str(t.shape) for t in ts)
        raise ValueError(f"einsum: {subscripts!r} does not fit operands of shapes {shapes}: {exc}") from None
    return _apply(EINSUM, ts, {"subscripts": sub})


def _axes_pair(axes, na: int, nb: int) -> tuple[list[int], list[int]]:
    """tensordot's pairs of contracted axes: an int n pairs a's last n with b's first n."""
    if isinstance(axes, int):
        if not 0 <= axes <= min(na, nb):
            raise ValueError(
                f"tensordot: axes={axes} contracts more dims than the operands have ({na} and {nb} dimensions); "
                f"give an int in 0..{min(na, nb)} or two lists of axes, e.g. axes=([1], [0])"
            )
        return list(range(na - axes, na)), list(range(axes))
    a_axes, b_axes = axes
    a_axes = [a_axes] if isinstance(a_axes, int) else list(a_axes)
    b_axes = [b_axes] if isinstance(b_axes, int) else list(b_axes)
    return [i % na for i in a_axes], [i % nb for i in b_axes]


@function(method=False)
def tensordot(a, b, axes=2, dims=None):
    """Σ over the paired ``axes`` of ``a`` and ``b`` (an int n: a's last n with b's first n);
    ``dims=`` is PyTorch's name.  An einsum, so its derivatives are einsum's."""
    a, b = _t(a), _t(b)
    axes = axes if dims is None else dims
    a_axes, b_axes = _axes_pair(axes, a.ndim, b.ndim)
    if len(a_axes) != len(b_axes) or any(a.shape[i] != b.shape[j] for i, j in zip(a_axes, b_axes)):
        raise ValueError(f"tensordot: axes {a_axes} of shape {a.shape} do not pair with axes {b_axes} of shape {b.shape}")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(a_axes, b_axes):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in a_axes] + [c for j, c in enumerate(sb) if j not in b_axes]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


@function(method=True)
def outer(a, b):
    """Outer product of the flattened operands, ``out_ij = a_i b_j`` (torch.outer, np.outer)."""
    a, b = _t(a), _t(b)
    return einsum("i,j->ij", a.reshape(-1), b.reshape(-1))


@function(method=True)
def inner(a, b):
    """Σ over the last axes: ``out[I, J] = Σ_k a[I, k] b[J, k]`` (np.inner, torch.inner)."""
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=([-1], [-1]))


@function(method=True)
def dot(a, b):
    """NumPy's dot: a scalar factor, the inner product of vectors, otherwise a Σ over a's last
    axis and b's second-to-last (b's only, for a vector)."""
    a, b = _t(a), _t(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, axes=([-1], [max(b.ndim - 2, 0)]))


@function(method=True)
def vdot(a, b):
    """Σ_i a_i b_i over the flattened operands (real tensors: no conjugation)."""
    a, b = _t(a), _t(b)
    if a.size != b.size:
        raise ValueError(f"vdot: operands of shapes {a.shape} and {b.shape} have different sizes")
    return einsum("i,i->", a.reshape(-1), b.reshape(-1))


@function(method=True)
def kron(a, b):
    """Kronecker product: ``out[i·p + k, j·q + l] = a[i, j] b[k, l]`` (any ndim; the shorter
    operand gains leading axes of size 1)."""
    a, b = _t(a), _t(b)
    nd = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (nd - a.ndim) + a.shape)
    b = b.reshape((1,) * (nd - b.ndim) + b.shape)
    la, lb = string.ascii_letters[:nd], string.ascii_letters[nd : 2 * nd]
    prod = einsum(f"{la},{lb}->" + "".join(x + y for x, y in zip(la, lb)), a, b)
    return prod.reshape(tuple(p * q for p, q in zip(a.shape, b.shape)))
