"""NumPy's ufuncs and DLPack on ng.Tensor, as on a torch tensor (issues 2, 10, 12).

``np.exp(t)``, ``np.isfinite(t)``, ``ndarray OP t`` give what the nablagrad op gives (the operators exactly what
``t.__rop__(ndarray)`` gives, the deferral NumPy used to take); what nablagrad lacks is computed on the values
without gradient, refused where a gradient is being taken; ``torch.tensor(t)``, ``torch.from_dlpack(t)`` and
``np.from_dlpack(t)`` read the values as they read a torch tensor's.  Oracles: NumPy on the values, PyTorch.
"""

import operator

import numpy as np
import pytest
import torch

import nablagrad as ng
from nablagrad.backend.namespace import NUMPY, namespace_of

_OPERATORS = {  # operator -> the reflected method NumPy's deferral called before
    operator.add: "__radd__",
    operator.sub: "__rsub__",
    operator.mul: "__rmul__",
    operator.truediv: "__rtruediv__",
    operator.pow: "__rpow__",
    operator.mod: "__rmod__",
    operator.floordiv: "__rfloordiv__",
    operator.eq: "__eq__",
    operator.ne: "__ne__",
    operator.lt: "__gt__",
    operator.le: "__ge__",
    operator.gt: "__lt__",
    operator.ge: "__le__",
}
_LEFT = {  # NumPy operands on the left: arrays of each dtype and NumPy scalars
    "f32": np.array([[1.5, 2.0, 3.0]], np.float32),
    "f64": np.array([[1.5, 2.0, 3.0]]),
    "i64": np.array([[1, 2, 3]]),
    "np.float64": np.float64(2.5),
    "np.int64": np.int64(2),
    "np.float32": np.float32(1.5),
}


def _same(a: ng.Tensor, b: ng.Tensor) -> None:
    assert isinstance(a, ng.Tensor) and isinstance(b, ng.Tensor)
    assert a.dtype == b.dtype and a.shape == b.shape and a.requires_grad == b.requires_grad
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.numpy_only  # (off the CPU a NumPy operand of a comparison is refused either way, as PyTorch's)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
@pytest.mark.parametrize("left", list(_LEFT))
@pytest.mark.parametrize("op", list(_OPERATORS), ids=lambda f: f.__name__)
def test_ndarray_op_tensor_is_the_reflected_operator(op, left, dtype):
    t = ng.tensor(np.array([[2.0, 1.0, 4.0], [1.5, 3.0, 2.0]]).astype(dtype))  # (no 0: integer % and //)
    a = _LEFT[left]
    _same(op(a, t), getattr(t, _OPERATORS[op])(a))


def test_ndarray_matmul_tensor_and_gradients():
    a = np.arange(6.0).reshape(2, 3)
    w = ng.tensor(np.linspace(-1, 1, 12).reshape(3, 4), requires_grad=True)
    _same(a @ w, w.__rmatmul__(a))
    (a @ w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), a.T @ np.ones((2, 4)))  # dL/dW = Aᵀ G
    x = ng.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (np.array([2.0, 3.0, 4.0]) * x + np.float64(1.0) / x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 - 1, 3 - 1 / 4, 4 - 1 / 9], rtol=1e-6)


@pytest.mark.parametrize(
    "ufunc", [np.exp, np.log, np.sqrt, np.sin, np.cos, np.tanh, np.absolute, np.negative, np.square, np.log1p]
)
def test_unary_ufunc_is_the_differentiable_op(ufunc):
    values = np.array([0.5, 1.0, 2.5], np.float64)
    x = ng.tensor(values, requires_grad=True)
    y = ufunc(x)
    assert isinstance(y, ng.Tensor) and y.requires_grad and y.dtype == np.float64
    y.sum().backward()
    xt = torch.tensor(values, requires_grad=True)
    name = {"absolute": "abs", "negative": "neg"}.get(ufunc.__name__, ufunc.__name__)
    getattr(torch, name)(xt).sum().backward()
    np.testing.assert_allclose(y.numpy(), ufunc(values), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("ufunc", [np.maximum, np.minimum, np.arctan2, np.hypot, np.logaddexp])
def test_binary_ufunc_is_the_differentiable_op(ufunc):
    a, b = np.array([0.5, -1.0, 2.5]), np.array([1.0, -2.0, 0.25])
    x, y = ng.tensor(a, requires_grad=True), ng.tensor(b, requires_grad=True)
    out = ufunc(x, y)
    out.sum().backward()
    xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    getattr(torch, {"arctan2": "atan2"}.get(ufunc.__name__, ufunc.__name__))(xt, yt).sum().backward()
    np.testing.assert_allclose(out.numpy(), ufunc(a, b), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), yt.grad.numpy(), rtol=1e-12)


