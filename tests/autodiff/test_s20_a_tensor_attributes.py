"""The tensor attributes a PyTorch user assigns — ``t.requires_grad = …``, ``t.data = other`` — and reads —
``t.grad`` of a non-leaf — behave as torch 2.13's: the same acceptances, the same refusals (nothing changed
after one), the same warning.  torch runs beside nablagrad in each test and is the oracle."""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

INT_DTYPES = ["int32", "int64", "uint8", "bool"]


def outcome(f) -> type | None:
    """The exception class ``f()`` raises, or None."""
    try:
        f()
    except Exception as exc:  # noqa: BLE001 - the class is the observation
        return type(exc)
    return None


def same_refusal(ours, theirs) -> None:
    """Both libraries accept, or both refuse with an exception that is a subclass of torch's."""
    mine, torch_s = outcome(ours), outcome(theirs)
    assert (mine is None) == (torch_s is None), (mine, torch_s)
    if torch_s is not None:
        assert issubclass(mine, torch_s), (mine, torch_s)


# --- t.requires_grad = … ------------------------------------------------------------------------
@pytest.mark.numpy_only
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_requires_grad_true_on_an_integer_or_bool_tensor_is_refused_as_torch(dtype):
    x, tx = ng.tensor(np.ones(3, dtype)), torch.ones(3, dtype=getattr(torch, dtype))
    same_refusal(lambda: setattr(x, "requires_grad", True), lambda: setattr(tx, "requires_grad", True))
    assert x.requires_grad is tx.requires_grad is False
    with pytest.raises(RuntimeError, match=f"floating point.*{dtype}"):
        x.requires_grad = True
    same_refusal(lambda: setattr(x, "requires_grad", False), lambda: setattr(tx, "requires_grad", False))
    assert x.requires_grad is tx.requires_grad is False


@pytest.mark.numpy_only
@pytest.mark.parametrize("value", [1, 0, 1.0, "yes", None, [True]], ids=repr)
def test_requires_grad_must_be_a_bool_as_torch(value):
    x, tx = ng.ones(2), torch.ones(2)
    same_refusal(lambda: setattr(x, "requires_grad", value), lambda: setattr(tx, "requires_grad", value))
    assert x.requires_grad is tx.requires_grad is False
    with pytest.raises(RuntimeError, match="must be a bool"):
        x.requires_grad = value
    same_refusal(lambda: delattr(x, "requires_grad"), lambda: delattr(tx, "requires_grad"))
    assert x.requires_grad is False


@pytest.mark.numpy_only
@pytest.mark.parametrize("flag", [False, True])
def test_requires_grad_of_an_op_s_result_cannot_be_assigned_and_its_graph_survives(flag):
    a, ta = ng.tensor([1.0, 2.0, 3.0], requires_grad=True), torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b, tb = a * a, ta * ta
    same_refusal(lambda: setattr(b, "requires_grad", flag), lambda: setattr(tb, "requires_grad", flag))
    with pytest.raises(RuntimeError, match="leaf variables.*detach"):
        b.requires_grad = flag
    assert b.requires_grad is tb.requires_grad is True
    same_refusal(lambda: b.requires_grad_(True), lambda: tb.requires_grad_(True))  # allowed: it already does
    same_refusal(lambda: b.requires_grad_(False), lambda: tb.requires_grad_(False))
    b.sum().backward()
    tb.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy())


@pytest.mark.numpy_only
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_requires_grad_assigned_on_a_float_leaf_starts_and_stops_gradients_as_torch(dtype):
    values = np.array([0.5, -1.0, 2.0], dtype)
    x, tx = ng.tensor(values), torch.tensor(values)
    x.requires_grad = True
    tx.requires_grad = True
    with ng.no_grad():
        y = x * 3.0  # made with no graph: a leaf, whose flag may be set, as torch's
    with torch.no_grad():
        ty = tx * 3.0
    assert y.is_leaf is ty.is_leaf is True
    y.requires_grad = True
    ty.requires_grad = True
    (x * x * y).sum().backward()
    (tx * tx * ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-6)
    assert x.grad.dtype == np.dtype(dtype)
    x.requires_grad = False
    tx.requires_grad = False
    assert (x * 2.0).requires_grad is (tx * 2.0).requires_grad is False


