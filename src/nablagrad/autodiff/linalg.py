"""``ng.linalg``: matrix functions with their VJP and JVP, batched over leading axes.

Each decomposition is one primitive whose rules are the classical matrix-calculus results
(Giles 2008, "Extended collection of matrix derivative results"; Murray 2016 for Cholesky),
written in the same conventions as PyTorch's ``linalg`` backward formulas, so gradients agree
with PyTorch wherever PyTorch's are finite.  Conventions at degenerate inputs (as PyTorch):

* ``inv``/``det``/``solve``/``slogdet`` need an invertible matrix: a singular one gives ±∞/NaN;
* ``eigh``'s eigenvector gradient divides by ``λ_j − λ_i``: repeated eigenvalues give ∞/NaN
  (the eigenvalues' own gradient ``V diag(ḡ) Vᵀ`` stays finite);
* ``svd``'s singular-vector gradient divides by ``σ_j² − σ_i²`` and by ``σ``: repeated or zero
  singular values give ∞/NaN (``svdvals`` and the nuclear/2-norm stay finite while σ is simple).

Decompositions with several outputs (``eigh``, ``svd``, ``qr``) are one primitive whose value
packs the outputs side by side in one array; the public function unpacks them, so one rule
sees every output's cotangent.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..backend.namespace import NUMPY, namespace_of
from . import ops
from .grad_mode import no_grad
from .primitive import ANS, Primitive, constant_like, row
from .rules_contract import einsum
from .rules_reduce import _exclusive_prod, _exclusive_prod_recorded
from .rules_shape import flip
from .tensor import TENSOR_NS, Tensor, _apply, tensor


def _t(x) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


def _T(F, x):  # noqa: N802 - the matrix transpose, as in the formulas
    return F.swapaxes(x, -1, -2)


def _mm(F, *xs):
    out = xs[0]
    for x in xs[1:]:
        out = F.matmul(out, x)
    return out


def _shape(F, x) -> tuple[int, ...]:
    """The (per-example, inside ``vmap``) shape of an array or Tensor."""
    return tuple(np.shape(x))


def _eye(F, n: int, x):
    return constant_like(F, x, np.eye(n))


def _col(F, v):
    """A batch of vectors (..., n) as diagonal matrices' scale: (..., 1, n) broadcasts over rows."""
    return F.expand_dims(v, -2)


def _diag(F, v):
    """diag(v) for a batch of vectors (..., n)."""
    n = _shape(F, v)[-1]
    return F.expand_dims(v, -1) * _eye(F, n, v)


def _diagonal(F, x):
    """The diagonal of a batch of square matrices (..., n, n) → (..., n)."""
    n = _shape(F, x)[-1]
    return F.sum(x * _eye(F, n, x), axis=-1)


def _inv(F, x):
    return F.apply(INV, (x,), {})


def _nonzero(F, g) -> bool:
    """Whether a cotangent has a nonzero entry: the singular/eigen-vector terms, which divide by
    gaps between values, are skipped when their cotangent is 0 (PyTorch's undefined gradient)."""
    data = F.data(g)
    return bool(namespace_of(data).any(data != 0))


def _pair_weights(F, s):
    """``W_ij = 1/(s_j − s_i)`` off the diagonal, 0 on it (the eigen/singular vector weights)."""
    n = _shape(F, s)[-1]
    eye = _eye(F, n, s)
    diff = F.expand_dims(s, -2) - F.expand_dims(s, -1)
    return (1.0 - eye) / (diff + eye)


# --- inv, det, slogdet, solve ---------------------------------------------------------------------
INV = Primitive(
    "inv",
    np.linalg.inv,
    # d(A⁻¹) = −A⁻¹ dA A⁻¹, so ∂L/∂A = −A⁻ᵀ G A⁻ᵀ
    (lambda F, g, ans, a: -_mm(F, _T(F, ans), g, _T(F, ans)),),
    (lambda F, t, ans, a: -_mm(F, ans, t, ans),),
    fmt="inv({0})",
)


# e^A by scaling and squaring with the [13/13] Padé approximant (Higham 2005, "The scaling and squaring method for
# the matrix exponential revisited"): A/2ˢ with ‖A/2ˢ‖₁ ≤ θ₁₃, r₁₃(A/2ˢ) = (V − U)⁻¹(V + U), squared s times.
_PADE13 = (
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
)
_THETA13 = 5.371920351148152