def test_ufuncs_named_otherwise_in_nablagrad():
    values = np.array([0.5, 1.5, 2.5, -0.5])
    t = ng.tensor(values)
    for ufunc in (np.rint, np.degrees, np.radians, np.positive, np.sign, np.floor):
        got = ufunc(t)
        assert isinstance(got, ng.Tensor) and got.dtype == np.float64
        np.testing.assert_array_equal(got.numpy(), ufunc(values))
    np.testing.assert_array_equal(np.invert(ng.tensor([1, -2])).numpy(), [-2, 1])


def test_state_dict_values_with_numpy_checks():
    """The code the issue names: checks written against NumPy arrays, now given tensors."""
    t = ng.tensor([1.0, np.inf, np.nan, -2.0])
    u = ng.tensor([1.5, 0.0, 0.0, -2.0])
    finite = np.isfinite(t)
    assert isinstance(finite, ng.Tensor) and finite.dtype == np.bool_
    np.testing.assert_array_equal(finite.numpy(), [True, False, False, True])
    np.testing.assert_array_equal(np.isnan(t).numpy(), [False, False, True, False])
    np.testing.assert_array_equal(np.isinf(t).numpy(), [False, True, False, False])
    assert float(np.abs(u - ng.tensor([1.0, 0.0, 0.0, -2.0])).max()) == 0.5
    assert bool(np.isfinite(u).all())


def test_ufunc_nablagrad_lacks_computes_on_values_without_gradient():
    t = ng.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64")
    for got, want in [
        (np.add.reduce(t, axis=0), np.add.reduce(t.numpy(), axis=0)),
        (np.multiply.outer(t, t), np.multiply.outer(t.numpy(), t.numpy())),
        (np.maximum.accumulate(t, axis=1), np.maximum.accumulate(t.numpy(), axis=1)),
        (np.cbrt(t), np.cbrt(t.numpy())),
        (np.exp(t, dtype=np.float32), np.exp(t.numpy(), dtype=np.float32)),
    ]:
        assert isinstance(got, ng.Tensor) and not got.requires_grad and got.dtype == want.dtype
        np.testing.assert_array_equal(got.numpy(), want)
    q, r = np.divmod(np.array([7.0, 8.0]), ng.tensor([2.0, 3.0]))
    np.testing.assert_array_equal(q.numpy(), [3.0, 2.0])
    np.testing.assert_array_equal(r.numpy(), [1.0, 2.0])


def test_ufunc_without_gradient_is_refused_on_a_tensor_that_requires_grad():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    for call in (lambda: np.add.reduce(x), lambda: np.cbrt(x), lambda: np.exp(x, dtype=np.float64)):
        with pytest.raises(TypeError, match=r"np\.(add\.reduce|cbrt|exp).*detach\(\)\.numpy\(\)"):
            call()
    with ng.no_grad():  # no gradient is being taken: the values
        np.testing.assert_allclose(np.cbrt(x).numpy(), np.cbrt([1.0, 2.0]), rtol=1e-6)


