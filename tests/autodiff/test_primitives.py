"""Every primitive against PyTorch (values, VJPs, JVPs) and central differences (gradcheck)."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped

# name: (nablagrad fn, torch fn, input shapes, input domain)
POS = "pos"
ANY = "any"
CASES = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (4,)], ANY),
    "add_scalar_left": (lambda a: 2.5 + a, lambda a: 2.5 + a, [(3,)], ANY),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [(2, 1, 3), (4, 1)], ANY),
    "rsub": (lambda a: 1.0 - a, lambda a: 1.0 - a, [(3,)], ANY),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [(3, 1), (1, 5)], ANY),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (3, 1)], POS),
    "rdiv": (lambda a: 2.0 / a, lambda a: 2.0 / a, [(5,)], POS),
    "neg": (lambda a: -a, lambda a: -a, [(3,)], ANY),
    "pow_const": (lambda a: a**3, lambda a: a**3, [(4,)], ANY),
    "pow_frac": (lambda a: a**0.5, lambda a: a**0.5, [(4,)], POS),
    "pow_tensor": (lambda a, b: a**b, lambda a, b: a**b, [(3, 2), (2,)], POS),
    "rpow": (lambda a: 2.0**a, lambda a: 2.0**a, [(3,)], ANY),
    "exp": (ng.exp, torch.exp, [(2, 3)], ANY),
    "log": (ng.log, torch.log, [(2, 3)], POS),
    "sqrt": (ng.sqrt, torch.sqrt, [(2, 3)], POS),
    "sin": (ng.sin, torch.sin, [(5,)], ANY),
    "cos": (ng.cos, torch.cos, [(5,)], ANY),
    "tanh": (ng.tanh, torch.tanh, [(5,)], ANY),
    "sigmoid": (ng.sigmoid, torch.sigmoid, [(5,)], ANY),
    "relu": (ng.relu, torch.relu, [(6,)], ANY),
    "abs": (ng.abs, torch.abs, [(6,)], ANY),
    "maximum": (ng.maximum, torch.maximum, [(3, 4), (4,)], ANY),
    "minimum": (ng.minimum, torch.minimum, [(3, 4), (3, 1)], ANY),
    "where": (
        lambda a, b: ng.where(a.data > 0, a, b),
        lambda a, b: torch.where(a > 0, a, b),
        [(3, 4), (4,)],
        ANY,
    ),
    "clip": (lambda a: ng.clip(a, -0.5, 0.5), lambda a: torch.clamp(a, -0.5, 0.5), [(8,)], ANY),
    "matmul_mm": (ng.matmul, torch.matmul, [(3, 4), (4, 2)], ANY),
    "matmul_mv": (ng.matmul, torch.matmul, [(3, 4), (4,)], ANY),
    "matmul_vm": (ng.matmul, torch.matmul, [(4,), (4, 2)], ANY),
    "matmul_vv": (ng.matmul, torch.matmul, [(4,), (4,)], ANY),
    "matmul_batched": (ng.matmul, torch.matmul, [(2, 3, 4), (4, 5)], ANY),
    "matmul_broadcast": (ng.matmul, torch.matmul, [(2, 1, 3, 4), (5, 4, 2)], ANY),
    "matmul_vbatch": (ng.matmul, torch.matmul, [(4,), (2, 4, 3)], ANY),
    "matmul_batchv": (ng.matmul, torch.matmul, [(2, 3, 4), (4,)], ANY),
    "sum_all": (lambda a: a.sum(), lambda a: a.sum(), [(3, 4)], ANY),
    "sum_axis": (lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), [(3, 4, 2)], ANY),
    "sum_axes_keep": (
        lambda a: a.sum(axis=(0, 2), keepdims=True),
        lambda a: a.sum(dim=(0, 2), keepdim=True),
        [(3, 4, 2)],
        ANY,
    ),
    "mean_axis": (lambda a: a.mean(axis=0), lambda a: a.mean(dim=0), [(3, 4)], ANY),
    "max_axis": (lambda a: a.max(axis=1), lambda a: torch.amax(a, dim=1), [(3, 4)], ANY),
    "min_all": (lambda a: a.min(), lambda a: torch.amin(a), [(3, 4)], ANY),
    "var_axis": (lambda a: a.var(axis=1), lambda a: a.var(dim=1), [(3, 5)], ANY),
    "var_unbiased": (lambda a: a.var(correction=1), lambda a: a.var(correction=1), [(6,)], ANY),
    "reshape": (lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [(3, 4)], ANY),
    "transpose": (lambda a: a.T, lambda a: a.T, [(3, 4)], ANY),
    "permute": (lambda a: a.permute(2, 0, 1), lambda a: a.permute(2, 0, 1), [(2, 3, 4)], ANY),
    "expand": (lambda a: a.expand(3, 4), lambda a: a.expand(3, 4), [(1, 4)], ANY),
    "getitem_slice": (lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(4, 5)], ANY),
    "getitem_int": (lambda a: a[2], lambda a: a[2], [(4, 5)], ANY),
    "getitem_repeat": (
        lambda a: a[np.array([0, 2, 0, 0])],
        lambda a: a[torch.tensor([0, 2, 0, 0])],
        [(4, 3)],
        ANY,
    ),
    "getitem_pairs": (
        lambda a: a[np.arange(3), np.array([1, 1, 0])],
        lambda a: a[torch.arange(3), torch.tensor([1, 1, 0])],
        [(3, 2)],
        ANY,
    ),
    "getitem_bool": (lambda a: a[a.data > 0], lambda a: a[a > 0], [(4, 3)], ANY),
    "concatenate": (
        lambda a, b: ng.concatenate([a, b], axis=1),
        lambda a, b: torch.cat([a, b], dim=1),
        [(2, 3), (2, 2)],
        ANY,
    ),
    "stack": (lambda a, b: ng.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], dim=1), [(2, 3), (2, 3)], ANY),
    "logsumexp": (lambda a: ng.logsumexp(a, axis=1), lambda a: torch.logsumexp(a, dim=1), [(3, 4)], ANY),
    "logsumexp_all": (lambda a: ng.logsumexp(a), lambda a: torch.logsumexp(a, dim=(0, 1)), [(3, 4)], ANY),
    "softmax": (lambda a: ng.softmax(a, axis=-1), lambda a: torch.softmax(a, dim=-1), [(3, 4)], ANY),
    "softmax_axis0": (lambda a: ng.softmax(a, axis=0), lambda a: torch.softmax(a, dim=0), [(3, 4)], ANY),
    "log_softmax": (lambda a: ng.log_softmax(a, axis=-1), lambda a: torch.log_softmax(a, dim=-1), [(3, 4)], ANY),
}


def _inputs(shapes, domain, seed):
    rng = np.random.default_rng(seed)
    out = []
    for s in shapes:
        x = rng.standard_normal(s)
        if domain == POS:
            x = np.abs(x) + 0.5
        out.append(x)
    return out


def _torch(f, arrays, requires_grad=True):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad) for a in arrays]
    return ts, f(*ts)


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_vjp_match_torch(name):
    f, tf, shapes, domain = CASES[name]
    arrays = _inputs(shapes, domain, seed=hash(name) % 2**32)
    xs = [ng.tensor(a, requires_grad=True) for a in arrays]
    out = f(*xs)
    ts, tout = _torch(tf, arrays)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    cot = np.random.default_rng(7).standard_normal(tout.shape)
    (out * ng.tensor(cot)).sum().backward()
    (tout * torch.tensor(cot)).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
        assert x.grad.shape == x.shape


@pytest.mark.parametrize("name", sorted(CASES))
def test_jvp_matches_torch_func(name):
    f, tf, shapes, domain = CASES[name]
    arrays = _inputs(shapes, domain, seed=hash(name) % 2**32)
    tangents = _inputs(shapes, ANY, seed=99)
    out, tan = ng.jvp(f, arrays, tangents)
    tout, ttan = torch.func.jvp(tf, tuple(torch.tensor(a) for a in arrays), tuple(torch.tensor(t) for t in tangents))
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tan.numpy(), ttan.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(set(CASES) - {"getitem_bool", "where"}))
def test_gradcheck_float64(name):
    f, _, shapes, domain = CASES[name]
    arrays = _inputs(shapes, domain, seed=hash(name) % 2**32)
    if name in {"relu", "abs", "clip", "maximum", "minimum", "max_axis", "min_all"}:
        arrays = [a + 0.05 * np.sign(a) for a in arrays]  # keep away from kinks
    assert ng.gradcheck(f, *arrays)


def test_gradcheck_where_with_fixed_mask():
    mask = np.array([True, False, True])
    assert ng.gradcheck(lambda a, b: ng.where(mask, a * a, ng.sin(b)), np.ones(3), np.arange(3.0))


def test_gradcheck_reports_worst_entries():
    wrong = ng.autodiff.Primitive("wrong_square", np.square, (lambda F, g, ans, x: g * x,), (lambda F, t, ans, x: t * x,))
    f = lambda x: ng.autodiff.apply(wrong, x)  # noqa: E731
    with pytest.raises(ng.GradcheckError, match=r"analytic .* numeric"):
        ng.gradcheck(f, np.array([1.0, 2.0]))


def test_gradcheck_runs_f_on_each_inputs_device():
    """gradcheck perturbs on the host in float64 and calls f (and its Jacobians) with tensors on each
    input's device: a tensor's own, host data's the default device — so a GPU user checks the GPU's rules."""
    seen = []

    def f(a, b):
        seen.append((a.device, b.device, a.dtype))
        return ng.sin(a) * (b * b).sum()

    assert ng.gradcheck(f, ng.tensor(np.array([0.3, -1.2, 2.0])), np.array([1.5, 0.5]))
    assert set(seen) == {(ng.get_default_device(), ng.get_default_device(), np.dtype(np.float64))}
    seen.clear()
    assert ng.gradcheck(lambda a: f(a, a), ng.tensor(np.array([0.7, -0.4]), device="cpu"))
    assert {s[0] for s in seen} == {ng.device("cpu")}
    wrong = ng.autodiff.Primitive("wrong_cube", lambda x: x**3, (lambda F, g, ans, x: g * x,), (lambda F, t, ans, x: t * x,))
    with pytest.raises(ng.GradcheckError, match=r"input 0, reverse mode, Jacobian index \(1, 1\): analytic 2, numeric 12"):
        ng.gradcheck(lambda x: ng.autodiff.apply(wrong, x), ng.tensor(np.array([1.0, 2.0])))


def test_fused_softmax_equals_composite(rng):
    x = rng.standard_normal((4, 6))
    fused = ng.softmax(ng.tensor(x), axis=1).numpy()
    composite = ng.exp(ng.tensor(x) - ng.logsumexp(ng.tensor(x), axis=1, keepdims=True)).numpy()
    np.testing.assert_allclose(fused, composite, rtol=1e-13)
    np.testing.assert_allclose(ng.log_softmax(ng.tensor(x)).numpy(), np.log(composite), rtol=1e-12, atol=1e-13)


def test_softmax_and_logsumexp_are_stable():
    x = ng.tensor([[1000.0, 0.0, -1000.0]], requires_grad=True)
    s = ng.softmax(x)
    assert np.all(np.isfinite(s.numpy()))
    lse = ng.logsumexp(x, axis=1)
    np.testing.assert_allclose(lse.numpy(), [1000.0])
    lse.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 0.0, 0.0]], atol=1e-30)
    ls = ng.log_softmax(x)
    assert np.all(np.isfinite(ls.numpy()))
    assert np.all(np.isfinite(ng.sigmoid(ng.tensor([-1000.0, 1000.0])).numpy()))


# --- the rule table generates the public surface --------------------------------------------------
def test_every_table_row_is_a_function_a_method_and_a_namespace_entry():
    from nablagrad.autodiff.primitive import NUMPY_NS, TABLE
    from nablagrad.autodiff.tensor import TENSOR_NS

    assert {"exp", "add", "matmul", "sum", "std", "softmax"} <= set(TABLE)
    for name, row in TABLE.items():
        f = getattr(ng, name)
        if row.kind == "function":  # written by hand (PyTorch's names may share another row's function)
            assert f is row.fn
        else:
            assert f.__doc__ == row.doc and f.__name__ == name
        if row.method:  # the function itself, or PyTorch's method where its signature differs
            assert getattr(ng.Tensor, name) is (f if row.method is True else row.method)
        assert hasattr(TENSOR_NS, name) and (row.prim is None or hasattr(NUMPY_NS, name))
    x = ng.tensor([1.0, -2.0])
    assert (x + 1).numpy().tolist() == [2.0, -1.0] and (1 - x).numpy().tolist() == [0.0, 3.0]
    assert abs(x).numpy().tolist() == [1.0, 2.0] and (-x).numpy().tolist() == [-1.0, 2.0]


def test_a_new_row_is_one_statement(monkeypatch):
    """DESIGN rule 9: a row in the table gives ng.<name>, Tensor.<name> and every mode."""
    from nablagrad.autodiff import api
    from nablagrad.autodiff.primitive import NUMPY_NS, TABLE, row
    from nablagrad.autodiff.tensor import TENSOR_NS

    monkeypatch.setattr(api, "OPS", dict(api.OPS))
    cube = row(
        "cube_for_test",
        ng.Primitive(
            "cube_for_test",
            lambda x: x**3,
            (lambda F, g, ans, x: g * 3 * x * x,),
            (lambda F, t, ans, x: t * 3 * x * x,),
        ),
        "unary",
        "x³; derivative 3x².",
    )
    try:
        assert TABLE["cube_for_test"].prim is cube
        api._install()
        x = np.array([0.5, -1.5])
        assert ng.Tensor.cube_for_test(ng.tensor(x)).numpy().tolist() == (x**3).tolist()
        h = ng.hessian(lambda v: api.OPS["cube_for_test"](v).sum())(x)
        np.testing.assert_allclose(h.numpy(), np.diag(6 * x))
        _, t = ng.jvp(api.OPS["cube_for_test"], (x,), (np.ones(2),))
        np.testing.assert_allclose(t.numpy(), 3 * x * x)
    finally:
        TABLE.pop("cube_for_test")
        for owner in (ng.Tensor, NUMPY_NS, TENSOR_NS, api):
            if hasattr(owner, "cube_for_test"):
                delattr(owner, "cube_for_test")


@pytest.mark.parametrize(
    "name, f_ng, f_th",
    [
        ("reshape", lambda x: x.reshape(3, 2), lambda x: x.reshape(3, 2)),
        ("transpose", lambda x: x.T, lambda x: x.T),
        ("getitem", lambda x: x[1:, ::2], lambda x: x[1:, ::2]),
        ("sum", lambda x: x.sum(axis=0), lambda x: x.sum(dim=0)),
        ("mean", lambda x: x.mean(axis=1, keepdims=True), lambda x: x.mean(dim=1, keepdim=True)),
        ("broadcast_to", lambda x: ng.broadcast_to(x, (4, 2, 3)), lambda x: torch.broadcast_to(x, (4, 2, 3))),
    ],
)
def test_linear_ops_jvp_derived_from_their_value_matches_torch(name, f_ng, f_th, rng):
    x, v = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    _, t = ng.jvp(f_ng, (x,), (v,))
    _, tt = torch.func.jvp(f_th, (torch.tensor(x),), (torch.tensor(v),))
    np.testing.assert_allclose(t.numpy(), tt.numpy(), rtol=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("value", [0.5, -3.0, 0.0, 40.0, -800.0])
def test_sigmoid_of_a_scalar_tensor_matches_torch(value, dtype):
    """Shape () goes through the same in-place formula as arrays (a NumPy scalar cannot be an ``out=``)."""
    x = ng.tensor(np.array(value, dtype=dtype), requires_grad=True)
    y = ng.sigmoid(x)
    y.backward()
    tx = torch.tensor(value, dtype=getattr(torch, dtype), requires_grad=True)
    ty = torch.sigmoid(tx)
    ty.backward()
    assert y.shape == () and y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-6, atol=0)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=0)
