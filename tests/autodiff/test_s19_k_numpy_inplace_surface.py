"""Session 19, job K: the Tensor/NumPy surface's leftovers (issues 10 and 14), each against torch 2.13 / NumPy.

Comparisons with operands PyTorch does not compare, ``~`` of floats, ``expand`` errors, in-place forms
(bitwise, shifts, gcd/lcm and PyTorch's other elementwise ``op_`` methods), NumPy's ufuncs and
``np.max``/``np.round``/``np.cumsum``/``np.reshape``… on a tensor (a Tensor with its gradient, as the method).
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff.errors import InputError

torch = pytest.importorskip("torch")

# --- comparisons with operands that are not numbers: NotImplemented, as torch -----------------------------------


@pytest.mark.parametrize("other", [None, "a", object(), ["a"], {"k": 1}])
@pytest.mark.parametrize("op", [operator.eq, operator.ne])
def test_eq_ne_with_a_non_number_is_a_plain_bool_as_torch(op, other):
    got, want = op(ng.tensor([1.0, 2.0]), other), op(torch.tensor([1.0, 2.0]), other)
    assert type(got) is bool and got == want


@pytest.mark.parametrize("other", [None, "a", object()])
@pytest.mark.parametrize("op", [operator.lt, operator.le, operator.gt, operator.ge, operator.and_])
def test_ordering_with_a_non_number_raises_pythons_type_error_as_torch(op, other):
    with pytest.raises(TypeError) as theirs:
        op(torch.tensor([1, 2]), other)
    with pytest.raises(TypeError) as ours:
        op(ng.tensor([1, 2]), other)
    assert str(ours.value) == str(theirs.value).replace("torch.", "")


@pytest.mark.numpy_only  # (array_api_strict refuses a bool scalar with floats; an ndarray is on another device)
@pytest.mark.parametrize("other", [1.5, 2, True, np.float64(1.5), np.array([1.0, 3.0]), 1j])
def test_eq_with_numbers_and_arrays_still_compares_as_torch(other):
    x = np.array([1.5, 2.0])
    got = ng.tensor(x) == other
    want = torch.tensor(x) == (torch.tensor(other) if isinstance(other, np.ndarray) else other)
    np.testing.assert_array_equal(np.asarray(got), want.numpy())


def test_none_in_a_list_of_tensors_is_false():
    assert None not in [ng.tensor([1.0])]


# --- ~ of floats, expand's error ---------------------------------------------------------------------------------
def test_invert_of_a_float_tensor_names_the_op_and_the_fix():
    with pytest.raises(TypeError, match=r"bitwise_not.*integer and Boolean"):
        ~ng.tensor([1.0])
    np.testing.assert_array_equal(np.asarray(~ng.tensor([5, -2], dtype="int32")), (~torch.tensor([5, -2])).numpy())


def test_expand_to_fewer_sizes_is_an_input_error_like_torchs_runtime_error():
    with pytest.raises(RuntimeError):
        torch.ones(2, 3).expand(3)
    x = ng.ones(2, 3)
    with pytest.raises(InputError, match=r"expand.*\(2, 3\)") as info:
        x.expand(3)
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)


# --- in-place forms ----------------------------------------------------------------------------------------------
_INT_BINARY = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift"]


def _check_integer_in_place(name: str) -> None:
    a, b = np.array([6, 3, -8, 0]), np.array([4, 2, 1, 5])
    x, ref = ng.tensor(a), torch.tensor(a)
    version = x._version
    assert getattr(x, name + "_")(ng.tensor(b)) is x
    getattr(ref, name + "_")(torch.tensor(b))
    np.testing.assert_array_equal(np.asarray(x), ref.numpy())
    assert x._version != version  # (the write is counted, as torch's in-place ops)


@pytest.mark.parametrize("name", _INT_BINARY)
def test_integer_in_place_methods_match_torch(name):
    _check_integer_in_place(name)


@pytest.mark.numpy_only  # (gcd and lcm are not in the array API standard)
@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_in_place_match_torch(name):
    _check_integer_in_place(name)


@pytest.mark.parametrize("op", ["<<=", ">>=", "&=", "|=", "^=", "%=", "//="])
def test_augmented_integer_operators_write_in_place_as_torch(op):
    x, ref = ng.tensor([6, 3, -8]), torch.tensor([6, 3, -8])
    same, version = x, x._version
    scope = {"x": x, "ref": ref}
    exec(f"x {op} 2\nref {op} 2", scope)  # noqa: S102 - the statement under test is the operator itself
    assert scope["x"] is same and x._version != version
    np.testing.assert_array_equal(np.asarray(x), scope["ref"].numpy())


def test_augmented_operator_on_a_tensor_saved_for_backward_is_refused_at_backward():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = (y * y).sum()  # saves y
    y %= 1.5
    with pytest.raises(RuntimeError, match="modified by an inplace operation|in-place|version"):
        z.backward()


_FLOAT_UNARY = ["erf", "erfinv", "rsqrt", "frac", "sgn", "sinc", "logit", "arctan", "asinh", "deg2rad", "logical_not"]
_FLOAT_BINARY = ["atan2", "hypot", "copysign", "fmod", "remainder", "floor_divide", "xlogy", "lt", "ge", "heaviside"]


@pytest.mark.parametrize("name", _FLOAT_UNARY + _FLOAT_BINARY)
def test_pytorch_elementwise_in_place_methods_match_torch(name):
    a = np.array([[0.3, -0.6, 0.9], [0.2, 0.5, -0.1]])
    b = np.array([[0.7, 0.4, -0.2], [1.5, -0.3, 0.8]])
    args = (b,) if name in _FLOAT_BINARY else ()
    x, ref = ng.tensor(a), torch.tensor(a)
    assert getattr(x, name + "_")(*map(ng.tensor, args)) is x
    getattr(ref, name + "_")(*map(torch.tensor, args))
    np.testing.assert_allclose(np.asarray(x), ref.numpy(), rtol=1e-12, atol=1e-12, equal_nan=True)


def test_in_place_method_on_a_non_leaf_carries_the_gradient_as_torch():
    a = np.array([0.3, -0.6, 0.9])
    x = ng.tensor(a, requires_grad=True)
    y = x * 2.0
    y.erf_().hypot_(ng.tensor([1.0, 2.0, 3.0]))
    y.sum().backward()
    xt = torch.tensor(a, requires_grad=True)
    yt = xt * 2.0
    yt.erf_().hypot_(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    yt.sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "name, args, kw",
    [
        ("addmm", ((3, 2), (2, 4)), {"beta": 0.5, "alpha": 2.0}),
        ("addr", ((3,), (4,)), {}),
        ("baddbmm", None, {}),
        ("index_fill", (1, "idx", -1.0), {}),
        ("scatter_add", (1, "sidx", (3, 2)), {}),
    ],
)
def test_shape_keeping_linear_algebra_and_scatter_in_place_methods_match_torch(name, args, kw):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(5, 3, 4) if name == "baddbmm" else (3, 4))
    if args is None:
        args = ((5, 3, 2), (5, 2, 4))
    fixed = {"idx": np.array([2, 0]), "sidx": np.array([[0, 1], [2, 3], [1, 1]])}
    values = [fixed[a] if isinstance(a, str) else rng.normal(size=a) if isinstance(a, tuple) else a for a in args]
    x, ref = ng.tensor(base), torch.tensor(base)
    assert getattr(x, name + "_")(*[ng.tensor(v) if isinstance(v, np.ndarray) else v for v in values], **kw) is x
    getattr(ref, name + "_")(*[torch.tensor(v) if isinstance(v, np.ndarray) else v for v in values], **kw)
    np.testing.assert_allclose(np.asarray(x), ref.numpy(), rtol=1e-12)


# --- NumPy's functions and ufuncs on a tensor --------------------------------------------------------------------
@pytest.mark.parametrize("ufunc", [np.left_shift, np.right_shift])
def test_numpy_shift_ufuncs_give_tensors_through_our_ops(ufunc):
    x = ng.tensor([6, 3, 9])
    got, reflected = ufunc(x, 1), ufunc(2, x)
    assert isinstance(got, ng.Tensor) and isinstance(reflected, ng.Tensor)
    np.testing.assert_array_equal(np.asarray(got), ufunc(torch.tensor([6, 3, 9]), 1).numpy())
    np.testing.assert_array_equal(np.asarray(reflected), ufunc(2, np.array([6, 3, 9])))
    with pytest.raises(TypeError, match="integer and Boolean"):
        ufunc(ng.tensor([1.0]), 1)


_A = np.array([[0.25, -1.5, 2.7], [3.1, 0.5, -0.2]])
_NUMPY_CALLS = {
    "max": lambda m, t: m.max(t),
    "max axis": lambda m, t: m.max(t, axis=1),
    "amax keepdims": lambda m, t: m.amax(t, axis=0, keepdims=True),
    "min": lambda m, t: m.min(t),
    "round": lambda m, t: m.round(t),
    "round decimals": lambda m, t: m.round(t, 1),
    "around": lambda m, t: m.around(t, decimals=1),
    "cumsum": lambda m, t: m.cumsum(t),
    "cumsum axis": lambda m, t: m.cumsum(t, axis=1),
    "cumprod": lambda m, t: m.cumprod(t, axis=0),
    "prod": lambda m, t: m.prod(t),
    "reshape": lambda m, t: m.reshape(t, (3, 2)),
    "reshape -1": lambda m, t: m.reshape(t, -1),
    "transpose": lambda m, t: m.transpose(t),
    "squeeze": lambda m, t: m.squeeze(t[None]),
}


@pytest.mark.parametrize("call", list(_NUMPY_CALLS))
def test_numpy_functions_on_a_tensor_keep_value_and_gradient(call):
    f = _NUMPY_CALLS[call]
    x = ng.tensor(_A, requires_grad=True)
    out = f(np, x)
    assert isinstance(out, ng.Tensor)
    np.testing.assert_allclose(np.asarray(out), f(np, _A), rtol=1e-12)
    w = np.random.default_rng(1).normal(size=out.shape)
    (out * ng.tensor(w)).sum().backward()
    xt = torch.tensor(_A, requires_grad=True)
    # torch's own functions of the same meaning (NumPy's call on a torch tensor raises or drops the gradient)
    torch_calls = {
        "max": lambda t: t.max(), "max axis": lambda t: t.amax(1), "amax keepdims": lambda t: t.amax(0, keepdim=True),
        "min": lambda t: t.min(), "round": lambda t: t.round(), "round decimals": lambda t: t.round(decimals=1),
        "around": lambda t: t.round(decimals=1), "cumsum": lambda t: t.reshape(-1).cumsum(0),
        "cumsum axis": lambda t: t.cumsum(1), "cumprod": lambda t: t.cumprod(0), "prod": lambda t: t.prod(),
        "reshape": lambda t: t.reshape(3, 2), "reshape -1": lambda t: t.reshape(-1), "transpose": lambda t: t.T,
        "squeeze": lambda t: t[None].squeeze(),
    }
    (torch_calls[call](xt) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), xt.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fn", [np.argmax, np.argmin, np.argsort])
def test_numpy_index_functions_give_int64_tensors_as_torch(fn):
    got, want = fn(ng.tensor(_A)), fn(torch.tensor(_A))
    assert isinstance(got, ng.Tensor) and got.dtype == np.int64
    np.testing.assert_array_equal(np.asarray(got), want.numpy())
    np.testing.assert_array_equal(np.asarray(np.argmax(ng.tensor(_A), axis=1, keepdims=True)), np.argmax(_A, 1, keepdims=True))


@pytest.mark.parametrize("fn", [np.any, np.all])
def test_numpy_any_all_give_bool_tensors(fn):
    got = fn(ng.tensor(_A) > 0, axis=0)
    assert isinstance(got, ng.Tensor)
    np.testing.assert_array_equal(np.asarray(got), fn(_A > 0, axis=0))


@pytest.mark.parametrize("call", [lambda t: np.max(t, out=np.empty(())), lambda t: t.cumsum(0, out=np.empty(6))])
def test_an_out_array_is_refused_clearly(call):
    x = ng.tensor(_A)
    with pytest.raises(TypeError, match="out= is not taken"):
        call(x)
    np.testing.assert_array_equal(np.asarray(x), _A)


def test_numpy_reshape_in_fortran_order_is_refused_not_silently_detached():
    x = ng.tensor(_A, requires_grad=True)
    with pytest.raises(ValueError, match="order='C'"):
        np.reshape(x, (3, 2), order="F")


def test_numpy_max_under_grad_matches_torch_amax_ties():
    a = np.array([1.0, 3.0, 3.0, 2.0])
    g = ng.grad(lambda t: np.max(t) * 2.0)(ng.tensor(a))
    xt = torch.tensor(a, requires_grad=True)
    (torch.amax(xt) * 2.0).backward()
    np.testing.assert_allclose(np.asarray(g), xt.grad.numpy())
