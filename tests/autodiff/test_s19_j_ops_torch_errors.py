"""Ops where PyTorch 2.13 raises RuntimeError (writes and shapes that do not fit, integers to negative powers) or
has integer ops nablagrad lacked (shifts, bitwise functions, gcd/lcm), each checked against torch itself: the
error types (InputError is both ValueError and RuntimeError), the message naming the op and shapes, nothing
written after a failure, and the values and dtypes of the integer ops."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff.errors import InputError

torch = pytest.importorskip("torch")


def _torch_raises(f, kind=RuntimeError) -> None:
    with pytest.raises(kind):
        f()


# --- writes that do not fit -----------------------------------------------------------------------------------
def _write_copy(lib, x, v):
    x.copy_(v)


def _write_row(lib, x, v):
    x[0] = v


@pytest.mark.parametrize("write, value, shown", [(_write_copy, [1.0, 2.0], "(2, 3)"), (_write_row, [1.0, 2.0], "(3,)")])
def test_a_value_that_does_not_broadcast_is_refused_as_torch_and_nothing_is_written(write, value, shown):
    _torch_raises(lambda: write(torch, torch.zeros(2, 3), torch.tensor(value)))
    x = ng.arange(6.0).reshape(2, 3)
    before, version = x.numpy().copy(), x._version
    with pytest.raises(InputError, match=r"cannot write a value of shape \(2,\)") as info:
        write(ng, x, ng.tensor(value))
    assert isinstance(info.value, RuntimeError) and shown in str(info.value)
    np.testing.assert_array_equal(x.numpy(), before)
    assert x._version == version


def test_a_recorded_write_that_does_not_broadcast_is_refused_too():
    x = ng.zeros(2, 3)
    v = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(InputError, match=r"shape \(2,\).*shape \(3,\)"):
        x[0] = v
    np.testing.assert_array_equal(x.numpy(), np.zeros((2, 3)))
    assert x.grad_fn is None


def test_a_write_that_broadcasts_still_works_as_torch():
    x, t = ng.zeros(2, 3), torch.zeros(2, 3)
    x[:, 1:] = ng.tensor([[1.0, 2.0]])
    t[:, 1:] = torch.tensor([[1.0, 2.0]])
    x.copy_(x * 2.0 + ng.tensor([1.0, 0.0, 1.0]))
    t.copy_(t * 2.0 + torch.tensor([1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(x.numpy(), t.numpy())


# --- shapes that do not fit -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda L: L.ones(2, 3).view(4), r"must multiply to 6"),
        (lambda L: L.ones(2, 3).reshape(4), r"must multiply to 6"),
        (lambda L: L.ones(2, 3).reshape(-1, -1), r"only one dimension can be inferred"),
        (lambda L: L.ones(2, 3).reshape(-2, 3), r"invalid size -2"),
        (lambda L: L.reshape(L.ones(2, 3), (5, -1)), r"must multiply to 6"),
        (lambda L: L.ones(2).expand_as(L.ones(2, 3)), r"broadcast_to: .*\(2,\) to \(2, 3\)"),
        (lambda L: L.broadcast_to(L.ones(2, 3), (3,)), r"broadcast_to: .*\(2, 3\) to \(3,\)"),
        (lambda L: L.broadcast_to(L.ones(3, 1), (2, 3)), r"broadcast_to: .*\(3, 1\) to \(2, 3\)"),
    ],
)
def test_shapes_that_do_not_fit_raise_runtime_errors_as_torch(call, match):
    _torch_raises(lambda: call(torch))
    with pytest.raises(InputError, match=match):
        call(ng)


# --- integers to negative powers ------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [lambda L: L.tensor([2, 3]) ** -1, lambda L: L.pow(L.tensor([2]), -2)])
def test_integers_to_a_negative_python_power_are_refused_as_torch(call):
    _torch_raises(lambda: call(torch))
    with pytest.raises(InputError, match=r"pow: Integers to negative integer powers.*x\.float\(\)"):
        call(ng)


@pytest.mark.numpy_only  # (the array API standard leaves an integer to a negative power undefined)
@pytest.mark.parametrize("exponent", [[-1], [-2], -3, [[-1], [2]]])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integers_to_negative_tensor_powers_give_torchs_integers(exponent, dtype):
    base = [-3, -2, -1, 0, 1, 2, 3]
    got = ng.tensor(base, dtype=dtype) ** ng.tensor(exponent, dtype=dtype)
    want = torch.tensor(base, dtype=getattr(torch, dtype)) ** torch.tensor(exponent, dtype=getattr(torch, dtype))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ng.pow(2, ng.tensor([-1, 2])).numpy(), torch.pow(2, torch.tensor([-1, 2])).numpy())


# --- shifts, bitwise functions, gcd/lcm -----------------------------------------------------------------------
_INTS = [-8, 1, 5, 127]
_CASES = {
    "x << 2": lambda L, x: x << 2,
    "x >> 1": lambda L, x: x >> 1,
    "x >> 70": lambda L, x: x >> 70,
    "2 << x.abs() % 5": lambda L, x: 2 << (L.abs(x) % 5),
    "x << tensor": lambda L, x: x << L.tensor([0, 1, 2, 3]),
    "uint8 << 1": lambda L, x: L.tensor([200, 1], dtype=L.uint8) << 1,
    "int32 << 0-d int64": lambda L, x: L.tensor([3], dtype=L.int32) << L.tensor(1),
    "int32 >> int64": lambda L, x: L.tensor([-9], dtype=L.int32) >> L.tensor([1]),
    "bitwise_left_shift": lambda L, x: L.bitwise_left_shift(x, other=3),
    "bitwise_right_shift": lambda L, x: L.bitwise_right_shift(x, 2),
    "method shift": lambda L, x: x.bitwise_left_shift(1) + x.bitwise_right_shift(1),
    "bitwise_and": lambda L, x: L.bitwise_and(x, 6),
    "bitwise_or": lambda L, x: L.bitwise_or(x, L.tensor([1, 2, 4, 8])),
    "bitwise_xor": lambda L, x: L.bitwise_xor(x, 3),
    "bitwise_not": lambda L, x: L.bitwise_not(x),
    "bitwise_not bool": lambda L, x: L.bitwise_not(x > 0),
    "bitwise_and bool": lambda L, x: L.bitwise_and(x > 0, x < 100),
    "methods": lambda L, x: x.bitwise_and(5) + x.bitwise_or(1) + x.bitwise_xor(2) + x.bitwise_not(),
}
_NUMPY_CASES = {  # beyond the array API standard (gcd, lcm, a negative or bool shift): NumPy's arrays only
    "x << -1": lambda L, x: x << -1,
    "bool << 1": lambda L, x: (x > 0) << 1,
    "gcd": lambda L, x: L.gcd(x, L.tensor([12, 0, -10, 3])),
    "lcm": lambda L, x: L.lcm(x, L.tensor([12, 0, -10, 3])),
    "method gcd": lambda L, x: x.gcd(L.tensor(4)),
}


def _same_as_torch(f) -> None:
    got, want = f(ng, ng.tensor(_INTS)), f(torch, torch.tensor(_INTS))
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert str(got.dtype) == str(want.dtype).removeprefix("torch.")


@pytest.mark.parametrize("name", sorted(_CASES))
def test_integer_ops_match_torch(name):
    _same_as_torch(_CASES[name])


@pytest.mark.numpy_only
@pytest.mark.parametrize("name", sorted(_NUMPY_CASES))
def test_integer_ops_beyond_the_standard_match_torch(name):
    _same_as_torch(_NUMPY_CASES[name])


@pytest.mark.parametrize(
    "call, op",
    [
        (lambda L: L.tensor([1.0]) << 1, "bitwise_left_shift"),
        (lambda L: L.tensor([4]) >> 1.5, "bitwise_right_shift"),
        (lambda L: L.tensor([1.0]) ^ L.tensor([1.0]), "bitwise_xor"),
        (lambda L: L.tensor([1.0]) & True, "bitwise_and"),
        (lambda L: True | L.tensor([1.0]), "bitwise_or"),
        (lambda L: L.bitwise_and(L.tensor([1.0]), 1), "bitwise_and"),
        (lambda L: L.bitwise_not(L.tensor([1.0])), "bitwise_not"),
        (lambda L: L.gcd(L.tensor([1.0]), L.tensor([2])), "gcd"),
    ],
)
def test_floats_are_refused_by_integer_ops_naming_the_op(call, op):
    _torch_raises(lambda: call(torch), (TypeError, RuntimeError))  # (torch: NotImplementedError or TypeError)
    with pytest.raises(TypeError, match=rf"\b{op}\b.*only implemented on integer and Boolean tensors.*x\.long\(\)"):
        call(ng)


@pytest.mark.numpy_only  # (gcd is beyond the array API standard)
def test_integer_ops_under_vmap_match_the_loop():
    x = ng.tensor([[1, 2, 3], [4, 5, 6]])
    got = ng.vmap(lambda r: (r << 1) + ng.bitwise_xor(r, 1) + ng.gcd(r, 4))(x)
    t = torch.tensor([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(got.numpy(), ((t << 1) + torch.bitwise_xor(t, 1) + torch.gcd(t, torch.tensor(4))).numpy())
