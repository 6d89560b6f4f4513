"""Session 16 hardening of autodiff, each against PyTorch 2.13 (torch, torch.func) or central differences:
complex values are data, never silently differentiated; tensors hold numbers only, with one dtype message;
var/std with no degrees of freedom are nan as torch's; logcumsumexp's derivatives at −∞; the Tensor methods
PyTorch users expect; explain's inputs."""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.func as tf

import nablagrad as ng
from nablagrad.backend.dtypes import TENSOR_DTYPES

inf = math.inf


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.numpy() if isinstance(t, ng.Tensor) else t)


def _close(a, b, tol=1e-10):
    a, b = _np(a), _np(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


# --- 1. complex values: data, never silently differentiated ------------------------------------------------------
# (on the CPU: the array API's strict library refuses to mix complex and real arrays at all)
@pytest.fixture
def on_cpu():
    ng.set_default_device("cpu")


@pytest.mark.usefixtures("on_cpu")
def test_backward_of_a_complex_output_raises_as_torch():
    w = torch.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar outputs"):
        (torch.tensor([1j]) * w).sum().backward()
    v = ng.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar outputs"):
        (ng.tensor([1j]) * v).sum().backward()
    assert v.grad is None  # nothing written: no silent [0.]


@pytest.mark.usefixtures("on_cpu")
def test_a_complex_value_on_the_gradient_path_is_refused_not_a_wrong_number():
    """torch gives d|i·w|/dw = sign(w) = 1 by Wirtinger calculus; real rules (no conjugation) would give −1."""
    w = torch.tensor([2.0], requires_grad=True)
    (torch.tensor([1j]) * w).abs().sum().backward()
    assert w.grad.item() == 1.0
    v = ng.tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"a value the gradient flows through is complex \(complex128, op 'mul'\)"):
        (ng.tensor([1j]) * v).abs().sum().backward()
    assert v.grad is None
    with pytest.raises(RuntimeError, match="complex"):
        ng.grad(lambda x: (ng.tensor([1j]) * x).abs().sum())(np.array([2.0]))
    with pytest.raises(TypeError, match="jacrev: f returns a complex output"):
        ng.jacrev(lambda x: ng.tensor([1j]) * x)(np.array([2.0]))
    with pytest.raises(TypeError, match="jvp: mul made a complex value"):
        ng.jvp(lambda x: (ng.tensor([1j]) * x).abs(), (np.array([2.0]),), (np.array([1.0]),))


@pytest.mark.usefixtures("on_cpu")
def test_complex_tensors_hold_values_but_refuse_requires_grad():
    z = np.array([1 + 2j, -3j])
    out = ng.tensor(z) * ng.tensor([2.0, 3.0], dtype="float64")
    np.testing.assert_array_equal(out.numpy(), (torch.tensor(z) * torch.tensor([2.0, 3.0], dtype=torch.float64)).numpy())
    assert ng.tensor(z).is_complex() and not ng.tensor(z).is_floating_point()
    with pytest.raises(TypeError, match="requires_grad: nablagrad differentiates real floating-point tensors only; this one is"):
        ng.tensor(z, requires_grad=True)


# --- 2. tensors hold numbers; one dtype message -----------------------------------------------------------------
@pytest.mark.parametrize(
    "array, what",
    [
        (np.array(["a", "b"]), "strings"),
        (np.array([b"a", b"b"]), "bytes"),
        (np.array([1.0, 2.0], dtype=object), "Python objects"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), "dates"),
        (np.array([1, 2], dtype="timedelta64[s]"), "time spans"),
        (np.zeros(2, dtype=[("value", "f8")]), "records"),
    ],
)
def test_arrays_that_hold_no_numbers_are_refused_when_the_tensor_is_made(array, what):
    with pytest.raises(TypeError):  # torch refuses them too
        torch.tensor(array)
    for make, who in ((ng.tensor, "tensor"), (ng.as_tensor, "as_tensor")):
        with pytest.raises(TypeError, match=f"{who}: a tensor holds numbers, not {what}") as err:
            make(array)
        assert f"(dtype {array.dtype})" in str(err.value)


def test_a_name_that_is_no_dtype_lists_the_accepted_ones():
    accepted = [name for names in TENSOR_DTYPES.values() for name in names]
    for call, who in (
        (lambda: ng.tensor([1.0], dtype="floaty"), "tensor"),
        (lambda: ng.zeros(2, dtype="floaty"), "zeros"),
        (lambda: ng.tensor([1.0]).astype("floaty"), "astype"),
    ):
        with pytest.raises(TypeError, match=f"{who}: 'floaty' is not a dtype; give one of") as err:
            call()
        assert all(name in str(err.value) for name in accepted)
    with pytest.raises(TypeError, match="astype: a tensor holds numbers, not strings"):
        ng.tensor([1.0]).astype("U3")
    for dtype in accepted:  # each accepted name makes a tensor of that dtype, as torch's of the same name
        assert ng.tensor([1], dtype=dtype, device="cpu").dtype == np.dtype(dtype)
        assert str(torch.tensor([1], dtype=getattr(torch, dtype)).dtype) == f"torch.{dtype}"


