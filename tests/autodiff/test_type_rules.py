"""PyTorch's type rules on every op of the rule table and the operators: the result dtype of each
op on float32/float64/int64/int32/bool tensors, Python and NumPy scalars equals torch's (where
torch computes it; a combination torch refuses is skipped)."""

import operator

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff.primitive import TABLE

torch = pytest.importorskip("torch")

_F32 = np.array([[0.5, 1.5], [2.5, 0.25]], dtype=np.float32)
TENSORS = {"f32": _F32, "f64": _F32.astype(np.float64), "i64": np.array([[1, 2], [3, 1]]), "bool": _F32 > 1}
TENSORS["i32"] = TENSORS["i64"].astype(np.int32)
SCALARS = {"float": 2.5, "int": 2, "np.float64": np.float64(2.5), "np.float32": np.float32(2.5), "np.int64": np.int64(2)}
TORCH_NAME = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
              "arctanh": "atanh", "arctan2": "atan2", "power": "pow"}  # fmt: skip
# PyTorch keeps bool where NumPy computes in int8 (square) or has no loop (sign): niche, left as NumPy's
SKIP = {"square(bool)", "sign(bool)"}


def _mismatches(label, f_ng, f_torch, args) -> list:
    try:
        ref = f_torch(*(torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args))
    except (RuntimeError, TypeError):
        return []  # torch refuses this combination
    if label in SKIP:
        return []
    try:
        out = f_ng(*(ng.tensor(a) if isinstance(a, np.ndarray) else a for a in args))
    except Exception as exc:  # noqa: BLE001 - reported as a mismatch
        return [(label, repr(exc)[:80], ref.dtype)]
    want = str(ref.dtype).removeprefix("torch.")
    return [] if str(out.dtype) == want else [(label, str(out.dtype), want)]


def _pairs(label: str, f_ng, f_torch, scalars: bool = True) -> list:
    """Mismatches of a binary op over every tensor with every tensor and (both ways) scalar."""
    bad = []
    for x, a in TENSORS.items():
        for y, v in {**TENSORS, **(SCALARS if scalars else {})}.items():
            bad += _mismatches(label.format(x, y), f_ng, f_torch, [a, v])
            if y in SCALARS:
                bad += _mismatches(label.format(y, x), f_ng, f_torch, [v, a])
    return bad


def _rows(kind):
    return sorted(n for n, r in TABLE.items() if r.kind == kind and hasattr(torch, TORCH_NAME.get(n, n)))


def test_unary_ops_compute_integers_in_the_default_float_dtype_as_torch():
    bad = []
    for name in _rows("unary"):
        for t, a in TENSORS.items():
            bad += _mismatches(f"{name}({t})", getattr(ng, name), getattr(torch, TORCH_NAME.get(name, name)), [a])
    assert not bad


def test_binary_ops_promote_as_torch():
    bad = []
    for name in _rows("binary"):
        f_ng, f_torch = getattr(ng, name), getattr(torch, TORCH_NAME.get(name, name))
        bad += _pairs(name + "({}, {})", f_ng, f_torch, scalars=name != "matmul")
    assert not bad


@pytest.mark.parametrize("symbol", ["+", "-", "*", "/", "**", "%", "//", "@"])
def test_operators_promote_as_torch(symbol):
    op = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
          "%": operator.mod, "//": operator.floordiv, "@": operator.matmul}[symbol]  # fmt: skip
    assert not _pairs("{} " + symbol + " {}", op, op, scalars=symbol != "@")


def test_reductions_and_functions_promote_as_torch():
    b = TENSORS["bool"]
    cases = {
        "where": (lambda x, y: ng.where(b, x, y), lambda x, y: torch.where(torch.tensor(b), x, y)),
        "clamp": (lambda x, y: ng.clamp(x, min=y), lambda x, y: torch.clamp(x, min=y)),
        "kron": (ng.kron, torch.kron),
        "concatenate": (lambda x, y: ng.concatenate([x, y]), lambda x, y: torch.cat([x, y])),
        "stack": (lambda x, y: ng.stack([x, y]), lambda x, y: torch.stack([x, y])),
        "einsum": (lambda x, y: ng.einsum("ij,jk->ik", x, y), lambda x, y: torch.einsum("ij,jk->ik", x, y)),
    }
    bad = []
    for name, (f_ng, f_torch) in cases.items():
        for x in ("f32", "f64", "i64"):
            for y, v in {**TENSORS, **SCALARS}.items():
                if name in ("where", "clamp") or y in TENSORS:
                    bad += _mismatches(f"{name}({x}, {y})", f_ng, f_torch, [TENSORS[x], v])
    for name in ("sum", "mean", "prod", "max", "std", "var", "logsumexp", "cumsum", "softmax", "norm"):
        f_ng, f_torch = getattr(ng, name), getattr(torch, name)
        if name in ("cumsum", "softmax"):
            f_ng, f_torch = (lambda a, f=f_ng: f(a, dim=1)), (lambda a, f=f_torch: f(a, dim=1))
        for x, a in TENSORS.items():
            bad += _mismatches(f"{name}({x})", f_ng, f_torch, [a])
    assert not bad