def _matrix_exp_value(a):
    """e^A for a batch of square matrices (..., n, n), each scaled by its own power of 2, computed in float64 (float32
    input is rounded back; another library's array is computed on the host and copied back, as erf's)."""
    xp = namespace_of(a)
    if xp is not NUMPY:
        return xp.asarray(_matrix_exp_value(xp.to_numpy(a)), device=a.device)
    dtype = a.dtype
    a = np.asarray(a, dtype=np.float64)
    n = a.shape[-1]
    norm = np.abs(a).sum(axis=-2).max(axis=-1, initial=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero matrix: log2(0) = −∞, clipped to s = 0
        s = np.ceil(np.log2(norm / _THETA13))
    s = np.where(np.isfinite(s) & (s > 0), s, 0).astype(np.int64)
    a = a * (0.5**s)[..., None, None]
    b = _PADE13
    eye = np.eye(n)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    r = np.linalg.solve(v - u, v + u) if n else v
    for k in range(int(s.max(initial=0))):  # square each matrix as often as it was halved
        r = np.where((k < s)[..., None, None], r @ r, r)
    return r.astype(dtype if dtype.kind in "fc" else np.float64, copy=False)


def _upper_right(F, top_left, top_right, like):
    """The (…, n, n) upper-right block of e^M, M = [[top_left, top_right], [0, top_left]]: the Fréchet derivative
    of e^X at top_left in the direction top_right (Mathias 1996)."""
    n = _shape(F, like)[-1]
    lower = F.concatenate([F.zeros(_shape(F, like), like.dtype, like=F.data(like)), top_left], axis=-1)
    block = F.concatenate([F.concatenate([top_left, top_right], axis=-1), lower], axis=-2)
    return F.getitem(F.apply(MATRIX_EXP, (block,), {}), (Ellipsis, slice(0, n), slice(n, 2 * n)))


# d e^A = L(A, dA), the Fréchet derivative; its adjoint is L(Aᵀ, G) (both the upper-right block of one exponential)
MATRIX_EXP = Primitive(
    "matrix_exp",
    _matrix_exp_value,
    (lambda F, g, ans, a: _upper_right(F, _T(F, a), g, a),),
    (lambda F, t, ans, a: _upper_right(F, a, t, a),),
    fmt="matrix_exp({0})",
    reads=((0,),),
)


def _cholesky_solve_value(b, factor, upper: bool = False):
    """X = A⁻¹B for A = L Lᵀ (or Uᵀ U): two triangular solves reading only the factor's triangle."""
    xp = namespace_of(factor)
    low = xp.swapaxes(factor, -1, -2) if upper else factor
    low = xp.tril(low)
    y = xp.linalg.solve(low, b)
    return xp.linalg.solve(xp.swapaxes(low, -1, -2), y)


def _cholesky_solve_b(F, g, ans, b, factor, upper=False):
    """∂L/∂B = A⁻¹ G, one more solve with the same factor."""
    return F.apply(CHOLESKY_SOLVE, (g, factor), {"upper": upper})


def _cholesky_solve_factor(F, g, ans, b, factor, upper=False):
    """∂L/∂L = −(C + Cᵀ) L with C = (A⁻¹G) Xᵀ (−U (C + Cᵀ) for ``upper``): PyTorch's cholesky_solve_backward, which
    treats every entry of the factor as read (A = L Lᵀ)."""
    c = _mm(F, _cholesky_solve_b(F, g, ans, b, factor, upper), _T(F, ans))
    c = c + _T(F, c)
    return -_mm(F, factor, c) if upper else -_mm(F, c, factor)


def _cholesky_solve_jvp_factor(F, t, ans, b, factor, upper=False):
    """Ẋ = −A⁻¹ Ȧ X with Ȧ = L̇ Lᵀ + L L̇ᵀ (U̇ᵀ U + Uᵀ U̇): PyTorch's cholesky_solve_jvp."""
    k = _mm(F, _T(F, t), factor) if upper else _mm(F, t, _T(F, factor))
    return -F.apply(CHOLESKY_SOLVE, (_mm(F, k + _T(F, k), ans), factor), {"upper": upper})


CHOLESKY_SOLVE = Primitive(
    "cholesky_solve",
    _cholesky_solve_value,
    (_cholesky_solve_b, _cholesky_solve_factor),
    (
        lambda F, t, ans, b, factor, upper=False: F.apply(CHOLESKY_SOLVE, (t, factor), {"upper": upper}),
        _cholesky_solve_jvp_factor,
    ),
    fmt="cholesky_solve({0}, {1})",
    reads=((1,), (1, ANS)),
)


def _scalar_to_matrix(F, s):
    return F.expand_dims(F.expand_dims(s, -1), -1)


def _cofactor_svd(a):
    """cof A = det(U Vᵀ) · U diag(Π_{j≠i} σ_j) Vᵀ from A = U diag(σ) Vᵀ: equal to det A · A⁻ᵀ,
    and defined at a singular A too (PyTorch's det gradient there)."""
    linalg = namespace_of(a).linalg
    u, s, vt = linalg.svd(a)
    others = _exclusive_prod(s, -1)
    sign = linalg.det(u) * linalg.det(vt)
    return sign[..., None, None] * (u * others[..., None, :]) @ vt


def _cofactor_svd_recorded(a: Tensor) -> Tensor:
    """:func:`_cofactor_svd` with recorded ops (a create_graph or forward-mode rule at a singular A), so the
    derivatives of det's gradient are those of the SVD and of Π_{j≠i} σ_j — PyTorch's double backward of det,
    exact at a singular A (where the second derivative of det is not 0)."""
    u, s, vh = svd(a, full_matrices=False)
    with no_grad():  # det U · det Vh = ±1, piecewise constant: d det U = det U · tr(Uᵀ dU) = 0 (Uᵀ dU is skew)
        sign = det(u) * det(vh)
    others = _exclusive_prod_recorded(s, -1)
    return sign.reshape(sign.shape + (1, 1)) * (u * others.reshape(others.shape[:-1] + (1, -1))) @ vh


def _cofactor(F, ans, a):
    """∂ det A / ∂A = cof A = det A · A⁻ᵀ (Jacobi's formula); at a singular A, where A⁻¹ does not
    exist, the SVD form of :func:`_cofactor_svd` (recorded when the rule is, so that higher
    derivatives are exact there too).  Off NumPy a matrix is singular when its determinant is 0
    (not every library raises in ``inv``)."""
    data = F.data(a)
    xp = namespace_of(data)
    try:
        if xp is not NUMPY and not bool(xp.all(F.data(ans) != 0)):
            raise np.linalg.LinAlgError("singular matrix")
        inv_t = _T(F, _inv(F, a))  # NumPy's inv raises LinAlgError at a singular A (so does its op)
    except np.linalg.LinAlgError:
        if isinstance(a, Tensor):  # recorded: differentiable again
            return _cofactor_svd_recorded(a)
        cof = _cofactor_svd(data)
        return F.astype(cof, xp.numpy_dtype(cof.dtype))
    return _scalar_to_matrix(F, ans) * inv_t


DET = Primitive(
    "det",
    np.linalg.det,
    (lambda F, g, ans, a: _scalar_to_matrix(F, g) * _cofactor(F, ans, a),),
    (lambda F, t, ans, a: F.sum(_cofactor(F, ans, a) * t, axis=(-2, -1)),),
    fmt="det({0})",
)


def _inv_t(F, a):
    """A⁻ᵀ, the gradient of log|det A|; a singular A (log|det A| = −∞) has none."""
    try:
        return _T(F, _inv(F, a))
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(
            f"linalg.slogdet: a matrix of shape {_shape(F, a)} is singular (log|det A| = −inf), so the gradient "
            "A⁻ᵀ of log|det A| does not exist; regularise it (A + εI) before taking slogdet"
        ) from None


LOGABSDET = Primitive(
    "logabsdet",
    lambda a: namespace_of(a).linalg.slogdet(a)[1],
    # ∂ log|det A| / ∂A = A⁻ᵀ
    (lambda F, g, ans, a: _scalar_to_matrix(F, g) * _inv_t(F, a),),
    (lambda F, t, ans, a: F.sum(_inv_t(F, a) * t, axis=(-2, -1)),),
    fmt="logabsdet({0})",
)


def _solve_db(F, g, ans, a, b):
    return F.apply(SOLVE, (_T(F, a), g), {})


SOLVE = Primitive(
    "solve",
    np.linalg.solve,
    # X = A⁻¹B: ∂L/∂B = A⁻ᵀ G, ∂L/∂A = −(A⁻ᵀ G) Xᵀ; Ẋ = A⁻¹(Ḃ − Ȧ X)
    (lambda F, g, ans, a, b: -F.matmul(_solve_db(F, g, ans, a, b), _T(F, ans)), _solve_db),
    (
        lambda F, t, ans, a, b: -F.apply(SOLVE, (a, F.matmul(t, ans)), {}),
        lambda F, t, ans, a, b: F.apply(SOLVE, (a, t), {}),
    ),
    fmt="solve({0}, {1})",
)


# --- lstsq ---------------------------------------------------------------------------------------
def _lstsq_value(a, b, rcond: float):
    """X = A⁺B = V diag(σ⁺) Uᵀ B from A = U diag(σ) Vᵀ, σ⁺ = 1/σ for σ > rcond · σ_max and 0 below:
    the least-squares solution of least norm (σ descending, so σ_max is the first)."""
    xp = namespace_of(a)
    u, s, vt = xp.linalg.svd(a, full_matrices=False)
    kept = s > rcond * s[..., :1]
    s_inv = xp.where(kept, 1 / xp.where(kept, s, xp.ones_like(s)), xp.zeros_like(s))
    return xp.matmul(xp.swapaxes(vt, -1, -2) * s_inv[..., None, :], xp.matmul(xp.swapaxes(u, -1, -2), b))


def _lstsq(F, a, y, rcond: float):
    """A⁺Y, recorded under F (so the rules below differentiate again)."""
    return F.apply(LSTSQ, (a, y), {"rcond": rcond})


def _lstsq_vjp_a(F, g, ans, a, b, rcond):
    """∂L/∂A = −Z Xᵀ + R (A⁺Z)ᵀ + (A⁺ᵀX) ((I − A⁺A) G)ᵀ with Z = A⁺ᵀG, R = B − AX: the transpose of
    dA⁺ = −A⁺ dA A⁺ + A⁺A⁺ᵀ dAᵀ (I − AA⁺) + (I − A⁺A) dAᵀ A⁺ᵀA⁺ (Golub & Pereyra 1973; PyTorch's
    pinv_backward) applied to B, with A⁺ᵀ = (Aᵀ)⁺ — two solves, each of two right-hand sides side by side."""
    k = _shape(F, g)[-1]
    first = _lstsq(F, _T(F, a), F.concatenate([g, ans], axis=-1), rcond)  # A⁺ᵀ [G | X]
    z, y = F.getitem(first, (Ellipsis, slice(None, k))), F.getitem(first, (Ellipsis, slice(k, None)))
    second = _lstsq(F, a, F.concatenate([z, F.matmul(a, g)], axis=-1), rcond)  # A⁺ [Z | A G]
    pz, pag = F.getitem(second, (Ellipsis, slice(None, k))), F.getitem(second, (Ellipsis, slice(k, None)))
    r = b - F.matmul(a, ans)
    return -F.matmul(z, _T(F, ans)) + F.matmul(r, _T(F, pz)) + F.matmul(y, _T(F, g - pag))


def _lstsq_jvp_a(F, t, ans, a, b, rcond):
    """Ẋ = dA⁺ B = A⁺(A⁺ᵀȦᵀR − ȦX − AW) + W with W = Ȧᵀ A⁺ᵀX, R = B − AX (dA⁺ as in :func:`_lstsq_vjp_a`)."""
    k = _shape(F, ans)[-1]
    r = b - F.matmul(a, ans)
    first = _lstsq(F, _T(F, a), F.concatenate([F.matmul(_T(F, t), r), ans], axis=-1), rcond)  # A⁺ᵀ [Ȧᵀ R | X]
    w = F.matmul(_T(F, t), F.getitem(first, (Ellipsis, slice(k, None))))
    return _lstsq(F, a, F.getitem(first, (Ellipsis, slice(None, k))) - F.matmul(t, ans) - F.matmul(a, w), rcond) + w


LSTSQ = Primitive(
    "lstsq",
    _lstsq_value,
    # X = A⁺B: ∂L/∂B = A⁺ᵀ G = (Aᵀ)⁺ G; Ẋ = A⁺Ḃ from B
    (_lstsq_vjp_a, lambda F, g, ans, a, b, rcond: _lstsq(F, _T(F, a), g, rcond)),
    (_lstsq_jvp_a, lambda F, t, ans, a, b, rcond: _lstsq(F, a, t, rcond)),
    fmt="lstsq({0}, {1})",
    reads=((0, 1, ANS), (0,)),
)


# --- cholesky -------------------------------------------------------------------------------------
def _phi(F, x):
    """Φ(X): the lower triangle of X with its diagonal halved."""
    n = _shape(F, x)[-1]
    return x * constant_like(F, x, np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n))