# --- 3. var / std with no degrees of freedom ----------------------------------------------------------------------
@pytest.mark.parametrize("values, correction", [([1.0], 1), ([1.0, 2.0], 2), ([1.0, 2.0], 3), ([1.0, 1.0], 3), ([1.0], 0)])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_with_n_at_most_correction_are_torchs(name, values, correction):
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    x = ng.tensor(values, dtype="float64", requires_grad=True)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        tout = getattr(t, name)(correction=correction)
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        out = getattr(x, name)(correction=correction)
    tout.backward()
    out.backward()
    _close(out, tout)
    if not (name == "var" and 1 < len(values) <= correction and values[0] != values[1]):
        _close(x.grad, t.grad)  # (else 2(x − x̄)/0 = ±∞ here; torch's full reduction gives +∞ everywhere, its dim=
        # reduction ±∞ as ours: see the next test)
    warned = [any("degrees of freedom is <= 0" in str(w.message) for w in caught) for caught in (theirs, ours)]
    assert warned == [len(values) <= correction] * 2


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_by_rows_with_no_degrees_of_freedom_are_torchs(name):
    a = np.array([[1.0, 2.0], [3.0, 3.0]])
    t, x = torch.tensor(a, requires_grad=True), ng.tensor(a, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tout, out = getattr(t, name)(dim=1, correction=2), getattr(x, name)(dim=1, correction=2)
    _close(out, tout)  # [inf, nan]
    tout.sum().backward()
    out.sum().backward()
    _close(x.grad, t.grad)  # var: [[−inf, inf], [nan, nan]]; std: nan


def test_var_by_rows_and_its_hessian_are_torchs():
    a = np.random.default_rng(0).standard_normal((3, 5))
    for correction in (0, 1, 2):
        _close(ng.var(ng.tensor(a), dim=1, correction=correction), torch.tensor(a).var(dim=1, correction=correction))
        h = ng.hessian(lambda x: (x.var(dim=1, correction=correction) * np.arange(1.0, 4.0)).sum())(a)
        th = tf.hessian(lambda x: (x.var(dim=1, correction=correction) * torch.arange(1.0, 4.0, dtype=torch.float64)).sum())(
            torch.tensor(a)
        )
        _close(h, th)


# --- 4. logcumsumexp at −∞ ------------------------------------------------------------------------------------------
POINTS = [[-inf, 0.0, 1.0], [-inf, -inf, 2.0], [0.0, -inf, 1.0], [1.0, 2.0, -inf], [0.5, 1.0, 2.0]]


def _lcse_ng(x):
    return ng.logcumsumexp(x, 0)


def _lcse_torch(x):
    return torch.logcumsumexp(x, 0)


@pytest.mark.parametrize("point", POINTS)
def test_logcumsumexp_tangent_and_jacobians_at_minus_infinity_are_finite_as_torchs_jvp(point):
    x = np.array(point)
    tangent = np.array([0.3, -1.0, 2.0])
    _close(_lcse_ng(ng.tensor(x)), _lcse_torch(torch.tensor(x)))
    _, tdot = tf.jvp(_lcse_torch, (torch.tensor(x),), (torch.tensor(tangent),))
    _close(ng.jvp(_lcse_ng, (x,), (tangent,))[1], tdot)
    jac = tf.jacfwd(_lcse_torch)(torch.tensor(x))  # torch's JVP (its VJP gives nan at −∞ inputs)
    assert torch.isfinite(jac).all()
    _close(ng.jacfwd(_lcse_ng)(x), jac)
    _close(ng.jacrev(_lcse_ng)(x), jac)  # reverse mode equals forward mode


@pytest.mark.parametrize("point", POINTS)
def test_logcumsumexp_second_derivatives_match_torch_forward_over_forward(point):
    x = np.array(point)
    w = np.array([1.0, 2.0, 3.0])
    th = tf.jacfwd(tf.jacfwd(lambda t: (_lcse_torch(t) * torch.tensor(w)).sum()))(torch.tensor(x))
    _close(ng.hessian(lambda t: (_lcse_ng(t) * w).sum())(x), th)
    if np.isfinite(x).all():
        th = tf.hessian(lambda t: (_lcse_torch(t) * torch.tensor(w)).sum())(torch.tensor(x))
        _close(ng.hessian(lambda t: (_lcse_ng(t) * w).sum())(x), th)


# --- 5. Tensor methods PyTorch users expect ------------------------------------------------------------------------
A = np.array([[1.0, np.nan, 3.0], [-2.0, 5.0, np.nan]])
B = np.array([[1.0, 0.0, 4.0], [-2.0, 6.0, 1.0]])


@pytest.mark.parametrize(
    "name", ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal"]
)
def test_comparisons_by_name(name):
    want = getattr(torch, name)(torch.tensor(A), torch.tensor(B))
    _close(getattr(ng, name)(ng.tensor(A), ng.tensor(B)).astype("float64"), want.double())
    _close(getattr(ng.tensor(A), name)(ng.tensor(B)).astype("float64"), want.double())
    _close(getattr(ng.tensor(A), name)(1.0).astype("float64"), getattr(torch.tensor(A), name)(1.0).double())


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
@pytest.mark.parametrize("kw", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}])
def test_nansum_and_nanmean_values_and_gradients(name, kw):
    t = torch.tensor(A, requires_grad=True)
    x = ng.tensor(A, requires_grad=True)
    tout, out = getattr(torch, name)(t, **kw), getattr(ng, name)(x, **kw)
    _close(out, tout)
    _close(getattr(ng.tensor(A), name)(**kw), tout)
    seed = np.arange(1.0, 1.0 + tout.numel()).reshape(tout.shape)
    tout.backward(torch.tensor(seed))
    out.backward(ng.tensor(seed))
    _close(x.grad, t.grad)


