"""PyTorch's keywords and index rules, against PyTorch itself: negative and too-large indices of the
gather/scatter family, ``alpha=`` of add/sub (and their in-place forms), the operands by name
(``other=``, ``input=``), ``div``'s ``rounding_mode``, ``dtype=`` of the scans and of softmax,
``where(cond)``, ``masked_fill``, ``clamp_min``/``clamp_max``."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle

X = np.arange(12.0).reshape(3, 4) - 5.5


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _outcome(f, L):
    try:
        return f(L, L.tensor(X))
    except (RuntimeError, IndexError, ValueError) as exc:
        return exc


# --- negative and out-of-range indices -------------------------------------------------------------------
INDEX_OPS = {
    "gather": lambda L, x, i: L.gather(x, 1, L.tensor([[i], [0], [1]])),
    "gather_method": lambda L, x, i: x.gather(0, L.tensor([[i, 0, 1, 2]])),
    "scatter": lambda L, x, i: L.scatter(x, 1, L.tensor([[i], [0], [1]]), L.ones((3, 1), dtype=L.float64)),
    "scatter_value": lambda L, x, i: x.scatter(1, L.tensor([[i], [0], [1]]), 7.0),
    "scatter_add": lambda L, x, i: L.scatter_add(x, 0, L.tensor([[i, 0]]), L.ones((1, 2), dtype=L.float64)),
    "index_select": lambda L, x, i: L.index_select(x, 1, L.tensor([0, i])),
    "index_select_method": lambda L, x, i: x.index_select(0, L.tensor([i])),
    "take_along_dim_flat": lambda L, x, i: L.take_along_dim(x, L.tensor([i, 3])),
    "take_along_dim": lambda L, x, i: L.take_along_dim(x, L.tensor([[i], [0], [1]]), dim=1),
    "take": lambda L, x, i: L.take(x, L.tensor([i, 0])),
}


@pytest.mark.parametrize("index", [-1, -4, -5, -12, -13, 0, 2, 3, 4, 11, 12])
@pytest.mark.parametrize("name", sorted(INDEX_OPS))
def test_an_index_is_refused_where_torch_refuses_it_and_taken_as_torch_takes_it(name, index):
    op = INDEX_OPS[name]
    theirs = _outcome(lambda L, x: op(L, x, index), torch)
    if name == "take_along_dim" and not isinstance(theirs, Exception) and not -4 <= index < 4:
        pytest.skip("torch.take_along_dim reads an index past the end unchecked (wrapped around); we refuse it")
    ours = _outcome(lambda L, x: op(L, x, index), ng)
    if isinstance(theirs, Exception):
        assert isinstance(ours, IndexError), f"torch refuses ({theirs}); we gave {ours}"
        message = str(ours)
        assert message.startswith(name.replace("_method", "").replace("_flat", "").replace("_value", "") + ":")
        assert f"index {index}" in message and "give indices in" in message
        return
    assert not isinstance(ours, Exception), f"torch gives {theirs}; we refuse: {ours}"
    np.testing.assert_array_equal(_np(ours), _np(theirs))


def test_a_negative_index_says_it_does_not_count_from_the_end():
    with pytest.raises(IndexError, match=r"gather: index -1 is out of range for dim 1 of size 4 .* give indices in 0\.\.3 "
                       r"\(a negative index does not count from the end here, as in PyTorch\)"):  # fmt: skip
        ng.gather(ng.tensor(X), 1, ng.tensor([[-1], [0], [1]]))


def test_gradients_of_in_range_indices_are_torch_s():
    idx = [[0, 3], [2, 2], [1, 0]]
    x, t = ng.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    (ng.gather(x, 1, ng.tensor(idx)) ** 2).sum().backward()
    (torch.gather(t, 1, torch.tensor(idx)) ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    x, t = ng.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    (ng.take_along_dim(x, ng.tensor([[-1], [0], [-4]]), dim=1) ** 2).sum().backward()
    (torch.take_along_dim(t, torch.tensor([[-1], [0], [-4]]), dim=1) ** 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# --- keywords of the binary ops ------------------------------------------------------------------------------
A = np.array([[1.5, -2.0, 3.0], [4.0, -5.5, 6.0]])
B = np.array([[2.0, 3.0, -4.0], [1.0, 2.0, 3.0]])

KEYWORD_CALLS = {
    "add_alpha": lambda L, a, b: L.add(a, b, alpha=2.5),
    "add_alpha_int": lambda L, a, b: L.add(a, b, alpha=-3),
    "add_number_alpha": lambda L, a, b: L.add(a, 3.0, alpha=2),
    "add_method_alpha": lambda L, a, b: a.add(b, alpha=0.5),
    "add_other_keyword": lambda L, a, b: L.add(a, other=b),
    "add_input_other_keywords": lambda L, a, b: L.add(input=a, other=b, alpha=2),
    "sub_alpha": lambda L, a, b: L.sub(a, b, alpha=2),
    "sub_method_alpha": lambda L, a, b: a.sub(b, alpha=-0.25),
    "subtract_alpha": lambda L, a, b: L.subtract(a, b, alpha=3),
    "add_in_place_alpha": lambda L, a, b: (a * 1.0).add_(b, alpha=2),
    "sub_in_place_alpha": lambda L, a, b: (a * 1.0).sub_(b, alpha=0.5),
    "mul_other": lambda L, a, b: L.mul(a, other=b),
    "mul_method_other": lambda L, a, b: a.mul(other=b),
    "multiply": lambda L, a, b: L.multiply(a, b),
    "mul_in_place": lambda L, a, b: (a * 1.0).mul_(b),
    "div_other": lambda L, a, b: L.div(a, other=b),
    "div_rounding_none": lambda L, a, b: L.div(a, b, rounding_mode=None),
    "div_trunc": lambda L, a, b: L.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda L, a, b: L.div(a, b, rounding_mode="floor"),
    "div_method_floor": lambda L, a, b: a.div(b, rounding_mode="floor"),
    "div_in_place_trunc": lambda L, a, b: (a * 1.0).div_(b, rounding_mode="trunc"),
    "divide_floor": lambda L, a, b: L.divide(a, b, rounding_mode="floor"),
    "true_divide": lambda L, a, b: L.true_divide(a, b),
    "matmul_other": lambda L, a, b: L.matmul(a, other=b.T),
    "matmul_method_other": lambda L, a, b: a.matmul(other=b.T),
    "maximum_other": lambda L, a, b: L.maximum(a, other=b),
    "atan2_other": lambda L, a, b: L.atan2(a, other=b),
    "pow_exponent": lambda L, a, b: L.pow(a.abs(), exponent=b),
    "pow_in_place": lambda L, a, b: (a.abs() + 0.5).pow_(2),
    "clamp_tensor_bounds": lambda L, a, b: L.clamp(a, min=-b.abs(), max=b.abs()),
    "clamp_tensor_bounds_crossed": lambda L, a, b: L.clamp(a, min=b.abs(), max=-b.abs()),
    "clamp_min_number": lambda L, a, b: L.clamp_min(a, 0.5),
    "clamp_min_tensor": lambda L, a, b: a.clamp_min(b),
    "clamp_max_tensor": lambda L, a, b: L.clamp_max(a, b),
    "clamp_in_place": lambda L, a, b: (a * 1.0).clamp_(min=-1.0, max=2.0),
    "masked_fill": lambda L, a, b: a.masked_fill(b > 1.5, -1.0),
    "masked_fill_row_mask": lambda L, a, b: L.masked_fill(a, L.tensor([True, False, True]), 0.25),
    "masked_fill_tensor_value": lambda L, a, b: a.masked_fill(a > 0, b[0, 1]),
    "masked_fill_in_place": lambda L, a, b: (a * 1.0).masked_fill_(a < 0, 2.0),
}


@pytest.mark.parametrize("name", sorted(KEYWORD_CALLS))
def test_keywords_give_torch_s_values_and_gradients(name):
    f = KEYWORD_CALLS[name]
    outs, grads = [], []
    for L in (ng, torch):
        a, b = L.tensor(A, requires_grad=True), L.tensor(B, requires_grad=True)
        out = f(L, a, b)
        (out * L.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)))).sum().backward()
        outs.append(_np(out))
        grads.append([None if t.grad is None else _np(t.grad) for t in (a, b)])
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-15, atol=0)
    assert outs[0].dtype == outs[1].dtype
    for ours, theirs in zip(*grads):
        if theirs is None or ours is None:
            assert (ours is None or not ours.any()) and (theirs is None or not theirs.any())
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)


INTEGER_CALLS = {
    "add_alpha": lambda L, a, b: L.add(a, b, alpha=3),
    "sub_alpha_number": lambda L, a, b: L.sub(a, 2, alpha=-2),
    "div_trunc": lambda L, a, b: L.div(a, b, rounding_mode="trunc"),
    "div_floor": lambda L, a, b: L.div(a, b, rounding_mode="floor"),
    "div_trunc_number": lambda L, a, b: L.div(a, -3, rounding_mode="trunc"),
    "div_true": lambda L, a, b: L.div(a, b),
    "int_by_float_trunc": lambda L, a, b: L.div(a, 2.5, rounding_mode="trunc"),
    "cumsum_dtype": lambda L, a, b: L.cumsum(a, dim=1, dtype=L.float32),
    "cumprod_dtype": lambda L, a, b: a.cumprod(0, dtype=L.float64),
    "softmax_dtype": lambda L, a, b: L.softmax(a, dim=1, dtype=L.float64),
    "log_softmax_dtype": lambda L, a, b: L.log_softmax(a, 0, dtype=L.float32),
    "masked_fill_keeps_int": lambda L, a, b: a.masked_fill(b > 0, 1.7),
}


@pytest.mark.parametrize("name", sorted(INTEGER_CALLS))
def test_integer_operands_keep_torch_s_dtype_and_exact_values(name):
    a, b = np.array([[7, -7, 9, -2**40 - 1], [0, 5, -6, 13]]), np.array([[2, 2, -4, 3], [3, -2, 5, -4]])
    ours = INTEGER_CALLS[name](ng, ng.tensor(a), ng.tensor(b))
    theirs = INTEGER_CALLS[name](torch, torch.tensor(a), torch.tensor(b))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    if ours.dtype.kind in "iu":
        np.testing.assert_array_equal(_np(ours), _np(theirs))
    else:  # float32 results: one rounding apart at most
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=2e-7 if ours.dtype == np.float32 else 1e-15)


def test_keyword_mistakes_are_refused_as_torch_refuses_them():
    a, ta = ng.tensor([1, 2]), torch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="alpha"):
        torch.add(ta, ta, alpha=0.5)
    with pytest.raises(TypeError, match=r"add: for integer operands alpha must be an integer"):
        ng.add(a, a, alpha=0.5)
    with pytest.raises(RuntimeError, match="rounding_mode"):
        torch.div(ta, ta, rounding_mode="round")
    with pytest.raises(ValueError, match=r"div: rounding_mode must be None, 'trunc' or 'floor', got 'round'"):
        ng.div(a, a, rounding_mode="round")
    with pytest.raises(TypeError, match="beta"):
        torch.add(ta, ta, beta=2)
    with pytest.raises(TypeError, match=r"add: unexpected keyword argument\(s\) \['beta'\]; it takes input, other, alpha"):
        ng.add(a, a, beta=2)
    with pytest.raises(TypeError, match=r"mul: got other twice"):
        ng.mul(a, a, other=a)


# --- scans' dtype, where(cond), masked_fill's checks ----------------------------------------------------------
def test_scans_cast_to_dtype_first_like_torch():
    x = np.array([[0.1, 0.2, 0.3], [1.0, 2.0, 3.0]])
    for dim in (0, 1):
        ours = ng.cumsum(ng.tensor(x), dim=dim, dtype=np.float32)
        theirs = torch.cumsum(torch.tensor(x), dim=dim, dtype=torch.float32)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    g, tg = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ng.cumprod(g, 1, dtype="float32") * 2).sum().backward()
    (torch.cumprod(tg, 1, dtype=torch.float32) * 2).sum().backward()
    assert g.grad.dtype == np.float64
    np.testing.assert_allclose(g.grad.numpy(), tg.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("cond", [[[True, False, True], [False, False, True]], [False, False], True, [[0.0, 2.5], [-1.0, 0.0]]])
def test_where_with_the_condition_alone_gives_the_indices_like_torch(cond):
    ours, theirs = ng.where(ng.tensor(cond)), torch.where(torch.tensor(cond))
    assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.dtype == np.int64
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    with pytest.raises(TypeError, match="where: give both x and y"):
        ng.where(ng.tensor(cond), 1.0)


def test_masked_fill_refuses_what_torch_refuses():
    x = ng.tensor(A)
    with pytest.raises(RuntimeError):
        torch.tensor(A).masked_fill(torch.tensor([True, False]), 0.0)
    with pytest.raises(ValueError, match=r"masked_fill: a mask of shape \(2,\) does not broadcast to the tensor's shape"):
        x.masked_fill(ng.tensor([True, False]), 0.0)
    with pytest.raises(RuntimeError):
        torch.tensor(A).masked_fill(torch.tensor(A) > 0, torch.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="masked_fill: value must be a number or a 0-d tensor"):
        x.masked_fill(x > 0, ng.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="masked_fill: the mask must be boolean"):
        x.masked_fill(ng.tensor([1, 0, 1]), 0.0)


# --- found in the sweep ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shifts, dims", [((1,), (0,)), (1, (0,)), ((1,), 0), ((1, 2), (0, 1)), (-1, 1), ((1, 2), (0,)), (1, (0, 1)), ((1, 2), 0)]
)
def test_roll_pairs_shifts_with_dims_like_torch(shifts, dims):
    x = np.arange(6.0).reshape(2, 3)
    try:
        theirs = torch.roll(torch.tensor(x), shifts, dims).numpy()
    except RuntimeError:
        with pytest.raises(ValueError, match="roll: give one shift per dim"):
            ng.roll(ng.tensor(x), shifts, dims)
        return
    np.testing.assert_array_equal(ng.roll(ng.tensor(x), shifts, dims).numpy(), theirs)


@pytest.mark.parametrize("dim", [(0, 1), [1], (-1, 0), ()])
@pytest.mark.parametrize("keepdim", [False, True])
def test_any_and_all_take_several_dims_like_torch(dim, keepdim):
    x = np.array([[0.0, 2.0, 0.0], [1.0, 3.0, 0.0]])
    for ours, theirs in ((ng.any, torch.any), (ng.all, torch.all)):
        got = ours(ng.tensor(x), dim=dim, keepdim=keepdim)
        want = theirs(torch.tensor(x), dim=tuple(dim), keepdim=keepdim)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    batched = ng.vmap(lambda a: ng.any(a > 1.0, dim=(0, 1)))(np.stack([x, x - 5.0]))
    np.testing.assert_array_equal(batched.numpy(), [True, False])


def test_bad_counts_name_the_op():
    x = ng.tensor(X)
    with pytest.raises(RuntimeError):
        torch.repeat_interleave(torch.tensor(X), -1)
    with pytest.raises(ValueError, match="repeat: repeats must not be negative"):
        ng.repeat_interleave(x, -1)
    with pytest.raises(ValueError, match="repeat: repeats must not be negative"):
        ng.repeat_interleave(x, ng.tensor([1, -1, 2]), dim=0)
    with pytest.raises(ValueError, match="split: the number of pieces must be positive, got 0"):
        ng.split(x, 0)