def _cholesky_value(a, upper: bool = False):
    """L with L Lᵀ = A from ``a``'s lower triangle, or (``upper``) from its upper one — the lower triangle of Aᵀ,
    so L is then Uᵀ (PyTorch's ``cholesky(upper=True)`` reads the upper triangle)."""
    xp = namespace_of(a)
    return xp.linalg.cholesky(xp.swapaxes(a, -1, -2) if upper else a)


def _cholesky_vjp(F, g, ans, a, upper=False):
    """∂L/∂A = sym(L⁻ᵀ Φ(Lᵀ G) L⁻¹) (Murray 2016; PyTorch's cholesky_backward), whichever triangle is read."""
    li = _inv(F, ans)
    s = _mm(F, _T(F, li), _phi(F, F.matmul(_T(F, ans), g)), li)
    return 0.5 * (s + _T(F, s))


def _cholesky_jvp(F, t, ans, a, upper=False):
    """L̇ = L Φ(L⁻¹ Ȧ L⁻ᵀ), with Ȧ as given whichever triangle is read (PyTorch's cholesky_jvp)."""
    li = _inv(F, ans)
    return F.matmul(ans, _phi(F, _mm(F, li, t, _T(F, li))))


CHOLESKY = Primitive("cholesky", _cholesky_value, (_cholesky_vjp,), (_cholesky_jvp,), fmt="cholesky({0})")


# --- packed decompositions (several outputs in one array) -----------------------------------------
def _pack(arrays, batch: tuple[int, ...]):
    """Outputs (*batch, p_i, q_i) or (*batch, q_i) side by side as one (*batch, Σ p_i q_i) array."""
    xp = namespace_of(arrays[0])
    parts = []
    for x in arrays:
        inner = x.shape[len(batch) :]
        parts.append(xp.reshape(x, tuple(batch) + (int(np.prod(inner, dtype=np.int64)),)))
    return xp.concatenate(parts, axis=-1)


def _unpack(F, packed, batch: tuple[int, ...], shapes):
    """The inverse of :func:`_pack`: each output, sliced and reshaped (recorded under F)."""
    out, start = [], 0
    for inner in shapes:
        size = int(np.prod(inner, dtype=np.int64))
        piece = F.getitem(packed, (Ellipsis, slice(start, start + size)))
        out.append(F.reshape(piece, batch + tuple(inner)))
        start += size
    return out


def _eigh_shapes(a_shape):
    n = a_shape[-1]
    return a_shape[:-2], [(n,), (n, n)]


def _eigh_parts(F, packed, a):
    batch, shapes = _eigh_shapes(_shape(F, a))
    return _unpack(F, packed, batch, shapes)


def _eigh_value(a, upper: bool = False):
    """The packed (λ, V) of ``a``'s lower triangle, or (``upper``) of its upper one — the lower
    triangle of Aᵀ, so every array library (the standard's ``eigh`` has no ``UPLO``) reads it."""
    xp = namespace_of(a)
    return _pack(xp.linalg.eigh(xp.swapaxes(a, -1, -2) if upper else a), a.shape[:-2])


def _eigh_vjp(F, g, ans, a, upper=False):
    """∂L/∂A = V (diag(ḡ_λ) + W ∘ skew(Vᵀ Ḡ_V)) Vᵀ, W_ij = 1/(λ_j − λ_i), skew(M) = (M − Mᵀ)/2."""
    w, v = _eigh_parts(F, ans, a)
    gw, gv = _eigh_parts(F, g, a)
    inner = _diag(F, gw)
    if _nonzero(F, gv):  # as PyTorch, eigenvalues alone never meet W (finite at repeated λ)
        m = F.matmul(_T(F, v), gv)
        inner = inner + _pair_weights(F, w) * (0.5 * (m - _T(F, m)))
    return _mm(F, v, inner, _T(F, v))


def _eigh_jvp(F, t, ans, a, upper=False):
    """λ̇ = diag(Vᵀ Ȧ V), V̇ = V (W ∘ Vᵀ Ȧ V)."""
    w, v = _eigh_parts(F, ans, a)
    p = _mm(F, _T(F, v), t, v)
    dw = _diagonal(F, p)
    dv = F.matmul(v, _pair_weights(F, w) * p)
    batch = _shape(F, a)[:-2]
    return F.concatenate([dw, F.reshape(dv, batch + (_shape(F, a)[-1] ** 2,))], axis=-1)


EIGH = Primitive("eigh", _eigh_value, (_eigh_vjp,), (_eigh_jvp,), fmt="eigh({0})")


def _svd_shapes(a_shape):
    m, n = a_shape[-2:]
    k = min(m, n)
    return a_shape[:-2], [(m, k), (k,), (k, n)]


def _svd_parts(F, packed, a):
    batch, shapes = _svd_shapes(_shape(F, a))
    return _unpack(F, packed, batch, shapes)


def _svd_jvp(F, t, ans, a):
    """Ṡ = diag(Uᵀ Ȧ V); U̇ = U (W ∘ (dS S + S dSᵀ)) + (I − UUᵀ) Ȧ V S⁻¹; likewise V̇; W_ij = 1/(σ_j² − σ_i²)."""
    u, s, vt = _svd_parts(F, ans, a)
    v = _T(F, vt)
    ds = _mm(F, _T(F, u), t, v)
    w = _pair_weights(F, s * s)
    du = F.matmul(u, w * (ds * _col(F, s) + _T(F, ds * _col(F, s))))
    dv = F.matmul(v, w * (_T(F, ds) * _col(F, s) + _T(F, _T(F, ds) * _col(F, s))))
    m, n = _shape(F, a)[-2:]
    if m > n:
        dav = F.matmul(t, v)
        du = du + (dav - _mm(F, u, _T(F, u), dav)) / _col(F, s)
    if n > m:
        dau = F.matmul(_T(F, t), u)
        dv = dv + (dau - _mm(F, v, vt, dau)) / _col(F, s)
    batch = _shape(F, a)[:-2]
    flat = [F.reshape(x, batch + (int(np.prod(_shape(F, x)[len(batch) :])),)) for x in (du, _diagonal(F, ds), _T(F, dv))]
    return F.concatenate(flat, axis=-1)


