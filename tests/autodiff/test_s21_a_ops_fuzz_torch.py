"""Differential fuzzing of the op table against torch 2.13 (session 21, job A): result dtypes and values of every
binary operator and its function over every pair of dtypes, 0-d and dimensioned tensors and Python numbers
(PyTorch's promotion: 0-d tensors and numbers are weak within their category, numbers wrap into an integer
tensor's dtype); unary and binary values and float64 gradients at edge inputs (0, −0, ±∞, NaN, huge, tiny);
reductions with dim tuples, negative dims and keepdim at ties.  Seeded and deterministic; torch is the oracle."""

import operator

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
# NumPy's arrays: torch's rules are matched where NumPy's differ (another array library's promotion is its own)
pytestmark = pytest.mark.numpy_only

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
SCALARS = (2, -3, 300, 2.5, True)  # 300 and -3 wrap into uint8/int8 (PyTorch), NumPy would refuse them
# left as NumPy's: a bool tensor to a bool power is int8 (torch: bool)
SKIP = {"bool[3] ** True", "bool[3] pow True"}
OPERATORS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "//": operator.floordiv,
    "%": operator.mod, "**": operator.pow, "&": operator.and_, "|": operator.or_, "^": operator.xor,
    "<<": operator.lshift, ">>": operator.rshift, "<": operator.lt, "<=": operator.le, "==": operator.eq,
    "!=": operator.ne,
}  # fmt: skip
FUNCTIONS = ("maximum", "minimum", "fmod", "remainder", "atan2", "hypot", "copysign", "xlogy", "bitwise_and",
             "bitwise_xor", "bitwise_left_shift", "floor_divide", "mul", "sub", "div", "pow", "gcd", "eq", "gt")  # fmt: skip


def _values(dtype: str, zero_d: bool) -> np.ndarray:
    """Nonzero values (integer division by 0 raises in both), negative where the dtype allows."""
    if dtype == "bool":
        v = np.array([True, True, True])
    elif dtype == "uint8":
        v = np.array([3, 200, 7]).astype(dtype)
    else:
        v = np.array([-3, 5, 7]).astype(dtype)
    return v[1] if zero_d else v


def _run(f, args, lib):
    conv = torch.tensor if lib is torch else ng.tensor
    try:
        return f(*(conv(a) if isinstance(a, np.ndarray | np.generic) else a for a in args))
    except Exception as exc:  # noqa: BLE001 - compared as an outcome
        return exc


def _same(got, want, label):
    """nablagrad's outcome equals torch's where torch computes one (where torch refuses, ng may compute)."""
    if isinstance(want, Exception):
        return []
    if isinstance(got, Exception):
        return [(label, repr(got)[:90], str(want.dtype))]
    want_dtype = str(want.dtype).removeprefix("torch.")
    if str(got.dtype) != want_dtype:
        return [(label, str(got.dtype), want_dtype)]
    a, b = got.numpy(), want.numpy()
    ok = np.array_equal(a, b) if a.dtype.kind in "biu" else np.allclose(a, b, rtol=2e-3, equal_nan=True)
    return [] if ok else [(label, a.tolist(), b.tolist())]


def _pairs(f_ng, f_torch, name):
    bad = []
    for a in DTYPES:
        for b in DTYPES:
            for za, zb in ((False, False), (False, True), (True, False)):
                args = (np.asarray(_values(a, za)), np.asarray(_values(b, zb)))
                label = f"{a}{'' if za else '[3]'} {name} {b}{'' if zb else '[3]'}"
                bad += _same(_run(f_ng, args, ng), _run(f_torch, args, torch), label)
        for s in SCALARS:
            v = _values(a, False)
            for args, label in (((v, s), f"{a}[3] {name} {s!r}"), ((s, v), f"{s!r} {name} {a}[3]")):
                bad += _same(_run(f_ng, args, ng), _run(f_torch, args, torch), label)
    return [b for b in bad if b[0] not in SKIP]


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
def test_operators_promote_and_compute_as_torch_over_every_dtype_pair(symbol):
    """Every operator over every pair of dtypes, 0-d with dimensioned, and with Python numbers: the dtype and the
    values torch gives (a 0-d tensor or number is weak in its category; uint8 & 0-d int64 is uint8; uint8 + −3 wraps;
    float32 == 0-d float64 compares in float32)."""
    op = OPERATORS[symbol]
    assert not _pairs(op, op, symbol)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_binary_functions_promote_and_compute_as_torch_over_every_dtype_pair(name):
    """xlogy(int, float16) is float16 and xlogy(int[3], 0-d float64) float64, as torch (was the default float)."""
    assert not _pairs(getattr(ng, name), getattr(torch, name), name)


