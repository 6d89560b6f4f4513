"""``einsum`` from the array API standard's own calls, for libraries that have none.

For explicit subscripts without ``...`` (``"ij,jk->ik"``; the engine makes every einsum explicit
first): a letter repeated inside one operand is its diagonal,
``x[..i..i..] ↦ Σ_j x[..i..j..] δ_ij`` (a product with ``eye`` and a sum); then the operands are
multiplied one by one, each aligned to the letters seen so far by broadcasting, and a letter is
summed away as soon as no later operand and not the output uses it:
``C_out = Σ_{letters ∉ out} Π_k A_k``.  Summation is in a different order than NumPy's, so
results agree to rounding, not to the bit.
"""

from __future__ import annotations

from types import ModuleType


def _diagonals(xp: ModuleType, x, sub: str):
    """``x`` with subscripts ``sub`` reduced to one axis per letter (repeated letters → diagonal)."""
    while len(set(sub)) < len(sub):
        c = next(c for c in sub if sub.count(c) > 1)
        p, q = [i for i, s in enumerate(sub) if s == c][:2]
        rest = [i for i in range(len(sub)) if i not in (p, q)]
        x = xp.permute_dims(x, (*rest, p, q))
        n = x.shape[-1]
        x = xp.sum(x * xp.eye(n, dtype=x.dtype, device=x.device), axis=-1)
        sub = "".join(sub[i] for i in rest) + c
    return x, sub


def _aligned(xp: ModuleType, x, sub: str, letters: str):
    """``x`` (subscripts ``sub``, a subset of ``letters``) permuted and reshaped to broadcast over ``letters``."""
    order = sorted(range(len(sub)), key=lambda i: letters.index(sub[i]))
    x = xp.permute_dims(x, tuple(order))
    shape = dict(zip((sub[i] for i in order), x.shape))
    return xp.reshape(x, tuple(shape.get(c, 1) for c in letters))


def einsum(xp: ModuleType, subscripts: str, *operands):
    """``einsum(subscripts, *operands)`` with standard calls only (explicit subscripts, no ``...``)."""
    ins, out = subscripts.replace(" ", "").split("->")
    subs = ins.split(",")
    acc, letters = None, ""
    for k, (sub, x) in enumerate(zip(subs, operands)):
        x, sub = _diagonals(xp, x, sub)
        letters += "".join(c for c in sub if c not in letters)
        term = _aligned(xp, x, sub, letters)
        acc = term if acc is None else _aligned(xp, acc, letters[: acc.ndim], letters) * term
        later = out + "".join(subs[k + 1 :])
        done = tuple(i for i, c in enumerate(letters) if c not in later)
        if done:
            acc = xp.sum(acc, axis=done)
            letters = "".join(c for c in letters if c in later)
    return xp.permute_dims(acc, tuple(letters.index(c) for c in out))