def test_nanmean_refuses_integers_as_torch():
    with pytest.raises(RuntimeError):
        torch.tensor([1, 2]).nanmean()
    with pytest.raises(TypeError, match="nanmean"):
        ng.tensor([1, 2]).nanmean()


def test_xlogy_values_and_gradients_are_torchs():
    xs = np.array([0.0, 0.0, 0.0, 1.0, 2.0, -1.5, 3.0, 0.0])
    ys = np.array([np.nan, 2.0, -1.0, 0.0, 3.0, 0.5, inf, inf])
    tx, ty = torch.tensor(xs, requires_grad=True), torch.tensor(ys, requires_grad=True)
    x, y = ng.tensor(xs, requires_grad=True), ng.tensor(ys, requires_grad=True)
    tout, out = torch.xlogy(tx, ty), ng.xlogy(x, y)
    _close(out, tout)  # 0 where x = 0 (also at y = ∞), nan with y = nan
    _close(x.xlogy(y), tout)
    tout.sum().backward()
    out.sum().backward()
    _close(y.grad, ty.grad)
    _close(x.grad[:-1], tx.grad[:-1])  # (the last: x = 0, y = ∞: torch's ∂/∂x = ∞, ours 0, as documented)
    assert x.grad.numpy()[-1] == 0.0
    # x = y = 0: 0 and ∂/∂x = 0 as torch; ∂/∂y is 0 (torch: 0/0 = nan, documented)
    x0, y0 = ng.tensor([0.0], requires_grad=True), ng.tensor([0.0], requires_grad=True)
    ng.xlogy(x0, y0).sum().backward()
    assert ng.xlogy(x0, y0).item() == 0.0 and x0.grad.item() == 0.0 and y0.grad.item() == 0.0
    # second derivatives at an ordinary point
    p = np.array([0.7, 1.3])
    h = ng.hessian(lambda v: ng.xlogy(v[0], v[1]))(p)
    th = tf.hessian(lambda v: torch.xlogy(v[0], v[1]))(torch.tensor(p))
    _close(h, th)
    assert ng.xlogy(ng.tensor([1.0, 2.0]), 2.0).dtype == np.float32  # a number is weak, as torch's


@pytest.mark.parametrize(
    "name, args",
    [
        ("negative", ()), ("positive", ()), ("absolute", ()), ("fix", ()), ("frac", ()), ("deg2rad", ()), ("rad2deg", ()),
        ("fliplr", ()), ("flipud", ()), ("addcmul", ("B", "B")), ("addcdiv", ("B", "C")),
    ],
)  # fmt: skip
def test_one_line_compositions_values_and_gradients(name, args):
    a = np.array([[1.5, -2.25, 3.0], [-0.5, 0.75, 2.5]])
    others = {"B": B, "C": B + 3.0}
    t = torch.tensor(a, requires_grad=True)
    x = ng.tensor(a, requires_grad=True)
    tout = getattr(torch, name)(t, *(torch.tensor(others[k]) for k in args))
    out = getattr(ng, name)(x, *(ng.tensor(others[k]) for k in args))
    _close(out, tout)
    _close(getattr(ng.tensor(a), name)(*(ng.tensor(others[k]) for k in args)), tout)
    seed = np.arange(1.0, 7.0).reshape(2, 3)
    tout.backward(torch.tensor(seed))
    out.backward(ng.tensor(seed))
    _close(x.grad, t.grad)
    if name in ("addcmul", "addcdiv"):
        tv = getattr(torch, name)(torch.tensor(a), torch.tensor(B), torch.tensor(B + 3.0), value=0.5)
        _close(getattr(ng, name)(ng.tensor(a), ng.tensor(B), ng.tensor(B + 3.0), value=0.5), tv)


