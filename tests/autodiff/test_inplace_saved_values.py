"""The version check against PyTorch: a backward pass refuses exactly where an op's VJP reads a value
that was written in place after the op used it (PyTorch's "saved for backward"), and otherwise gives
PyTorch's gradient — the edges of an op whose VJP reads nothing go to its inputs as the op saw them."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle

A = np.array([0.5, -1.25, 2.0])
C = np.array([1.5, 0.75, -0.5])


def _leaf(L, values, grad: bool):
    return L.tensor(values, dtype=L.float64, requires_grad=grad)


def _no_grad(L):
    return L.no_grad()


# each case: f(L) -> (loss, leaves whose gradients are compared); L is nablagrad or torch
def _add_other_written(L):
    a, c = _leaf(L, A, True), _leaf(L, C, False)
    y = a + c
    c += 1.0
    return y.sum(), [a]


def _sub_both_sides_written(L):
    a = _leaf(L, A, True)
    w = a * 3.0
    y = w - (a * 1.0)
    w += 2.0
    return y.sum(), [a]


def _mul_other_written(L):
    a, c = _leaf(L, A, True), _leaf(L, C, False)
    y = a * c
    c += 1.0
    return y.sum(), [a]


def _mul_own_operand_written_unread(L):
    """a·c with only a's gradient wanted reads c, not a: writing a's stand-in w is fine (PyTorch too)."""
    a, c = _leaf(L, A, True), _leaf(L, C, False)
    w = a * 1.0
    y = w * c
    w *= 2.0
    return y.sum(), [a]


def _exp_input_written(L):
    a = _leaf(L, A, True)
    x = a * 1.0
    y = x.exp()  # its VJP reads its output only
    x += 1.0
    return y.sum(), [a]


def _exp_output_written_under_no_grad(L):
    a = _leaf(L, A, True)
    y = a.exp()
    with _no_grad(L):
        y *= 2.0
    return y.sum(), [a]


def _exp_output_written_in_place(L):
    a = _leaf(L, A, True)
    y = a.exp()
    y += 1.0
    return y.sum(), [a]


def _log_input_written(L):
    a = _leaf(L, np.abs(A) + 1.0, True)
    x = a * 1.0
    y = x.log()
    x += 1.0
    return y.sum(), [a]


def _tanh_output_written(L):
    a = _leaf(L, A, True)
    y = a.tanh()
    y[0] = 0.0
    return y.sum(), [a]


def _sigmoid_input_written(L):
    a = _leaf(L, A, True)
    x = a * 2.0
    y = x.sigmoid()
    x[1] = 5.0
    return y.sum(), [a]


def _relu_input_written(L):
    a = _leaf(L, A, True)
    x = a * 1.0
    y = x.relu()  # reads its output, as PyTorch's
    x -= 10.0
    return y.sum(), [a]


def _relu_output_written(L):
    a = _leaf(L, A, True)
    y = a.relu()
    y += 1.0
    return y.sum(), [a]


def _sum_and_mean_input_written(L):
    a = _leaf(L, A, True)
    x = a * 1.0
    y = x.sum() + x.mean()
    x *= 3.0
    return y, [a]


def _index_input_written(L):
    a = _leaf(L, A, True)
    x = a * 2.0
    y = x[[0, 2, 2]]  # an integer-array index: a copy, its VJP reads no value
    x.zero_()
    return y.sum(), [a]


def _where_branch_written(L):
    a, b = _leaf(L, A, True), _leaf(L, C, True)
    x = a * 1.0
    y = L.where(L.tensor([True, False, True]), x, b)
    x += 1.0
    return y.sum(), [a, b]


def _where_condition_unchanged_values_written(L):
    a = _leaf(L, A, True)
    x = a * 1.0
    y = L.where(x > 0, x, 0.0)
    x += 5.0
    return y.sum(), [a]


def _cat_input_written(L):
    a, b = _leaf(L, A, True), _leaf(L, C, True)
    x = a * 1.0
    y = L.cat([x, b]) if L is torch else ng.concatenate([x, b])
    x -= 1.0
    return (y * y.detach()).sum(), [a, b]


def _div_denominator_written(L):
    a, c = _leaf(L, A, True), _leaf(L, C, False)
    y = a / c
    c += 1.0
    return y.sum(), [a]


def _div_numerator_written_unread(L):
    a, c = _leaf(L, A, True), _leaf(L, C, False)
    x = a * 1.0
    y = x / c  # only the numerator's gradient is wanted: it reads c
    x += 1.0
    return y.sum(), [a]


def _pow_base_written(L):
    a = _leaf(L, A, True)
    x = a * 1.0
    y = x**2
    x += 1.0
    return y.sum(), [a]


def _matmul_weight_written(L):
    a, w = _leaf(L, np.outer(A, C), True), _leaf(L, np.eye(3), False)
    y = a @ w
    w += 1.0
    return y.sum(), [a]


def _matmul_data_written_weight_grad(L):
    """x @ W with only W's gradient wanted (Xᵀ ḡ) reads x, not W."""
    x, w = _leaf(L, np.outer(A, C), False), _leaf(L, np.eye(3), True)
    y = x @ w
    with _no_grad(L):
        w += 1.0
    return y.sum(), [w]