# --- t.grad of a non-leaf ---------------------------------------------------------------------------
def _grad_read(lib, case: str):
    """Build ``case`` with ``lib`` (torch or nablagrad) and read the tensor's ``.grad``: (is None, warned)."""
    a = lib.ones(3, requires_grad=True)
    if case == "leaf":
        t = a
    elif case == "leaf after backward":
        (a * 2).sum().backward()
        t = a
    elif case == "non-leaf":
        t = a * 2
    elif case == "non-leaf after its backward":
        t = a * 2
        t.sum().backward()
    elif case == "view of a leaf":
        t = a[1:]
    elif case == "retained, before backward":
        t = a * 2
        t.retain_grad()
    elif case == "retained, after backward":
        t = a * 2
        t.retain_grad()
        t.sum().backward()
    elif case == "non-leaf given a grad":
        t = a * 2
        t.grad = lib.ones(3)
    elif case == "computed without grad":
        t = a.detach() * 2
    elif case == "detach_() of a non-leaf":
        t = (a * 2).detach_()
    else:
        raise AssertionError(case)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        g = t.grad
    return g is None, [w.category for w in seen]


@pytest.mark.numpy_only
@pytest.mark.parametrize(
    "case",
    ["leaf", "leaf after backward", "non-leaf", "non-leaf after its backward", "view of a leaf",
     "retained, before backward", "retained, after backward", "non-leaf given a grad", "computed without grad",
     "detach_() of a non-leaf"],
)  # fmt: skip
def test_grad_of_a_non_leaf_warns_exactly_where_torch_does(case):
    assert _grad_read(ng, case) == _grad_read(torch, case)


@pytest.mark.numpy_only
def test_the_non_leaf_grad_warning_names_retain_grad_and_points_at_the_reader():
    b = ng.ones(2, requires_grad=True) * 2
    with pytest.warns(UserWarning, match=r"not a leaf Tensor.*retain_grad\(\)") as seen:
        assert b.grad is None
    assert seen[0].filename == __file__  # the user's line, not the library's


# --- t.data = other ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [lambda lib: lib.zeros((2, 2)), lambda lib: lib.tensor(4.0), lambda lib: lib.arange(6.0).reshape(2, 3).T,
     lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64), lambda lib: lib.tensor([3, 4])],
    ids=["other shape", "0-d", "non-contiguous", "float64", "int64"],
)  # fmt: skip
def test_data_assigned_a_tensor_takes_its_values_shape_and_dtype_as_torch(make, array_namespace):
    t, tt = ng.ones(3), torch.ones(3)
    other, tother = make(ng), make(torch)
    t.data = other
    tt.data = tother
    assert t.shape == tuple(tt.shape)
    assert str(t.dtype) == str(tt.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(t.numpy(), tt.numpy())
    np.testing.assert_array_equal((t * 2 + 1).numpy(), (tt * 2 + 1).numpy())  # the next op works
    if array_namespace == "numpy":  # (another library's arrays do not show their layout)
        assert t.stride() == tt.stride()
    assert t.is_leaf and not t.requires_grad


@pytest.mark.numpy_only
def test_data_assigned_a_tensor_shares_its_memory_as_torch():
    t, other = ng.ones(3), ng.zeros(4)
    tt, tother = torch.ones(3), torch.zeros(4)
    t.data = other
    tt.data = tother
    other.data[1] = 5.0  # a write into the array behind ``other``
    tother.data[1] = 5.0
    np.testing.assert_array_equal(t.numpy(), tt.numpy())
    assert t.data_ptr() == other.data_ptr()


@pytest.mark.numpy_only
def test_data_assigned_to_a_parameter_keeps_its_grad_flag_and_trains_as_torch():
    rng = np.random.default_rng(0)
    w0, w1, x = rng.standard_normal((3, 2)), rng.standard_normal((4, 5)), rng.standard_normal((2, 4))
    p, tp = ng.nn.Parameter(ng.tensor(w0)), torch.nn.Parameter(torch.tensor(w0))
    (p.sum() * 2).backward()
    (tp.sum() * 2).backward()
    source, tsource = ng.tensor(w1, requires_grad=True), torch.tensor(w1, requires_grad=True)
    p.data = source * 1.0  # an op's result: only its values are taken
    tp.data = tsource * 1.0
    assert isinstance(p, ng.nn.Parameter) and p.is_leaf and p.requires_grad and tp.is_leaf and tp.requires_grad
    np.testing.assert_array_equal(p.grad.numpy(), tp.grad.numpy())  # the old gradient stays, as torch's
    assert p.shape == tuple(tp.shape) == (4, 5)
    p.grad = None
    tp.grad = None
    ng.tanh(ng.tensor(x) @ p).sum().backward()
    torch.tanh(torch.tensor(x) @ tp).sum().backward()
    np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    assert source.grad is None and tsource.grad is None  # the source is no input of the new graph
    opt, topt = ng.optim.SGD([p], lr=0.1), torch.optim.SGD([tp], lr=0.1)
    opt.step()
    topt.step()
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-12)