def _svd_vjp(F, g, ans, a):
    """The transpose of :func:`_svd_jvp`: ∂L/∂A = U (diag(ḡ_S) + (X + Xᵀ) S + S (Y + Yᵀ)) Vᵀ
    + (I − UUᵀ) Ḡ_U S⁻¹ Vᵀ + U S⁻¹ Ḡ_Vᵀ (I − VVᵀ), X = W ∘ Uᵀ Ḡ_U, Y = W ∘ Vᵀ Ḡ_V."""
    u, s, vt = _svd_parts(F, ans, a)
    gu, gs, gvt = _svd_parts(F, g, a)
    if not (_nonzero(F, gu) or _nonzero(F, gvt)):  # singular values alone: U diag(ḡ_S) Vᵀ, as PyTorch
        return _mm(F, u, _diag(F, gs), vt)
    v, gv = _T(F, vt), _T(F, gvt)
    w = _pair_weights(F, s * s)
    x = w * F.matmul(_T(F, u), gu)
    y = w * F.matmul(vt, gv)
    core = _diag(F, gs) + (x + _T(F, x)) * _col(F, s) + _T(F, _col(F, s)) * (y + _T(F, y))
    out = _mm(F, u, core, vt)
    m, n = _shape(F, a)[-2:]
    if m > n:
        out = out + F.matmul((gu - _mm(F, u, _T(F, u), gu)) / _col(F, s), vt)
    if n > m:
        out = out + F.matmul(u / _col(F, s), _T(F, gv - _mm(F, v, vt, gv)))
    return out


SVD = Primitive(
    "svd",
    lambda a: _pack(namespace_of(a).linalg.svd(a, full_matrices=False), a.shape[:-2]),
    (_svd_vjp,),
    (_svd_jvp,),
    fmt="svd({0})",
)


def _qr_shapes(a_shape):
    m, n = a_shape[-2:]
    return a_shape[:-2], [(m, n), (n, n)]


def _qr_parts(F, packed, a):
    batch, shapes = _qr_shapes(_shape(F, a))
    return _unpack(F, packed, batch, shapes)


def _strict_lower(F, x):
    n = _shape(F, x)[-1]
    return x * constant_like(F, x, np.tril(np.ones((n, n)), -1))


def _qr_jvp(F, t, ans, a):
    """C = Qᵀ Ȧ R⁻¹, Ω = tril(C, −1) − tril(C, −1)ᵀ: Q̇ = Q(Ω − C) + Ȧ R⁻¹, Ṙ = (C − Ω) R."""
    q, r = _qr_parts(F, ans, a)
    dar = F.matmul(t, _inv(F, r))
    c = F.matmul(_T(F, q), dar)
    low = _strict_lower(F, c)
    omega = low - _T(F, low)
    dq = F.matmul(q, omega - c) + dar
    dr = F.matmul(c - omega, r)
    batch = _shape(F, a)[:-2]
    flat = [F.reshape(x, batch + (int(np.prod(_shape(F, x)[len(batch) :])),)) for x in (dq, dr)]
    return F.concatenate(flat, axis=-1)


def _qr_vjp(F, g, ans, a):
    """The transpose of :func:`_qr_jvp`: ∂L/∂A = (Ḡ_Q + Q N) R⁻ᵀ with M = Qᵀ Ḡ_Q − Ḡ_R Rᵀ,
    N = tril(M − Mᵀ, −1) − M."""
    q, r = _qr_parts(F, ans, a)
    gq, gr = _qr_parts(F, g, a)
    m = F.matmul(_T(F, q), gq) - F.matmul(gr, _T(F, r))
    n = _strict_lower(F, m - _T(F, m)) - m
    return F.matmul(gq + F.matmul(q, n), _T(F, _inv(F, r)))


QR = Primitive("qr", lambda a: _pack(namespace_of(a).linalg.qr(a), a.shape[:-2]), (_qr_vjp,), (_qr_jvp,), fmt="qr({0})")


# --- public functions -------------------------------------------------------------------------------
def _square(name: str, a: Tensor) -> Tensor:
    a = _t(a)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"linalg.{name}: expects square matrices (..., n, n), got shape {a.shape}")
    return a


def _matrix(name: str, a) -> Tensor:
    a = _t(a)
    if a.ndim < 2:
        raise ValueError(f"linalg.{name}: expects matrices (..., m, n), got shape {a.shape}")
    return a


def _float_square(name: str, a) -> Tensor:
    """:func:`_square`, integers and bools in the default float dtype (a decomposition has no integer result;
    NumPy's routines would give float64 whatever the default)."""
    return ops.floating(_square(name, a))


def _float_matrix(name: str, a) -> Tensor:
    """:func:`_matrix`, integers and bools in the default float dtype (as :func:`_float_square`)."""
    return ops.floating(_matrix(name, a))


_FIXES = {
    "inv": "for a singular matrix use linalg.pinv, or invert a regularised A + εI",
    "solve": "A is singular: use linalg.pinv(A) @ B for the least-squares solution, or regularise A + εI",
    "cholesky": "A must be symmetric positive definite: add a multiple of the identity, A + εI",
    "svd": "the iteration fails on NaN or ±inf entries: check the input (A.isfinite().all())",
    "eigh": "the iteration fails on NaN or ±inf entries: check the input (A.isfinite().all())",
}


def _checked(name: str, fn, *args):
    """``fn(*args)``; a singular or indefinite input raises LinAlgError naming the op, the shapes
    and the fix (as PyTorch raises its LinAlgError)."""
    try:
        return fn(*args)
    except np.linalg.LinAlgError as exc:
        shapes = " and ".join(str(x.shape) for x in args if isinstance(x, Tensor))
        raise np.linalg.LinAlgError(f"linalg.{name}: {exc} (input of shape {shapes}); {_FIXES[name]}") from None


def inv(a):
    """A⁻¹; VJP −A⁻ᵀ G A⁻ᵀ, JVP −A⁻¹ Ȧ A⁻¹."""
    return _checked("inv", lambda x: _apply(INV, (x,)), _float_square("inv", a))


def det(a):
    """det A; gradient det A · A⁻ᵀ (Jacobi), JVP det A · tr(A⁻¹ Ȧ)."""
    return _apply(DET, (_float_square("det", a),))


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


def slogdet(a) -> SlogdetResult:
    """(sign det A, log|det A|); the log's gradient is A⁻ᵀ, the sign is piecewise constant."""
    a = _float_square("slogdet", a)
    return SlogdetResult(tensor(namespace_of(a.data).linalg.slogdet(a.data)[0], device=a.device), _apply(LOGABSDET, (a,)))


def solve(a, b, *, left: bool = True):
    """X with A X = B, or with ``left=False`` X A = B (PyTorch's keyword; solved as Aᵀ Xᵀ = Bᵀ).
    B is a batch of vectors when it is 1-D or of shape A.shape[:-1] (PyTorch's rule: A (*, n, n),
    B (*, n) gives X (*, n)), else matrices (..., n, k), batches broadcast; with ``left=False`` a
    vector b is the row of x A = b (PyTorch refuses it).  ∂L/∂B = A⁻ᵀ G, ∂L/∂A = −A⁻ᵀ G Xᵀ."""
    a, b = _square("solve", a), _t(b)
    a, b = ops.promote_all((ops.floating(a), ops.floating(b)))
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    n = a.shape[-1]
    if not b.ndim or b.shape[-1 if vector or not left else -2] != n:  # checked here: the error shows B as given
        equation, want = ("A X = B", f"(..., {n}, k)") if left else ("X A = B", f"(..., k, {n})")
        raise ValueError(
            f"linalg.solve: A of shape {a.shape} and B of shape {b.shape} do not fit ({equation}): B needs "
            f"{n} {'rows' if left else 'columns'}; give B of shape {want}, or {a.shape[:-1]} for a batch of vectors"
        )
    if not left:
        return solve(a.mT, b) if vector else solve(a.mT, b.mT).mT
    x = _checked("solve", lambda p, q: _apply(SOLVE, (p, q)), a, b.reshape(*b.shape, 1) if vector else b)
    return x.reshape(x.shape[:-1]) if vector else x