# --- comparisons in PyTorch's common dtype, numbers wrapping into integer dtypes ------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.tensor(np.array([0.1], np.float32)) == m.tensor(np.array(0.1)),  # a 0-d float64 is weak
        lambda m: m.tensor(np.array([0.1], np.float32)) == np.float64(0.1),  # a NumPy scalar is weak
        lambda m: m.tensor(np.array([16777217])) == 16777216.0,  # int64 with a float: the default float dtype
        lambda m: m.tensor(np.array([1])) < 1.00000001,
        lambda m: m.tensor(np.array([16777217])) == m.tensor(np.array([16777216.0], np.float32)),
        lambda m: m.tensor(np.array([5], np.int32)) == m.tensor(np.array(2**32 + 5)),
        lambda m: m.tensor(np.array([-1], np.int8)) == m.tensor(np.array(255, np.uint8)),
        lambda m: m.tensor(np.array([3, 200], np.uint8)) < -1,  # −1 wraps to 255
        lambda m: m.tensor(np.array([3, 200], np.uint8)) > 300,  # 300 wraps to 44
        lambda m: m.tensor(np.array([3, 200], np.uint8)) & m.tensor(np.array(257)),
        lambda m: m.tensor(np.array([3, 100], np.int8)) ^ 300,
        lambda m: m.tensor(np.array([1])) + 2**63,  # wraps into int64, as torch
    ],
)
def test_comparisons_and_bitwise_ops_compute_in_torchs_common_dtype(make):
    got, want = make(ng), make(torch)
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
    assert got.numpy().tolist() == want.numpy().tolist()


def test_comparisons_promote_under_jit_and_vmap_as_outside():
    x32 = np.array([0.1, 0.2], np.float32)
    f = ng.jit(lambda a, b: (a == b).astype(np.float32) + a)
    got = f(ng.tensor(x32), ng.tensor(np.array(0.1)))
    want = (torch.tensor(x32) == torch.tensor(0.1, dtype=torch.float64)).float() + torch.tensor(x32)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    got = ng.vmap(lambda r: r == 0.1)(ng.tensor(x32.reshape(2, 1)))
    want = torch.func.vmap(lambda r: r == 0.1)(torch.tensor(x32.reshape(2, 1)))
    assert got.numpy().tolist() == want.numpy().tolist()


def test_an_integer_power_with_a_negative_or_out_of_range_number_is_refused_as_torch():
    u8 = np.array([3, 200], np.uint8)
    i8 = np.array([1, 2], np.int8)
    cases = ((u8, -2), (i8, 200), (np.array([2]), -1), (u8, np.int64(-2)), (i8, np.int64(200)))  # NumPy's ints too
    for base, exponent in cases:
        with pytest.raises(RuntimeError):
            torch.tensor(base) ** exponent
        x = ng.tensor(base)
        with pytest.raises(ValueError, match="pow: "):
            x**exponent
        with pytest.raises(ValueError, match="pow: "):
            ng.pow(x, exponent)
    got, want = -2 ** ng.tensor(u8), -2 ** torch.tensor(u8)  # a base wraps, as every other number
    assert got.numpy().tolist() == want.numpy().tolist()
    assert (ng.tensor(u8) ** 2).numpy().tolist() == (torch.tensor(u8) ** 2).numpy().tolist()


@pytest.mark.parametrize(
    "f",
    [
        lambda m: m.tensor(np.array([True, False])) - m.tensor(np.array([1, 2])),
        lambda m: m.tensor(np.array([1, 2])) - m.tensor(np.array([True, False])),
        lambda m: m.tensor(np.array([1, 2])) - True,
        lambda m: True - m.tensor(np.array([1, 2])),
        lambda m: 1 - m.tensor(np.array([True, False])),
        lambda m: m.sub(m.tensor(np.array([True, False])), 1),
        lambda m: m.tensor(np.array([True])) - m.tensor(np.array([True])),
    ],
)
def test_subtraction_with_a_bool_operand_is_refused_as_torch(f):
    with pytest.raises(RuntimeError, match="Subtraction"):
        f(torch)
    with pytest.raises(TypeError, match=r"sub: .*bool operand.* ~ or ng.logical_not"):
        f(ng)