@pytest.mark.numpy_only
def test_data_of_an_op_s_result_may_be_assigned_and_it_stays_a_non_leaf_as_torch():
    a, ta = ng.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    b, tb = a * 2, ta * 2
    b.data = ng.zeros(3)
    tb.data = torch.zeros(3)
    assert b.is_leaf is tb.is_leaf is False
    assert b.requires_grad is tb.requires_grad is True
    np.testing.assert_array_equal(b.detach().numpy(), tb.detach().numpy())


@pytest.mark.numpy_only
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_data_of_a_tensor_requiring_grad_refuses_integer_values_and_keeps_its_own(dtype):
    p, tp = ng.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    new, tnew = ng.tensor(np.zeros(3, dtype)), torch.zeros(3, dtype=getattr(torch, dtype))
    same_refusal(lambda: setattr(p, "data", new), lambda: setattr(tp, "data", tnew))
    with pytest.raises(RuntimeError, match=f"floating point.*{dtype}"):
        p.data = new
    assert p.shape == (2,) and p.dtype == np.float32 and p.requires_grad
    np.testing.assert_array_equal(p.detach().numpy(), tp.detach().numpy())
    q, tq = ng.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])  # without grad: any dtype, as torch
    same_refusal(lambda: setattr(q, "data", new), lambda: setattr(tq, "data", tnew))
    assert q.dtype == np.dtype(dtype)


@pytest.mark.numpy_only
@pytest.mark.parametrize("value", [[1.0, 2.0], None, 3.0, "ab"], ids=repr)
def test_data_refuses_what_is_neither_a_tensor_nor_an_array_as_torch(value):
    t, tt = ng.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0])
    same_refusal(lambda: setattr(t, "data", value), lambda: setattr(tt, "data", value))
    with pytest.raises(TypeError, match="data: .*tensor or an array"):
        t.data = value
    same_refusal(lambda: delattr(t, "data"), lambda: delattr(tt, "data"))
    np.testing.assert_array_equal(t.numpy(), [1.0, 2.0])


@pytest.mark.numpy_only
def test_data_assigned_a_numpy_array_is_stored_as_it_is():
    t, arr = ng.ones(3, requires_grad=True), np.arange(4.0)
    t.data = arr
    assert t.data is arr and t.shape == (4,)
    t.data -= 1.0  # the idiom of a hand-written update: in place, through the property
    np.testing.assert_array_equal(arr, [-1.0, 0.0, 1.0, 2.0])


@pytest.mark.numpy_only
def test_tensors_copy_and_pickle_with_their_flag_and_data():
    t = ng.tensor([1.0, 2.0], requires_grad=True)
    (t * t).sum().backward()
    for other in (copy.deepcopy(t), pickle.loads(pickle.dumps(t))):
        assert other.requires_grad and other.is_leaf
        np.testing.assert_array_equal(other.numpy(), t.numpy())
        np.testing.assert_array_equal(other.grad.numpy(), t.grad.numpy())
        assert not np.shares_memory(other.numpy(), t.numpy())