def _triangle(a: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    """The triangle T of A that a triangular solve reads: triu(A) or tril(A), with ones on the
    diagonal when ``unitriangular`` (whose diagonal is then not read, so it gets no gradient)."""
    n = a.shape[-1]
    keep = np.triu(np.ones((n, n)), 1 if unitriangular else 0)
    t = a * constant_like(TENSOR_NS, a, keep if upper else keep.T)
    return t + constant_like(TENSOR_NS, a, np.eye(n)) if unitriangular else t


def solve_triangular(a, b, *, upper: bool, left: bool = True, unitriangular: bool = False):
    """X with T X = B (``left=False``: X T = B), T the upper (``upper=True``) or lower triangle of A,
    its diagonal taken as ones when ``unitriangular`` — PyTorch's ``linalg.solve_triangular``:
    A (*, n, n), B (*, n, k) or with ``left=False`` (*, k, n), batches broadcast, no vector B
    (PyTorch's rule).  By back substitution, x_i = (b_i − Σ_{j>i} t_ij x_j) / t_ii (upper; a lower
    T is solved reversed, J T J being upper for the reversal J).  Gradients: ∂L/∂B = T⁻ᵀ G and
    ∂L/∂A = −the triangle read of T⁻ᵀ G Xᵀ (PyTorch's), JVP Ẋ = T⁻¹(Ḃ − Ṫ X); higher derivatives
    reuse them.  A zero on T's diagonal raises LinAlgError (PyTorch returns inf/nan)."""
    a, b = _float_input("solve_triangular", a, None), _float_input("solve_triangular", b, None)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"linalg.solve_triangular: A must be square matrices (..., n, n), got shape {a.shape}")
    n = a.shape[-1]
    if b.ndim < 2 or b.shape[-2 if left else -1] != n:
        equation, want = ("A X = B", f"(..., {n}, k)") if left else ("X A = B", f"(..., k, {n})")
        raise ValueError(
            f"linalg.solve_triangular: A of shape {a.shape} and B of shape {b.shape} do not fit ({equation}): "
            f"give B of shape {want}" + (" (a vector b as b[..., None], then take x[..., 0])" if b.ndim < 2 else "")
        )
    if not left:  # X T = B is Tᵀ Xᵀ = Bᵀ, and Tᵀ is the other triangle of Aᵀ
        return solve_triangular(a.mT, b.mT, upper=not upper, unitriangular=unitriangular).mT
    t = _triangle(a, upper, unitriangular)
    if not upper:  # LAPACK's LU of an upper triangle swaps no rows: it is back substitution itself
        t, b = flip(t, dims=(-2, -1)), flip(b, dims=-2)
    try:
        x = _apply(SOLVE, (t, b))
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(
            f"linalg.solve_triangular: the {'upper' if upper else 'lower'} triangle of A (shape {a.shape}) has a 0 on "
            "its diagonal, so T X = B has no unique solution; regularise it (A + εI) or use linalg.lstsq"
        ) from None
    return x if upper else flip(x, dims=-2)


class LstsqResult(NamedTuple):
    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


# what each of PyTorch's lstsq drivers (LAPACK routines) returns besides the solution
_LSTSQ_DRIVERS: dict[str, frozenset[str]] = {
    "gels": frozenset({"residuals"}),
    "gelsy": frozenset({"rank"}),
    "gelsd": frozenset({"residuals", "rank", "singular_values"}),
    "gelss": frozenset({"residuals", "rank", "singular_values"}),
}


def lstsq(a, b, rcond=None, *, driver=None) -> LstsqResult:
    """X minimising ‖A X − B‖_F, of least norm ‖X‖_F among the minimisers: X = A⁺B = V diag(σ⁺) Uᵀ B,
    σ⁺ = 1/σ for σ > rcond · σ_max, else 0 (``rcond`` = max(m, n) · ε when None) — PyTorch's
    ``linalg.lstsq``: A (*, m, n), B (*, m, k), or (*, m) for vectors (B with one dimension less
    than A), batches broadcast.  A named tuple (solution, residuals, rank, singular_values) as
    PyTorch's ``driver`` gives them (default 'gelsy': the rank only; 'gelsd'/'gelss': all three;
    'gels': the residuals): residuals ‖A X − B‖² per column (*, k) when m > n and every A has full
    rank, rank (int64) the number of σ above the cut-off, the σ of A; unfilled ones are empty.
    The solution is the same for every driver.  Gradient of A⁺B for constant rank (PyTorch's):
    ∂L/∂B = A⁺ᵀ G; ∂L/∂A from dA⁺ (Golub & Pereyra), see the rule; rank and σ have none."""
    name = "gelsy" if driver is None else driver
    if name not in _LSTSQ_DRIVERS:
        raise ValueError(f"linalg.lstsq: driver must be None or one of {sorted(_LSTSQ_DRIVERS)}, got {driver!r}")
    a, b = _matrix("lstsq", _float_input("lstsq", a, None)), _float_input("lstsq", b, None)
    m, n = a.shape[-2:]
    vector = b.ndim == a.ndim - 1
    if b.ndim not in (a.ndim, a.ndim - 1) or b.shape[-1 if vector else -2] != m:
        raise ValueError(
            f"linalg.lstsq: A of shape {a.shape} and B of shape {b.shape} do not fit (min ‖A X − B‖): give B as "
            f"many dimensions as A, (..., {m}, k), or one fewer for vectors, (..., {m})"
        )
    rcond = max(m, n) * float(np.finfo(a.dtype).eps) if rcond is None else float(rcond)
    b = b.reshape(*b.shape, 1) if vector else b
    x = _apply(LSTSQ, (a, b), {"rcond": rcond})
    wants = _LSTSQ_DRIVERS[name]
    empty = tensor(np.zeros(0, dtype=x.dtype), device=x.device)
    rank, s = tensor(np.zeros(0, dtype=np.int64), device=x.device), empty
    if wants & {"rank", "singular_values"}:
        with no_grad():
            s = svdvals(a)
            rank = ops.astype((s > rcond * s[..., :1]).sum(axis=-1), np.int64)  # the cut-off of the solution's value
    residuals = empty
    if "residuals" in wants and m > n and (name == "gels" or bool((rank == n).all())):
        residuals = ((a @ x - b) ** 2).sum(axis=-2)
    if "singular_values" not in wants:
        s = empty
    return LstsqResult(x.reshape(x.shape[:-1]) if vector else x, residuals, rank, s)


def cholesky(a, upper: bool = False):
    """L lower triangular with L Lᵀ = A (A symmetric positive definite; its lower triangle is
    read), or with ``upper`` (PyTorch's keyword) U = Lᵀ, upper triangular with Uᵀ U = A.

    With ``upper`` A's upper triangle is read (as PyTorch's): U = L(Aᵀ)ᵀ, the same U for a
    symmetric A.  Gradients as PyTorch's, whichever triangle is read."""
    params = {"upper": True} if upper else None
    low = _checked("cholesky", lambda x: _apply(CHOLESKY, (x,), params), _float_square("cholesky", a))
    return low.mT if upper else low


def matrix_exp(a):
    """e^A = Σₖ Aᵏ/k! of a square matrix or a batch of them (…, n, n), by scaling and squaring with a Padé
    approximant (as PyTorch and SciPy); VJP and JVP the Fréchet derivative, the upper-right block of
    exp([[Aᵀ, G], [0, Aᵀ]]) and of exp([[A, Ȧ], [0, A]]).  Integers are computed in the default float dtype."""
    a = _float_square("matrix_exp", a)
    return _apply(MATRIX_EXP, (a,))


def cholesky_solve(b, L, upper: bool = False):
    """X with A X = B for A = L Lᵀ (``upper``: A = Uᵀ U) given its Cholesky factor (PyTorch's ``cholesky_solve``;
    only the factor's triangle is read).  Gradients as PyTorch's: A⁻¹G for B, −(C + Cᵀ)L with C = (A⁻¹G)Xᵀ for L."""
    b, L = _matrix("cholesky_solve", b), _square("cholesky_solve", L)
    if b.shape[-2] != L.shape[-1]:
        raise ValueError(f"linalg.cholesky_solve: B of shape {b.shape} needs {L.shape[-1]} rows, as the factor of "
                         f"shape {L.shape}; give B as (..., n, k)")  # fmt: skip
    b, L = ops.promote_all((ops.floating(b), ops.floating(L)))
    return _apply(CHOLESKY_SOLVE, (b, L), {"upper": upper} if upper else None)


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


