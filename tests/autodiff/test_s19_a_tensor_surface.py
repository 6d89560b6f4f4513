"""The Tensor's torch surface, each case against torch 2.13 itself: ``detach_()``, a checked ``t.grad = g``
(type, dtype, size; a refusal keeps the old gradient), ``retain_grad`` / ``requires_grad_`` refusals, and the
Python protocols (``iter``, ``in``, ``__index__``, ``item``) and ``stride()`` / ``data_ptr()``."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")


def _pair(values, requires_grad=False, dtype=np.float32):
    """The same values as a nablagrad tensor and a torch tensor."""
    a = np.asarray(values, dtype)
    return ng.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def _flags(t):
    return t.requires_grad, t.is_leaf, t.grad_fn is None


# --- detach_() ---------------------------------------------------------------------------------
def test_detach_in_place_of_a_leaf_keeps_its_values_and_grad_as_torch():
    ours, theirs = _pair([1.0, 2.0, 3.0], requires_grad=True)
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    assert ours.detach_() is ours and theirs.detach_() is theirs
    assert _flags(ours) == _flags(theirs) == (False, True, True)
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert not (ours * 2).requires_grad


def test_detach_in_place_of_an_op_result_makes_a_leaf_as_torch():
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        assert y.detach_() is y
        assert _flags(y) == (False, True, True)
        assert not (y * y).requires_grad
        y.requires_grad_()  # a leaf now: it may require grad again
        (y * y).sum().backward()
        np.testing.assert_array_equal(np.asarray(y.grad.tolist()), [6.0, 12.0])  # d(y²)/dy = 2y, y = 3x
        assert x.grad is None


@pytest.mark.numpy_only("views of another library's arrays are not tracked (their memory layout is hidden)")
@pytest.mark.parametrize("make", [lambda t: t[1:], lambda t: t.reshape(3, 1)], ids=["slice", "reshape"])
def test_detach_in_place_of_a_view_is_refused_and_changes_nothing(make):
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v = make(x)
        with pytest.raises(RuntimeError, match="(?i)detach views in-place"):
            v.detach_()
        assert v.requires_grad and not v.is_leaf
    assert ng.tensor([1.0, 2.0]).detach().detach_() is not None  # detach() is no view, in torch either


def test_an_op_that_saved_a_tensor_detached_in_place_refuses_to_back_propagate_as_torch():
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        z = (y * y).sum()
        y.detach_()
        with pytest.raises(RuntimeError):
            z.backward()


def test_a_leaf_detached_in_place_after_use_gets_no_gradient_as_torch():
    for lib in (ng, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = (x * x).sum()
        x.detach_()
        z.backward()
        assert x.grad is None


def test_detach_in_place_inside_grad_and_jvp_stops_the_derivative_as_torch_func():
    from torch.func import grad, jvp

    def f(x):  # stop_gradient(2x) · x: derivative 2x
        return (x * 2).detach_() * x

    x, one = np.float64(3.0), np.float64(1.0)
    tx, tone = torch.tensor(x), torch.tensor(one)
    assert float(ng.grad(f)(x)) == float(grad(f)(tx))
    assert [float(v) for v in ng.jvp(f, (x,), (one,))] == [float(v) for v in jvp(f, (tx,), (tone,))]


# --- t.grad = value --------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.zeros(4, np.float32), [0.0] * 4, "a", 1.0], ids=["ndarray", "list", "str", "float"])
def test_assigning_a_grad_that_is_not_a_tensor_is_a_type_error_as_torch(bad):
    ours, theirs = _pair([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    ours.grad, theirs.grad = _pair([5.0, 6.0, 7.0, 8.0])
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
        theirs.grad = bad
    with pytest.raises(TypeError, match=r"assigned grad expected to be a Tensor or None.*shape \(4,\), float32"):
        ours.grad = bad
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())  # the old gradient stays


@pytest.mark.parametrize(
    "values, dtype, match",
    [([1.0, 2.0], np.float32, r"shape \(2,\) to a tensor of shape \(4,\)"),
     ([[1.0, 2.0], [3.0, 4.0]], np.float32, r"shape \(2, 2\) to a tensor of shape \(4,\)"),
     ([1.0, 2.0, 3.0, 4.0], np.float64, "dtype float64 to a tensor with dtype float32"),
     ([1, 2, 3, 4], np.int64, "dtype int64 to a tensor with dtype float32")],
    ids=["size", "shape", "float64", "int64"],
)  # fmt: skip
def test_assigning_a_grad_of_another_size_or_dtype_is_refused_as_torch(values, dtype, match):
    ours, theirs = _pair([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    bad_ours, bad_theirs = _pair(values, dtype=dtype)
    with pytest.raises(RuntimeError):
        theirs.grad = bad_theirs
    with pytest.raises(RuntimeError, match=match):
        ours.grad = bad_ours
    assert ours.grad is None and theirs.grad is None


def test_a_grad_of_the_right_kind_is_stored_as_given_and_can_be_deleted():
    ours = ng.tensor(np.ones((2, 3), np.float64))
    g = ng.tensor(np.arange(6.0).reshape(3, 2)).T  # (a non-contiguous gradient is fine, in torch too)
    ours.grad = g
    assert ours.grad is g
    del ours.grad
    assert ours.grad is None
    ints = ng.tensor([1, 2])
    ints.grad = ng.tensor([3, 4])  # torch lets an integer tensor hold an integer gradient
    assert ints.grad.tolist() == [3, 4]


def test_an_assigned_grad_accumulates_with_backward_as_torch():
    ours, theirs = _pair([1.0, 2.0], requires_grad=True)
    ours.grad, theirs.grad = _pair([10.0, 10.0])
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


# --- retain_grad, requires_grad_ -------------------------------------------------------------------
def test_retain_grad_on_a_tensor_without_gradient_is_refused_as_torch():
    for lib in (ng, torch):
        with pytest.raises(RuntimeError, match="retain_grad on .*requires_grad=False"):
            lib.tensor([1.0]).retain_grad()


@pytest.mark.parametrize("flag", [1, "yes", None])
def test_requires_grad_takes_a_bool_only_as_torch(flag):
    ours, theirs = _pair([1.0])
    with pytest.raises(TypeError):
        theirs.requires_grad_(flag)
    with pytest.raises(TypeError, match="must be True or False"):
        ours.requires_grad_(flag)
    assert ours.requires_grad is False
    assert ours.requires_grad_(np.bool_(True)).requires_grad is True


# --- Python protocols ------------------------------------------------------------------------------
def test_iterating_a_0d_tensor_fails_at_iter_as_torch():
    for lib in (ng, torch):
        with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
            iter(lib.tensor(1.0))


@pytest.mark.parametrize("element", [1.0, 5.0, 4, [3.0, 4.0], [9.0, 4.0]])
def test_in_looks_at_every_entry_of_a_2d_tensor_as_torch(element):
    ours, theirs = _pair([[1.0, 2.0], [3.0, 4.0]])
    if isinstance(element, list):
        assert (ng.tensor(element) in ours) == (torch.tensor(element) in theirs)
    else:
        assert (element in ours) == (element in theirs)


def test_in_with_a_string_is_refused_as_torch():
    ours, theirs = _pair([1.0, 2.0])
    with pytest.raises(RuntimeError):
        "a" in theirs  # noqa: B015
    with pytest.raises(RuntimeError, match="`in` looks for a number or a tensor"):
        "a" in ours  # noqa: B015


@pytest.mark.parametrize("values, dtype", [(True, np.bool_), (2, np.int64), ([1], np.int32)])
def test_a_one_element_integer_or_bool_tensor_is_an_index_as_torch(values, dtype):
    ours, theirs = _pair(values, dtype=dtype)
    items = [10, 20, 30]
    assert items[ours] == items[theirs]


@pytest.mark.parametrize("values, dtype", [([0, 1], np.int64), (1.0, np.float32)])
def test_a_tensor_that_is_no_single_integer_is_no_index_as_torch(values, dtype):
    ours, theirs = _pair(values, dtype=dtype)
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [10, 20][theirs]
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [10, 20][ours]


@pytest.mark.parametrize("values", [[1.0, 2.0], []])
def test_item_of_several_or_no_entries_raises_what_torch_raises(values):
    ours, theirs = _pair(values)
    for t in (ours, theirs):
        with pytest.raises(RuntimeError, match="cannot be converted"):
            t.item()
    if values:
        for t in (ours, theirs):
            with pytest.raises(ValueError):
                int(t)


@pytest.mark.numpy_only("another library's arrays may hide their layout")
@pytest.mark.parametrize("view", [lambda t: t, lambda t: t.T, lambda t: t[:, ::2], lambda t: t[1]],
                         ids=["plain", "T", "strided", "row"])  # fmt: skip
def test_stride_in_elements_as_torch(view):
    ours, theirs = _pair(np.arange(12.0).reshape(3, 4))
    assert view(ours).stride() == view(theirs).stride()
    assert view(ours).stride(-1) == view(theirs).stride(-1)
    with pytest.raises(IndexError):
        view(ours).stride(2)


@pytest.mark.numpy_only("another library's arrays may hide their address")
def test_data_ptr_tells_shared_memory_as_torch():
    ours, theirs = _pair([1.0, 2.0, 3.0])
    for t in (ours, theirs):
        assert t.detach().data_ptr() == t.data_ptr()
        assert t[1:].data_ptr() - t.data_ptr() == t.element_size()
        assert t.clone().data_ptr() != t.data_ptr()