def test_out_of_numpy_arrays_is_written_and_returned():
    acc = np.zeros(3)
    t = ng.tensor([1.0, 2.0, 3.0], dtype="float64")
    acc += t
    acc += t
    np.testing.assert_array_equal(acc, [2.0, 4.0, 6.0])
    out = np.empty(3)
    assert np.exp(t, out=out) is out
    np.testing.assert_allclose(out, np.exp([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="requires grad"):
        acc += ng.tensor([1.0, 1.0, 1.0], requires_grad=True)
    np.testing.assert_array_equal(acc, [2.0, 4.0, 6.0])  # refused before any write


def test_tensor_as_out_is_refused_and_left_unchanged():
    t = ng.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="out= cannot be a nablagrad Tensor"):
        np.exp(np.array([0.0, 0.0]), out=t)
    with pytest.raises(TypeError, match="cannot write into a nablagrad Tensor"):
        np.add.at(t, [0, 0], 1.0)
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])
    arr = np.zeros(2)
    np.add.at(arr, [0, 0], ng.tensor([1.0, 2.0]))  # into a NumPy array: NumPy's
    np.testing.assert_array_equal(arr, [3.0, 0.0])


def test_ufunc_under_jvp_and_vmap():
    primal, tangent = ng.jvp(lambda z: np.sin(z) * np.array([2.0, 3.0]), (ng.tensor([0.5, 1.0]),), (ng.tensor([1.0, 1.0]),))
    np.testing.assert_allclose(tangent.numpy(), np.cos([0.5, 1.0]) * [2.0, 3.0], rtol=1e-6)
    batched = ng.vmap(lambda z: np.exp(z).sum())(ng.tensor([[0.0, 1.0], [2.0, 3.0]]))
    np.testing.assert_allclose(batched.numpy(), np.exp([[0.0, 1.0], [2.0, 3.0]]).sum(1), rtol=1e-6)
    with pytest.raises(TypeError, match="cbrt"):  # a dual's tangent would be lost
        ng.jvp(np.cbrt, (ng.tensor([1.0]),), (ng.tensor([1.0]),))


@pytest.mark.numpy_only  # (DLPack between NumPy, PyTorch and nablagrad on the CPU)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool", "float16"])
@pytest.mark.parametrize("convert", [torch.tensor, torch.as_tensor, torch.from_dlpack, np.from_dlpack])
def test_torch_and_numpy_read_the_values(convert, dtype):
    values = np.array([[1, 0, 3], [4, 5, 0]]).astype(dtype)
    for t in (ng.tensor(values), ng.tensor(values)[:, ::2], ng.tensor(values).T, ng.tensor(values[0, 0])):
        got = convert(t)
        want = np.asarray(t.numpy())
        got = got.numpy() if isinstance(got, torch.Tensor) else got
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.numpy_only
def test_dlpack_shares_memory_and_copies_a_flip():
    t = ng.tensor([1.0, 2.0, 3.0])
    torch.from_dlpack(t)[0] = 7.0  # shared, as torch.from_dlpack(np_array)
    assert t.numpy()[0] == 7.0
    flipped = ng.flip(ng.arange(4.0), 0)  # (negative strides: PyTorch reads a copy)
    np.testing.assert_array_equal(torch.tensor(flipped).numpy(), [3.0, 2.0, 1.0, 0.0])
    np.testing.assert_array_equal(torch.from_dlpack(flipped).numpy(), [3.0, 2.0, 1.0, 0.0])
    assert ng.tensor([1.0]).__dlpack_device__() == np.zeros(1).__dlpack_device__()


@pytest.mark.numpy_only
def test_dlpack_refuses_a_tensor_that_requires_grad_as_torch():
    p = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(BufferError, match="Can't export tensors that require gradient, use tensor.detach()"):
        torch.from_dlpack(p)
    with pytest.raises(RuntimeError, match="require gradient"):
        np.from_dlpack(p)
    with pytest.raises(BufferError):  # torch's own, the oracle
        torch.tensor([1.0], requires_grad=True).__dlpack__()
    np.testing.assert_array_equal(torch.tensor(p.detach()).numpy(), [1.0, 2.0])


def test_a_tensor_is_never_taken_for_another_librarys_array():
    t = ng.tensor([1.0, 2.0])
    assert namespace_of(t) is NUMPY
    assert namespace_of(ng.nn.Parameter(ng.tensor([1.0]))) is NUMPY