def test_infinity_tests_and_unary_plus():
    v = np.array([inf, -inf, 1.0, np.nan])
    for name in ("isposinf", "isneginf"):
        _close(getattr(ng, name)(ng.tensor(v)).astype("float64"), getattr(torch, name)(torch.tensor(v)).double())
    x = ng.tensor(B, requires_grad=True)
    _close(+x, +torch.tensor(B))
    (+x).sum().backward()
    _close(x.grad, np.ones_like(B))


def test_new_tensors_take_dtype_and_device_of_the_tensor():
    x, t = ng.tensor(B, dtype="float64"), torch.tensor(B, dtype=torch.float64)
    for name, args in (("new_zeros", ((2, 3),)), ("new_ones", (2, 3)), ("new_full", ((2,), 7.5)), ("new_empty", ((2,),))):
        ours, theirs = getattr(x, name)(*args), getattr(t, name)(*args)
        assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float64 and ours.device == x.device
        if name != "new_empty":
            _close(ours, theirs)
    _close(x.new_tensor([1, 2]), t.new_tensor([1, 2]))
    assert x.new_tensor([1, 2]).dtype == np.float64
    assert x.new_zeros(2, dtype="int64").dtype == np.int64
    assert x.new_ones(2, requires_grad=True).requires_grad


def test_shape_and_dtype_of_another_tensor():
    x, t = ng.tensor(np.arange(6.0)), torch.arange(6.0, dtype=torch.float64)
    other = ng.tensor(np.zeros((2, 3), np.float32))
    _close(x.view_as(other), t.view_as(torch.zeros(2, 3)))
    _close(x.reshape_as(other), t.reshape_as(torch.zeros(2, 3)))
    assert x.type_as(other).dtype == np.float32
    g = ng.grad(lambda v: (v.view_as(other) * np.arange(6.0).reshape(2, 3)).sum())(np.ones(6))
    _close(g, np.arange(6.0))


def test_conjugate_transposes_of_real_tensors():
    m = np.arange(6.0).reshape(2, 3)
    batch = np.arange(24.0).reshape(2, 3, 4)
    _close(ng.tensor(m).H, torch.tensor(m).H)
    _close(ng.tensor(batch).mH, torch.tensor(batch).mH)
    with pytest.raises(RuntimeError):
        _ = torch.tensor(batch).H
    with pytest.raises(ValueError, match=r"H: only for matrices \(2-D tensors\), got shape \(2, 3, 4\); for batches .* use .mH"):
        _ = ng.tensor(batch).H
    g = ng.grad(lambda v: (v.mH * np.arange(24.0).reshape(2, 4, 3)).sum())(batch)
    _close(g, np.arange(24.0).reshape(2, 4, 3).transpose(0, 2, 1))


def test_descriptive_methods_are_torchs():
    a = np.zeros((2, 3), np.float32)
    x, t = ng.tensor(a, device="cpu"), torch.tensor(a)
    assert x.is_floating_point() == t.is_floating_point() and x.is_complex() == t.is_complex()
    assert ng.tensor([1, 2]).is_floating_point() == torch.tensor([1, 2]).is_floating_point()
    assert (x.nelement(), x.ndimension(), x.element_size(), x.itemsize, x.nbytes) == (
        t.nelement(), t.ndimension(), t.element_size(), t.itemsize, t.nbytes
    )  # fmt: skip
    assert x.is_contiguous() and x.is_cpu and not x.is_cuda
    w = ng.tensor([1.0], requires_grad=True)
    assert w.grad_fn is None and (w * 2).grad_fn is not None and (w * 2).grad_fn.name == "mul"


# --- 6. explain's inputs ------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("on_cpu")
def test_explain_refuses_a_vector_input_naming_it_and_the_fix():
    with pytest.raises(TypeError, match=r"explain: input 1 \(x\) has shape \(3,\).*ng.explain\(f, 2.0, 3.0\).*ng.grad"):
        ng.explain(lambda x: x.sum(), np.ones(3))
    with pytest.raises(TypeError, match=r"explain: every intermediate must be a scalar, but mul made one of shape \(3,\)"):
        ng.explain(lambda x: (x * np.ones(3)).sum(), 2.0)
    e = ng.explain(lambda x, y: x * y + ng.sin(x), np.array(2.0), 3.0)  # a 0-d array is one number
    np.testing.assert_allclose(e.gradient, [3.0 + math.cos(2.0), 2.0])