def test_bool_addition_and_mask_inversion_still_work():
    m = ng.tensor(np.array([True, False]))
    assert (m + True).dtype == np.bool_ and (~m).numpy().tolist() == [False, True]
    assert (1 - m.long()).numpy().tolist() == [0, 1]


# --- values and float64 gradients at edge inputs ---------------------------------------------------------------------
EDGE = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.5, np.inf, -np.inf, np.nan, 1e308, -1e308,
                 1e-308, 5e-324, 710.0, -710.0, 1e5, 0.9999999999])  # fmt: skip
UNARY = ("abs", "acos", "acosh", "asin", "asinh", "atan", "atanh", "ceil", "cos", "cosh", "digamma", "erf", "erfc",
         "erfinv", "exp", "exp2", "expm1", "floor", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal",
         "relu", "round", "sigmoid", "sign", "sin", "sinc", "sinh", "sqrt", "square", "tan", "tanh", "trunc", "frac",
         "rsqrt", "logit", "nan_to_num", "deg2rad", "rad2deg", "sgn", "fix", "softplus")  # fmt: skip
# where nablagrad's derivative deliberately differs (documented): logit's outside [0, 1] is finite (torch: NaN);
# ψ′ at the poles of digamma is +∞ (torch: a huge finite number, NaN at −1e308); d sinc at 1e-20 is −π²x/3
# (torch: 0); d sinc at 0 is +0 in torch, −0 here (zeros compare equal below)
KNOWN = {"logit": lambda x: (x < 0) | (x > 1), "digamma": lambda x: (x < 0) & (x == np.round(x)),
         "sinc": lambda x: x == 1e-20}  # fmt: skip


def _torch_fn(name):
    if name == "softplus":
        return torch.nn.functional.softplus
    return getattr(torch, name)


def _assert_close(got, want, label, signed_zero=False):
    got, want = np.atleast_1d(got), np.atleast_1d(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (label, got.dtype, want.dtype)
    ok = np.isclose(got, want, rtol=1e-9, atol=1e-300, equal_nan=True) | (got == want)
    if signed_zero:
        ok &= ~((got == 0) & (want == 0) & (np.signbit(got) != np.signbit(want)))
    bad = np.nonzero(~ok)
    assert not bad[0].size, (label, got[bad].tolist(), want[bad].tolist())


@pytest.mark.parametrize("name", UNARY)
def test_unary_values_and_gradients_at_edge_inputs_match_torch(name):
    """relu(−0.0) is −0.0 and lgamma(−1e308) is +∞ (a pole), as torch's."""
    x = EDGE.copy()
    t = torch.tensor(x, requires_grad=True)
    want = _torch_fn(name)(t)
    a = ng.tensor(x, requires_grad=True)
    got = getattr(ng, name)(a)
    _assert_close(got.detach().numpy(), want.detach().numpy(), name, signed_zero=True)
    if not want.requires_grad:
        return
    want.backward(torch.ones_like(want))
    got.backward(ng.ones_like(got))
    keep = ~KNOWN.get(name, lambda v: np.zeros(v.shape, bool))(x)
    want_grad = (torch.zeros_like(t) + t.grad).numpy()  # (a ZeroTensor materialised)
    _assert_close(a.grad.numpy()[keep], want_grad[keep], name + " gradient")


_GRID = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.0, 3.0, -3.5, np.inf, -np.inf, np.nan, 1e308, 1e-308, 710.0])
BINARY = ("add", "sub", "mul", "div", "pow", "atan2", "hypot", "logaddexp", "copysign", "fmod", "remainder",
          "maximum", "minimum", "fmax", "fmin", "xlogy")  # fmt: skip