def _uplo(name: str, UPLO) -> bool:  # noqa: N803 - PyTorch's and NumPy's name
    """True for ``UPLO='U'`` (the upper triangle is read), False for 'L'; anything else raises."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.{name}: UPLO must be 'L' (read the lower triangle) or 'U' (the upper one), got {UPLO!r}")
    return UPLO == "U"


def eigh(a, UPLO: str = "L") -> EighResult:  # noqa: N803 - PyTorch's and NumPy's name
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric A (its lower
    triangle is read, or with ``UPLO='U'`` its upper one).  Gradient
    V (diag(ḡ_λ) + W ∘ skew(Vᵀ Ḡ_V)) Vᵀ, W_ij = 1/(λ_j − λ_i), whichever triangle is read (as PyTorch)."""
    upper = _uplo("eigh", UPLO)
    a = _float_square("eigh", a)
    packed = _checked("eigh", lambda x: _apply(EIGH, (x,), {"upper": True} if upper else None), a)
    w, v = _unpack(TENSOR_NS, packed, *_eigh_shapes(a.shape))
    return EighResult(w, v)


def eigvalsh(a, UPLO: str = "L"):  # noqa: N803 - PyTorch's and NumPy's name
    """The eigenvalues of symmetric A, ascending (``UPLO`` as :func:`eigh`)."""
    return eigh(a, UPLO).eigenvalues


class SVDResult(NamedTuple):
    U: Tensor  # noqa: N815 - NumPy's and PyTorch's field names
    S: Tensor  # noqa: N815
    Vh: Tensor  # noqa: N815


def _complement(q: Tensor) -> Tensor:
    """Orthonormal columns spanning the complement of ``q``'s (m, k) columns: the last m − k
    columns of a complete QR of ``q`` (a constant: no gradient flows through them)."""
    full = namespace_of(q.data).linalg.qr(q.data, mode="complete")[0]
    return tensor(full[..., q.shape[-1] :], device=q.device)


def svd(a, full_matrices: bool = True) -> SVDResult:
    """A = U diag(S) Vh, descending S.  By default (``full_matrices=True``, as torch.linalg.svd and
    numpy.linalg.svd) U (m, m) and Vh (n, n), whose extra columns/rows are an orthonormal basis of
    the complement — any basis is one, so, as PyTorch, their gradient is ignored; with
    ``full_matrices=False`` the reduced U (m, k), S (k,), Vh (k, n), k = min(m, n)."""
    a = _float_matrix("svd", a)
    u, s, vh = _unpack(TENSOR_NS, _checked("svd", lambda x: _apply(SVD, (x,)), a), *_svd_shapes(a.shape))
    if full_matrices:
        m, n = a.shape[-2:]
        if m > n:
            u = ops.concatenate([u, _complement(u)], axis=-1)
        if n > m:
            vh = ops.concatenate([vh, _complement(vh.mT).mT], axis=-2)
    return SVDResult(u, s, vh)


def svdvals(a):
    """The singular values of A, descending; gradient U diag(ḡ) Vᵀ."""
    return svd(a, full_matrices=False).S


class QRResult(NamedTuple):
    Q: Tensor  # noqa: N815
    R: Tensor  # noqa: N815


def qr(a, mode: str = "reduced") -> QRResult:
    """A = Q R with R upper triangular, PyTorch's modes: "reduced" (the default) Q (m, k)
    orthonormal columns and R (k, n), k = min(m, n); "complete" Q (m, m) and R (m, n), for a
    tall A the reduced Q completed by an orthonormal basis of its complement and R padded with
    zero rows; "r" R alone (reduced) and an empty Q.  A wide A = [X Y] (m < n) is X = Q R₁
    (square) and R₂ = Qᵀ Y, so its gradient is the square one's plus that of a product
    (PyTorch's for m < n).  Where PyTorch refuses a gradient (mode "r"; "complete" with m > n),
    this one is the reduced factors' (the complement's columns get none, as ``svd``'s)."""
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    a = _float_matrix("qr", a)
    m, n = a.shape[-2:]
    if m < n:
        q, r1 = qr(a[..., :m])
        r = ops.concatenate([r1, q.mT @ a[..., m:]], axis=-1)
    else:
        q, r = _unpack(TENSOR_NS, _apply(QR, (a,)), *_qr_shapes(a.shape))
    if mode == "complete" and m > n:
        q = ops.concatenate([q, _complement(q)], axis=-1)
        r = ops.concatenate([r, tensor(namespace_of(r.data).zeros_like(r.data[..., : m - n, :]), device=r.device)], axis=-2)
    elif mode == "r":
        q = tensor(np.zeros(0, dtype=r.dtype), device=r.device)
    return QRResult(q, r)


def trace(a):
    """Σ_i A_ii over the last two axes; of an m×n matrix the main diagonal's min(m, n) entries,
    as PyTorch's (the leading square block's trace)."""
    a = _matrix("trace", a)
    k = min(a.shape[-2:])
    return einsum("...ii->...", a if a.shape[-1] == a.shape[-2] else a[..., :k, :k])


def matrix_power(a, n: int):
    """Aⁿ by repeated squaring (A⁻¹ first for n < 0; for n = 0 the identity, derivative 0)."""
    a = _square("matrix_power", a)
    if not isinstance(n, int | np.integer):
        raise TypeError(f"linalg.matrix_power: n must be an integer, got {n!r}")
    if n < 0:
        a, n = inv(a), -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    if result is None:  # A⁰ = I, a function of A with derivative 0 (backward works, as PyTorch's)
        eye = tensor(np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy(), device=a.device)
        return ops.where(np.ones(a.shape, dtype=bool), eye, a)
    return result


def _tolerance(v):
    """A tolerance as it meets σ (…, k): a number as it is, a tensor of per-matrix ones (…) with a
    trailing axis (PyTorch's atol/rtol tensors, broadcast over the batch)."""
    if isinstance(v, int | float | np.integer | np.floating):
        return float(v)
    v = _t(v)
    return v.reshape(v.shape + (1,))


def _kept(s: Tensor, shape: tuple[int, ...], atol, rtol) -> Tensor:
    """σ > max(atol, rtol · σ_max) for the σ (…, k) of matrices of ``shape``: the singular values a
    rank counts and a pseudo-inverse inverts.  As PyTorch's, ``rtol`` is max(m, n) · ε when not given,
    and 0 where a positive ``atol`` is.  A mask (a comparison: batched under vmap like any op)."""
    if not s.shape[-1]:  # an empty matrix has no σ (and no σ_max to scale rtol by)
        with no_grad():
            return s > 0
    atol = None if atol is None else _tolerance(atol)
    with no_grad():
        if rtol is not None:
            rtol = _tolerance(rtol)
        else:
            default = max(shape[-2:]) * float(np.finfo(s.dtype).eps)
            if atol is None or isinstance(atol, float):
                rtol = 0.0 if atol is not None and atol > 0 else default
            else:
                rtol = ops.where(atol > 0, 0.0, default)
        cut = s.max(axis=-1, keepdims=True) * rtol
        return s > (cut if atol is None else ops.where(cut > atol, cut, atol))


def _chain_splits(dims: list[int]) -> list[list[int]]:
    """``split[i][j]``: where the cheapest product of matrices i..j (matrix k of shape
    dims[k] × dims[k+1]) splits — the matrix-chain dynamic programme,
    cost(i, j) = min_k cost(i, k) + cost(k + 1, j) + dims[i] · dims[k+1] · dims[j+1]."""
    count = len(dims) - 1
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1], k) for k in range(i, j)
            )
    return split


def _chain_product(mats: list[Tensor], split: list[list[int]], i: int, j: int) -> Tensor:
    if i == j:
        return mats[i]
    k = split[i][j]
    return _chain_product(mats, split, i, k) @ _chain_product(mats, split, k + 1, j)


