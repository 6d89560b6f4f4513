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