@pytest.mark.parametrize(
    "f",
    [
        lambda x: (x ** np.float64(3.0)).sum(),
        lambda x: (x * np.arange(3) + 1.5).exp().sum(),
        lambda x: ng.logsumexp(x, b=np.float64(2.0) * ng.tensor([1, 2, 3])),
        lambda x: ng.where(x > 0, x, 2.0 * np.float64(1.0)).sum() / 3,
    ],
)
def test_create_graph_gradients_keep_the_leafs_float32(f):
    x = ng.tensor(np.array([0.5, -1.5, 2.0], dtype=np.float32), requires_grad=True)
    f(x).backward(create_graph=True)
    assert x.grad.dtype == np.float32
    (gg,) = [ng.grad(lambda v: ng.grad(f)(v).sum())(x)]
    assert gg.dtype == np.float32


def test_linear_refuses_integer_input_like_torch_naming_layer_dtypes_and_fix():
    x = np.arange(6).reshape(2, 3)
    with pytest.raises(RuntimeError, match="dtype"):
        torch.nn.Linear(3, 2)(torch.tensor(x))
    with pytest.raises(TypeError, match=r"Linear\(3, 2\): input dtype int64 .* float32; cast the input \(x\.astype\('float"):
        ng.nn.Linear(3, 2)(x)
    assert ng.nn.Linear(3, 2)(x.astype(np.float32)).dtype == np.float32


# --- 0-d tensors (torch.result_type: dimensioned tensors > 0-d tensors > Python scalars, by category) ---
_DTYPES = ("bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64")
_BINARY = {"+": (operator.add, "add"), "-": (operator.sub, "sub"), "*": (operator.mul, "mul"),
           "/": (operator.truediv, "div"), "**": (operator.pow, "power"), "%": (operator.mod, "remainder")}  # fmt: skip


@pytest.mark.parametrize("symbol", sorted(_BINARY))
def test_a_zero_dim_tensor_promotes_as_torch_result_type(symbol, array_namespace):
    """float32 + 0-d float64 is float32 (the 0-d tensor is weak within its category), int64 +
    0-d float64 is float64 (a higher category wins), 0-d with 0-d promotes as two tensors."""
    op, name = _BINARY[symbol]
    dtypes = _DTYPES if array_namespace == "numpy" else [d for d in _DTYPES if d != "float16"]  # not in the standard
    bad = []
    for a in dtypes:
        for b in dtypes:
            for za, zb in ((0, 1), (1, 0), (0, 0)):
                args = [np.ones((2,) * za, a), np.ones((2,) * zb, b)]
                label = f"{a}{'[2]' * za} {symbol} {b}{'[2]' * zb}"
                bad += _mismatches(label, op, op, args)
                bad += _mismatches("ng." + name + ": " + label, getattr(ng, name), op, args)
    assert not bad


def test_zero_dim_tensor_in_where_clamp_and_the_examples_of_torch_docs():
    v32, s64 = np.array([0.5, 2.0], np.float32), np.array(1.5)
    c = np.array([True, False])
    assert ng.where(c, ng.tensor(s64), ng.tensor(v32)).dtype == np.float32
    assert ng.clamp(ng.tensor(v32), min=ng.tensor(s64)).dtype == np.float32
    assert (ng.tensor([1, 2]) + ng.tensor(s64)).dtype == np.float64  # a higher category wins: the 0-d float64
    assert (ng.tensor(s64) + ng.tensor(1.0)).dtype == np.float64  # two 0-d tensors: the wider float