def multi_dot(tensors) -> Tensor:
    """A₁ A₂ ⋯ A_N (N ≥ 2) multiplied in the cheapest order (:func:`_chain_splits`) — PyTorch's
    ``linalg.multi_dot``: every tensor 2-D, except that the first may be a vector (a row, 1 × n)
    and the last a vector (a column, n × 1), whose axis the result drops.  Gradients: matmul's."""
    xs = [_t(x) for x in tensors]
    if len(xs) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(xs)}; use ng.matmul or the tensor itself")
    last = len(xs) - 1
    for i, x in enumerate(xs):
        if x.ndim != 2 and not (x.ndim == 1 and i in (0, last)):
            raise ValueError(
                f"linalg.multi_dot: tensor {i} has shape {x.shape}: it must be 2-D"
                + (" or 1-D" if i in (0, last) else " (only the first and the last may be vectors)")
                + "; for batches of matrices use ng.matmul"
            )
    mats = [x.reshape(1, x.shape[0]) if i == 0 and x.ndim == 1 else x for i, x in enumerate(xs)]
    if xs[last].ndim == 1:
        mats[last] = xs[last].reshape(xs[last].shape[0], 1)
    for i in range(last):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise ValueError(
                f"linalg.multi_dot: tensors {i} and {i + 1} of shapes {xs[i].shape} and {xs[i + 1].shape} cannot be "
                f"multiplied: {mats[i].shape[1]} columns against {mats[i + 1].shape[0]} rows"
            )
    out = _chain_product(mats, _chain_splits([mats[0].shape[0]] + [x.shape[1] for x in mats]), 0, last)
    rows, cols = out.shape
    return out.reshape(((rows,) if xs[0].ndim == 2 else ()) + ((cols,) if xs[last].ndim == 2 else ()))