def _softmax_output_written(L):
    a = _leaf(L, A, True)
    y = a.softmax(0) if L is torch else ng.softmax(a, 0)
    with _no_grad(L):
        y[0] = 1.0
    return y.sum(), [a]


def _maximum_operand_written(L):
    a, c = _leaf(L, A, True), _leaf(L, C, False)
    y = L.maximum(a, c)
    c += 1.0
    return y.sum(), [a]


def _clone_input_written(L):
    a = _leaf(L, A, True)
    x = a * 3.0
    y = x.clone()
    x += 1.0
    return (y * 2.0).sum(), [a]


def _leaf_written_under_no_grad_after_add(L):
    a = _leaf(L, A, True)
    y = (a + 1.0).sum()
    with _no_grad(L):
        a += 1.0
    return y, [a]


def _leaf_written_under_no_grad_after_mul(L):
    a = _leaf(L, A, True)
    y = (a * a).sum()
    with _no_grad(L):
        a += 1.0
    return y, [a]


CASES = {
    name[1:]: f
    for name, f in dict(globals()).items()
    if name.startswith("_") and callable(f) and name not in ("_leaf", "_no_grad")
}


def _run(L, f):
    try:
        loss, leaves = f(L)
        loss.backward()
    except RuntimeError as exc:
        return exc
    return [t.grad for t in leaves]


@pytest.mark.parametrize("name", sorted(CASES))
def test_refuses_where_torch_refuses_else_the_same_gradient(name):
    theirs = _run(torch, CASES[name])
    ours = _run(ng, CASES[name])
    if isinstance(theirs, RuntimeError):
        assert "modified by an inplace operation" in str(theirs)
        assert isinstance(ours, RuntimeError), f"torch refuses ({theirs}), we gave {ours}"
        message = str(ours)
        assert "modified by an inplace operation" in message and "of op '" in message
        assert "out-of-place" in message and "clone()" in message
        return
    assert not isinstance(ours, RuntimeError), f"torch gives a gradient, we refuse: {ours}"
    for g, tg in zip(ours, theirs):
        np.testing.assert_allclose(g.numpy(), tg.numpy(), rtol=1e-12, atol=1e-15)


def test_the_message_names_the_op_and_the_input():
    a, c = ng.tensor(A, requires_grad=True), ng.tensor(C)
    y = (a * c).sum()
    c += 1.0
    with pytest.raises(RuntimeError, match=r"its second input of op 'mul' \(a float64 tensor of shape \(3,\)\)"):
        y.backward()
    b = ng.tensor(A, requires_grad=True)
    z = ng.exp(b)
    with ng.no_grad():
        z *= 2.0
    with pytest.raises(RuntimeError, match=r"the output of op 'exp'"):
        z.sum().backward()


def test_an_edge_goes_to_the_value_the_op_saw_through_several_writes_and_a_second_backward():
    """y = a + w, then w is replaced twice in place: y's gradient flows to the w that y used (PyTorch),
    also on a second backward through the kept graph."""
    results = []
    for L in (ng, torch):
        a = _leaf(L, A, True)
        w = a * 1.0
        y = a + w
        w *= 2.0
        w += a
        z = (y * 3.0).sum() + w.sum()
        z.backward(retain_graph=True)
        first = a.grad.numpy().copy()
        z.backward()
        results.append((first, a.grad.numpy().copy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


def test_zero_on_a_non_leaf_is_recorded_and_refused_on_a_leaf_like_torch():
    grads = []
    for L in (ng, torch):
        a = _leaf(L, A, True)
        y = a * 2.0
        assert y.zero_() is y
        (y * 3.0 + a).sum().backward()
        grads.append(a.grad.numpy())
        with pytest.raises(RuntimeError, match="leaf"):
            a.zero_()
        with _no_grad(L):
            a.zero_()
        assert not a.detach().numpy().any()
    np.testing.assert_array_equal(*grads)


@pytest.mark.numpy_only
def test_a_write_through_the_base_of_a_saved_view_is_refused():
    """A view shares its base's version counter, as PyTorch's (NumPy's arrays say they are views, ``base``;
    another library's arrays are not asked)."""
    a, w = ng.tensor(A, requires_grad=True), ng.tensor(np.stack([C, C]))
    y = (a * w[0]).sum()  # w[0] shares w's memory
    w += 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