@pytest.mark.parametrize("name", BINARY)
def test_binary_values_and_gradients_on_an_edge_grid_match_torch(name):
    """Every pair of edge values: logaddexp's gradient at ±∞ and at 1e308 (½ each, not 1) and remainder's ∂/∂y as
    −(x // y) with Python's floor division (1 // −∞ = −1, ∞ // 1 = NaN), as torch's."""
    x, y = np.repeat(_GRID, _GRID.size), np.tile(_GRID, _GRID.size)
    # torch's fmod/remainder of a huge x, or by a subnormal-near y, is NaN (its quotient overflows); NumPy's is exact
    keep = np.ones(x.shape, bool)
    if name in ("fmod", "remainder"):
        keep = ~((np.abs(x) > 1e300) & np.isfinite(x)) & ~((np.abs(y) < 1e-300) & (y != 0))
    if name == "xlogy":  # documented: at x = 0, y ∈ {0, ∞} both derivatives are 0 here (torch: NaN, ∞)
        keep &= ~((x == 0) & ((y == 0) | (y == np.inf)))
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    want = getattr(torch, name)(tx, ty)
    ax, ay = ng.tensor(x, requires_grad=True), ng.tensor(y, requires_grad=True)
    got = getattr(ng, name)(ax, ay)
    _assert_close(got.detach().numpy()[keep], want.detach().numpy()[keep], name)
    want.backward(torch.ones_like(want))
    got.backward(ng.ones_like(got))
    for a, t, which in ((ax, tx, "x"), (ay, ty, "y")):
        want_grad = (torch.zeros_like(t) + (t.grad if t.grad is not None else 0)).numpy()
        got_grad = a.grad.numpy() if a.grad is not None else np.zeros_like(x)
        _assert_close(got_grad[keep], want_grad[keep], f"{name} gradient in {which}")


def test_empty_and_broadcast_size_one_operands_match_torch():
    rng = np.random.default_rng(2101)
    for sx, sy in (((0, 3), (1, 3)), ((2, 1, 3), (4, 1)), ((0,), ()), ((3, 1), (1, 0))):
        x, y = rng.standard_normal(sx), rng.standard_normal(sy) + 3.0
        for name in ("add", "mul", "div", "pow", "atan2", "maximum", "logaddexp", "remainder"):
            tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
            ax, ay = ng.tensor(x, requires_grad=True), ng.tensor(y, requires_grad=True)
            want, got = getattr(torch, name)(tx, ty), getattr(ng, name)(ax, ay)
            _assert_close(got.detach().numpy(), want.detach().numpy(), name)
            w = rng.standard_normal(tuple(want.shape))
            (want * torch.tensor(w)).sum().backward()
            (got * ng.tensor(w)).sum().backward()
            for a, t in ((ax, tx), (ay, ty)):
                _assert_close(a.grad.numpy(), t.grad.numpy(), f"{name} {sx} {sy} gradient")


# --- reductions: dim tuples, negative dims, keepdim, ties ------------------------------------------------------------
_TIES = np.random.default_rng(2102).integers(-2, 3, size=(3, 4, 2)).astype(float)  # many ties and zeros
REDUCTIONS = ("sum", "mean", "amax", "amin", "max", "min", "std", "var", "logsumexp", "norm", "nansum", "nanmean",
              "median", "nanmedian", "prod", "argmax", "count_nonzero", "all", "any")  # fmt: skip
DIMS = (None, 0, -1, (0, 2), (-1, 0), [1, -1])


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_over_dims_and_ties_match_torch(name):
    """nanmedian over every entry shares the gradient among ties (and among NaNs when all are NaN), as median's and
    torch's (it went to one entry).  Calls torch refuses are skipped (ng accepts some of them, e.g. prod's dims)."""
    rng = np.random.default_rng(2103)
    for dim in DIMS:
        for keepdim in (False, True):
            kw = {} if dim is None else {"dim": dim}
            if keepdim:
                kw["keepdim"] = True
            t = torch.tensor(_TIES, requires_grad=True)
            try:
                want = getattr(torch, name)(t, **kw)
            except (RuntimeError, TypeError):
                continue
            want = want[0] if isinstance(want, tuple) else want
            a = ng.tensor(_TIES, requires_grad=True)
            got = getattr(ng, name)(a, **kw)
            got = got[0] if isinstance(got, tuple) else got
            _assert_close(got.detach().numpy(), want.detach().numpy(), f"{name}{kw}")
            if not want.requires_grad:
                continue
            w = rng.standard_normal(tuple(want.shape))
            (want * torch.tensor(w)).sum().backward()
            (got * ng.tensor(w)).sum().backward()
            _assert_close(a.grad.numpy(), t.grad.numpy(), f"{name}{kw} gradient")


@pytest.mark.parametrize("x", [[2.0, np.nan, 2.0, 1.0, 3.0], [np.nan, np.nan], [1.0, 1.0], [np.nan, 1.0, np.nan]])
def test_nanmedian_of_every_entry_shares_ties_as_torch(x):
    x = np.array(x)
    t, a = torch.tensor(x, requires_grad=True), ng.tensor(x, requires_grad=True)
    torch.nanmedian(t).backward()
    ng.nanmedian(a).backward()
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