def cross(a, b, dim: int = -1) -> Tensor:
    """a × b = (a₁b₂ − a₂b₁, a₂b₀ − a₀b₂, a₀b₁ − a₁b₀) along ``dim`` (of length 3 in both), the other
    dims broadcast — PyTorch's ``linalg.cross`` (which needs both of the same number of dims).
    Bilinear, so ∂L/∂a = b × G and ∂L/∂b = G × a."""
    a, b = _t(a), _t(b)
    if a.ndim != b.ndim or not a.ndim:
        raise ValueError(
            f"linalg.cross: a of shape {a.shape} and b of shape {b.shape} must have the same number (≥ 1) of "
            "dimensions (PyTorch's rule); add size-1 axes to broadcast, e.g. b[None]"
        )
    d = ops.check_dim("linalg.cross", dim, a.ndim)
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise ValueError(f"linalg.cross: dim {dim} must have length 3 in both inputs, got shapes {a.shape} and {b.shape}")
    lead = (slice(None),) * d
    a0, a1, a2 = (a[lead + (slice(i, i + 1),)] for i in range(3))
    b0, b1, b2 = (b[lead + (slice(i, i + 1),)] for i in range(3))
    return ops.concatenate([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=d)


def pinv(a, rtol=None, hermitian: bool = False, atol=None):
    """The Moore–Penrose pseudo-inverse V S⁺ Uᵀ, S⁺ = 1/σ for σ > max(atol, rtol · σ_max) and 0
    below (the rank cut-off; as PyTorch's, ``rtol`` is max(m, n) · ε when neither is given and 0
    when only ``atol`` is), so a rank-deficient A has a finite pseudo-inverse and gradient (the
    SVD's, as PyTorch's: distinct σ needed).  ``hermitian=True`` declares A symmetric (square
    required): its σ are its |λ|, so the value is the same, and the gradient is the general
    formula's, as PyTorch's (which also differentiates the general pseudo-inverse)."""
    a = _float_square("pinv", a) if hermitian else _float_matrix("pinv", a)
    u, s, vh = svd(a, full_matrices=False)
    kept = _kept(s, a.shape, atol, rtol)
    s_inv = ops.where(kept, 1.0 / ops.where(kept, s, 1.0), 0.0)
    return (vh.mT * s_inv.reshape(s.shape[:-1] + (1, s.shape[-1]))) @ u.mT


def matrix_rank(a, *, atol=None, rtol=None, hermitian: bool = False):
    """rank A = #{i : σ_i > max(atol, rtol · σ_max)} (int64, batched; no gradient) — PyTorch's
    ``linalg.matrix_rank``, with its defaults: ``rtol`` = max(m, n) · ε when not given, 0 where a
    positive ``atol`` is; tolerances may be tensors of the batch's shape.  ``hermitian=True``
    declares A symmetric (square; its lower triangle is read): σ_i = |λ_i| from ``eigvalsh``."""
    a = _float_input("matrix_rank", a, None)
    a = _square("matrix_rank", a) if hermitian else _matrix("matrix_rank", a)
    if not min(a.shape[-2:]):  # an empty matrix has rank 0
        return tensor(np.zeros(a.shape[:-2], dtype=np.int64), device=a.device)
    with no_grad():
        s = abs(eigvalsh(a)) if hermitian else svdvals(a)
        return ops.astype(_kept(s, a.shape, atol, rtol).sum(axis=-1), np.int64)


_COND_BY_SVD = (None, 2, -2)  # the orders cond computes from the singular values, for any m × n A
_COND_BY_INV = ("fro", "nuc", 1, -1, np.inf, -np.inf)  # the orders it computes as ‖A‖ ‖A⁻¹‖ (square A)


def cond(a, p=None):
    """κ_p(A) = ‖A‖_p ‖A⁻¹‖_p — PyTorch's ``linalg.cond``, batched: p = None or 2 gives σ_max/σ_min
    and −2 σ_min/σ_max, from the singular values, for any m × n A; 'fro', 'nuc', ±1, ±inf the
    matrix norms of A and A⁻¹ (square A; inf where A is singular, as PyTorch).  Differentiable:
    the gradients of svdvals, inv and the norms."""
    a = _matrix("cond", _float_input("cond", a, None))
    if p in _COND_BY_SVD and not isinstance(p, bool):
        s = svdvals(a)
        big, small = s[..., 0], s[..., -1]
        return small / big if p == -2 else big / small
    if p not in _COND_BY_INV or isinstance(p, bool):
        raise ValueError(f"linalg.cond: p must be one of {_COND_BY_SVD + _COND_BY_INV}, got {p!r}")
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(
            f"linalg.cond: p={p!r} needs square matrices (..., n, n), got shape {a.shape}; p=None (σ_max/σ_min) takes any m × n"
        )
    with no_grad():  # a singular A (an exact 0 pivot: det 0) has κ = inf; A⁻¹ is taken of I there instead
        singular = det(a) == 0
    eye = constant_like(TENSOR_NS, a, np.eye(a.shape[-1]))
    safe = ops.where(singular.reshape(singular.shape + (1, 1)), eye, a)
    return ops.where(singular, np.inf, matrix_norm(a, p) * matrix_norm(inv(safe), p))


def _root(s: Tensor, p) -> Tensor:
    """s^{1/p} for the sum s = Σ|x|^p ≥ 0 of a p-norm, with derivative 0 where s = 0 (PyTorch's
    norm gradient at x = 0, where the chain rule would give ∞·0 = nan): the power sees 1 there
    and its result is replaced by 0, so neither branch's derivative is infinite."""
    positive = s > 0
    return ops.where(positive, ops.where(positive, s, 1.0) ** (1.0 / p), 0.0)


def _vector_norm(x: Tensor, ord, axis, keepdims):  # noqa: A002
    if ord == 2:
        return _root((x * x).sum(axis=axis, keepdims=keepdims), 2)
    if ord == np.inf:
        return abs(x).max(axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return abs(x).min(axis=axis, keepdims=keepdims)
    if ord == 1:
        return abs(x).sum(axis=axis, keepdims=keepdims)
    if ord == 0:  # a count, derivative 0: 1 where x ≠ 0, else 0·x (backward works, as PyTorch's)
        return ops.where(x != 0, 1.0, x * 0.0).sum(axis=axis, keepdims=keepdims)
    if not isinstance(ord, int | float | np.integer | np.floating):
        raise ValueError(
            f"linalg.vector_norm: ord={ord!r} is not a vector norm; give a number (2, 1, inf, -inf, 0 or any p), "
            "or use linalg.matrix_norm for 'fro' and 'nuc'"
        )
    # |x|^p with derivative 0 where x = 0 (PyTorch's norm backward and JVP mask those entries): for p < 1 the
    # chain rule would give ∞·0 there.  |0|^p is 0 (p > 0) or ∞ (p < 0: the norm is then 0), a constant.
    nonzero = x != 0
    powered = ops.where(nonzero, ops.where(nonzero, abs(x), 1.0) ** ord, 0.0 if ord > 0 else np.inf)
    return _root(powered.sum(axis=axis, keepdims=keepdims), ord)


def _matrix_norm(x: Tensor, ord, axis, keepdims):  # noqa: A002
    r, c = (a % x.ndim for a in axis)
    if ord in ("fro", None):
        return _vector_norm(x, 2, axis, keepdims)
    if ord in (1, -1, np.inf, -np.inf):
        summed, other = (r, c) if ord in (1, -1) else (c, r)
        col = abs(x).sum(axis=summed, keepdims=True)
        out = col.max(axis=other, keepdims=True) if ord > 0 else col.min(axis=other, keepdims=True)
        return out if keepdims else out.squeeze(axis=(r, c))
    if ord in ("nuc", 2, -2):
        perm = [i for i in range(x.ndim) if i not in (r, c)] + [r, c]
        s = svdvals(x.permute(*perm))
        out = s.sum(axis=-1) if ord == "nuc" else (s.max(axis=-1) if ord == 2 else s.min(axis=-1))
        if keepdims:
            out = out.reshape(tuple(1 if i in (r, c) else n for i, n in enumerate(x.shape)))
        return out
    raise ValueError(f"linalg.norm: unknown matrix norm ord={ord!r}; use 'fro', 'nuc', 1, -1, 2, -2, inf or -inf")


def norm(x, ord=None, axis=None, keepdims: bool = False, dim=None, keepdim=None):  # noqa: A002 - NumPy's name
    """NumPy's ``linalg.norm`` (``dim``/``keepdim`` as PyTorch's names): with ``axis`` None the
    2-norm of the flattened tensor (or ``ord``'s matrix norm of a 2-D one); an int axis gives
    vector norms (Σ|x|^p)^{1/p}, a pair of axes matrix norms ('fro', 'nuc', ±1, ±2, ±inf).  Integers and bools
    are computed in the default float dtype (every order: a norm is a float, NumPy's and PyTorch's)."""
    x = ops.floating(_t(x))
    axis = axis if dim is None else dim
    keepdims = keepdims if keepdim is None else keepdim
    if axis is None:
        if ord is not None and x.ndim == 2:
            return _matrix_norm(x, ord, (0, 1), keepdims)
        if ord is not None and x.ndim != 1:
            raise ValueError(f"linalg.norm: ord={ord!r} needs a vector or a matrix, got shape {x.shape}; pass axis=")
        out = _vector_norm(x.reshape(-1), 2 if ord is None else ord, 0, False)
        return out.reshape((1,) * x.ndim) if keepdims else out
    if isinstance(axis, int):
        return _vector_norm(x, 2 if ord is None else ord, axis, keepdims)
    axis = tuple(axis)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError(f"linalg.norm: axis must be an int or a pair of ints, got {axis!r}")


def _float_input(name: str, x, dtype) -> Tensor:
    """``x`` as a float tensor (cast to ``dtype`` when given); an integer one raises, as PyTorch."""
    x = _t(x)
    if dtype is not None:
        x = ops.astype(x, dtype)
    if x.dtype.kind != "f":
        raise TypeError(
            f"linalg.{name}: expects a floating-point tensor, got {x.dtype}; cast it first (x.float()) or pass dtype="
        )
    return x


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A002 - PyTorch's name
    """PyTorch's ``linalg.vector_norm``: ‖x‖_p = (Σ|x_i|^p)^{1/p} over ``dim`` (an int, a tuple
    of ints, or None: every entry, whatever the shape); p = inf: max |x_i|, −inf: min |x_i|,
    0: the number of non-zeros (derivative 0).  Gradient sign(x)|x|^{p−1} / ‖x‖_p^{p−1}, 0 at x = 0.
    ``dtype``: the input is cast to it first."""
    x = _float_input("vector_norm", x, dtype)
    dim = ops.axis_of(None, dim)  # (an empty dim: every entry, as PyTorch's)
    if dim is None:
        out = _vector_norm(x.reshape(-1), ord, 0, False)
        return out.reshape((1,) * x.ndim) if keepdim else out
    if not x.ndim:
        dim = ops.scalar_axis("linalg.vector_norm", dim)
        return _vector_norm(x, ord, None, False)
    for d in dim if isinstance(dim, list | tuple) else (dim,):  # named here, not by the sum inside
        ops.check_dim("linalg.vector_norm", d, x.ndim)
    return _vector_norm(x, ord, tuple(dim) if isinstance(dim, list | tuple) else dim, keepdim)


def matrix_norm(a, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None):  # noqa: A002 - PyTorch's name
    """PyTorch's ``linalg.matrix_norm`` over the two axes ``dim`` (batched over the others):
    'fro' ‖A‖_F = √Σ a_ij², 'nuc' Σσ_i, 2 / −2 the largest / smallest σ, 1 / −1 the largest /
    smallest column sum of |a_ij|, inf / −inf the same over rows.  Gradients: A/‖A‖_F, U Vᵀ,
    u₁v₁ᵀ, sign(a) in the selected column/row (finite while σ / the maximiser is simple)."""
    a = _float_input("matrix_norm", a, dtype)
    dim = tuple(dim)
    if a.ndim < 2 or len(dim) != 2 or len({d % a.ndim for d in dim}) != 2:
        raise ValueError(
            f"linalg.matrix_norm: needs a tensor of at least 2 dims and two distinct dims, got shape {a.shape} "
            f"and dim={dim!r}; use linalg.vector_norm for vectors"
        )
    for d in dim:
        ops.check_dim("linalg.matrix_norm", d, a.ndim)
    return _matrix_norm(a, ord, dim, keepdim)


def torch_norm(x, p="fro", dim=None, keepdim: bool = False):
    """PyTorch's ``torch.norm`` and ``x.norm(p, dim, keepdim)``: the vector norm (Σ|x|^p)^{1/p}
    over ``dim`` (every entry when None; 'fro' is p = 2), or with p = 'nuc' the nuclear norm
    of the matrix over ``dim`` (a 2-D tensor when None).  ``ng.linalg.norm`` is NumPy's.  Integers and bools are
    computed in the default float dtype (as ``ng.linalg.norm``)."""
    x = ops.floating(_t(x))
    if p == "nuc":
        return norm(x, "nuc", axis=tuple(range(x.ndim)) if dim is None else dim, keepdims=keepdim)
    p = 2 if p == "fro" else p
    dim = ops.axis_of(None, dim)  # (an empty dim: every entry, as PyTorch's)
    if dim is None:
        out = _vector_norm(x.reshape(-1), p, 0, False)
        return out.reshape((1,) * x.ndim) if keepdim else out
    return _vector_norm(x, p, tuple(dim) if isinstance(dim, list) else dim, keepdim)


# PyTorch's top-level names and Tensor methods for these functions (torch.det, x.det() …)
row("norm", None, "function", torch_norm.__doc__, fn=torch_norm)
for _name, _fn in {
    "det": det,
    "slogdet": slogdet,
    "inverse": inv,
    "pinverse": pinv,
    "matrix_power": matrix_power,
    "trace": trace,
    "cholesky": cholesky,
    "qr": qr,
}.items():
    row(_name, None, "function", f"PyTorch's name for ``linalg.{_fn.__name__}``.", fn=_fn)


__all__ = [
    "cholesky", "cond", "cross", "det", "eigh", "eigvalsh", "inv", "lstsq", "matrix_norm", "matrix_power",
    "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_triangular", "svd", "svdvals",
    "trace", "vector_norm", "EighResult", "LstsqResult", "QRResult", "SVDResult", "SlogdetResult",
]  # fmt: skip