def test_zero_dim_float64_gradients_keep_each_operands_dtype_as_torch():
    s64, v32 = np.array(1.5), np.array([0.5, -2.0, 3.0], np.float32)
    xs, ys = torch.tensor(s64, requires_grad=True), torch.tensor(v32, requires_grad=True)
    out_t = (xs * ys + xs / ys).sum()
    out_t.backward()
    x, y = ng.tensor(s64, requires_grad=True), ng.tensor(v32, requires_grad=True)
    out = (x * y + x / y).sum()
    out.backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float64 and y.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), xs.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), ys.grad.numpy(), rtol=1e-6)
    _, tangent = ng.jvp(lambda a: a * ng.tensor(v32), (ng.tensor(s64),), (ng.tensor(1.0, dtype=np.float64),))
    assert tangent.dtype == np.float32


def test_zero_dim_promotion_under_vmap_follows_the_per_example_shape_as_torch_func():
    v32 = np.ones(2, np.float32)

    def f(s, v):
        return s * v + s

    want = torch.func.vmap(f, in_dims=(0, None))(torch.tensor(np.ones(3)), torch.tensor(v32)).dtype
    got = ng.vmap(f, in_axes=(0, None))(ng.tensor(np.ones(3)), ng.tensor(v32)).dtype
    assert str(got) == str(want).removeprefix("torch.") == "float32"


# --- round(decimals=), sum/mean/prod(dtype=), logsumexp over an empty axis: as torch ------------------------
@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1, -2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_decimals_bit_for_bit_as_torch_with_zero_gradient(decimals, dtype):
    x = (np.random.default_rng(decimals + 5).standard_normal(500) * 100).astype(dtype)
    x[:4] = [0.125, 0.375, 2.5, -2.5]  # ties: half to even
    got, method = ng.round(ng.tensor(x), decimals=decimals), ng.tensor(x).round(decimals=decimals)
    want = torch.round(torch.tensor(x), decimals=decimals)
    assert got.dtype == method.dtype == dtype
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(method.numpy(), want.numpy())
    t = ng.tensor(x[:5], requires_grad=True)
    ng.round(t, decimals=decimals).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros(5))
    with pytest.raises(TypeError, match=r"round: unexpected keyword argument\(s\) \['digits'\]"):
        ng.round(t, digits=2)


@pytest.mark.parametrize("name", ["sum", "mean", "prod"])
@pytest.mark.parametrize(
    ("src", "dtype"), [("int64", "float64"), ("int64", "float32"), ("float32", "float64"), ("bool", "int32")]
)
def test_reductions_take_dtype_as_torch(name, src, dtype):
    x = (np.arange(1, 7).reshape(2, 3) % 3).astype(src)
    if name == "mean" and dtype == "int32":
        return  # torch refuses an integer mean
    for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}):
        got = getattr(ng, name)(ng.tensor(x), dtype=np.dtype(dtype), **kw)
        want = getattr(torch, name)(torch.tensor(x), dtype=getattr(torch, dtype), **kw)
        assert str(got.dtype) == dtype == str(want.dtype).removeprefix("torch.")
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
        assert getattr(ng.tensor(x), name)(dtype=np.dtype(dtype), **kw).dtype == got.dtype
    w = ng.tensor(np.array([0.5, 1.5, 2.0], np.float32), requires_grad=True)
    getattr(w, name)(dtype=np.float64).backward()
    tw = torch.tensor(np.array([0.5, 1.5, 2.0], np.float32), requires_grad=True)
    getattr(tw, name)(dtype=torch.float64).backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize(("shape", "dim"), [((0, 3), 0), ((3, 0), 1), ((0,), None), ((2, 0, 3), (1,)), ((2, 0), (0, 1))])
def test_logsumexp_over_an_empty_axis_is_minus_inf_as_torch(shape, dim):
    x = np.zeros(shape, np.float32)
    got = ng.logsumexp(ng.tensor(x), dim=dim)
    want = torch.logsumexp(torch.tensor(x), dim=tuple(range(len(shape))) if dim is None else dim)
    assert got.shape == tuple(want.shape) and got.dtype == np.float32
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    t = ng.tensor(x, requires_grad=True)
    ng.logsumexp(t, dim=dim).sum().backward()
    assert t.grad.shape == shape
    assert np.all(ng.logsumexp(ng.tensor(x), dim=dim, b=ng.tensor(np.ones(shape[-1:], np.float32))).numpy() == -np.inf)
