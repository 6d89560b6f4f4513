"""Shape ops on 0-d tensors as torch treats them (dim 0 / −1 is the tensor itself: values, shapes,
gradients; what torch refuses is refused, naming the op), and the errors of diagonal, pad and the
``x.repeat`` method naming the right op, against torch."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle


def _both(ng_f, torch_f, value=2.5):
    """``f`` of a 0-d tensor in ng and torch: the same shape, value and gradient (of 3·Σ f)."""
    x, t = ng.tensor(value, requires_grad=True), torch.tensor(value, dtype=torch.float64, requires_grad=True)
    y, yt = ng_f(x), torch_f(t)
    assert y.shape == tuple(yt.shape)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    (y.sum() * 3.0).backward()
    (yt.sum() * 3.0).backward()
    assert x.grad.item() == t.grad.item()


@pytest.mark.parametrize(
    "index",
    [np.array(0), np.array([0]), np.array([0, 0, 0]), np.zeros(0, np.int64)],
    ids=["0-d", "one", "repeated", "empty"],
)
@pytest.mark.parametrize("dim", [0, -1])
def test_gather_of_a_zero_d_tensor(dim, index):
    _both(lambda x: x.gather(dim, ng.tensor(index)), lambda t: t.gather(dim, torch.from_numpy(index)), np.float64(2.5))


def test_gather_of_a_vector_at_a_zero_d_index_is_zero_d():
    a = np.array([1.0, 2.0, 3.0])
    x, t = ng.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, yt = x.gather(0, ng.tensor(2)), t.gather(0, torch.tensor(2))
    assert y.shape == tuple(yt.shape) == ()
    assert y.item() == yt.item()
    y.backward()
    yt.backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_gather_of_a_zero_d_tensor_refuses_what_torch_refuses():
    x = ng.tensor(2.0)
    with pytest.raises(IndexError, match=r"gather: index 1 is out of range for dim 0 of size 1 \(x of shape \(\)"):
        x.gather(0, ng.tensor(1))
    with pytest.raises(RuntimeError):
        torch.tensor(2.0).gather(0, torch.tensor(1))
    with pytest.raises(IndexError, match="gather"):
        x.gather(1, ng.tensor(0))
    with pytest.raises(IndexError):
        torch.tensor(2.0).gather(1, torch.tensor(0))


def test_take_along_dim_of_a_zero_d_tensor():
    # flattened (dim None) it is a vector of one entry, as torch's
    got, want = ng.take_along_dim(ng.tensor(2.0), ng.tensor(0)), torch.take_along_dim(torch.tensor(2.0), torch.tensor(0))
    assert got.shape == tuple(want.shape) == (1,)
    assert got.item() == want.item()
    # along dim 0 torch refuses (no dimensions): so does ng, naming the op and the way out
    with pytest.raises(IndexError):
        torch.take_along_dim(torch.tensor(2.0), torch.tensor(0), dim=0)
    with pytest.raises(IndexError, match=r"take_along_dim: a 0-d tensor has no dim 0.*x\.reshape\(1\).*dim=None"):
        ng.take_along_dim(ng.tensor(2.0), ng.tensor(0), dim=0)


@pytest.mark.parametrize("source, destination", [(0, 0), (0, -1), (-1, 0), ((0,), (-1,))])
def test_movedim_of_a_zero_d_tensor_is_itself(source, destination):
    _both(lambda x: x.movedim(source, destination), lambda t: t.movedim(source, destination))
    _both(lambda x: ng.moveaxis(x, source, destination), lambda t: torch.moveaxis(t, source, destination))


def test_movedim_refuses_what_torch_refuses():
    with pytest.raises(IndexError, match="movedim"):
        ng.tensor(2.0).movedim(1, 0)
    with pytest.raises(IndexError):
        torch.tensor(2.0).movedim(1, 0)
    for source, destination in [((0, 0), (1, 0)), ((0,), (1, 0)), ((0, 1), (1, 1))]:
        with pytest.raises(RuntimeError):
            torch.ones(2, 3).movedim(source, destination)
        with pytest.raises(ValueError, match=r"movedim: .*(repeated dim|as many dims)"):
            ng.ones((2, 3)).movedim(source, destination)


@pytest.mark.parametrize("index", [np.array([0]), np.array(0)], ids=["one", "0-d"])
@pytest.mark.parametrize("dim", [0, -1])
def test_index_select_of_a_zero_d_tensor_stays_zero_d(dim, index):
    _both(lambda x: x.index_select(dim, ng.tensor(index)), lambda t: t.index_select(dim, torch.from_numpy(index)))


@pytest.mark.parametrize("index", [np.array([0, 0]), np.zeros(0, np.int64)], ids=["two", "empty"])
def test_index_select_of_a_zero_d_tensor_takes_exactly_one_index(index):
    with pytest.raises(RuntimeError, match="only 1 value"):
        torch.tensor(2.0).index_select(0, torch.from_numpy(index))
    with pytest.raises(ValueError, match=rf"index_select: a 0-d tensor takes an index of exactly one entry, got {index.size}"):
        ng.tensor(2.0).index_select(0, ng.tensor(index))


# --- errors that name the op ------------------------------------------------------------------------
def test_diagonal_of_identical_dims_is_refused_as_diagonal():
    a = np.arange(4.0).reshape(2, 2)
    with pytest.raises(RuntimeError, match="diagonal dimensions cannot be identical"):
        torch.from_numpy(a).diagonal(0, 0, 0)
    for d1, d2 in [(0, 0), (1, -1)]:
        with pytest.raises(ValueError, match=r"^diagonal: .*both \d.*\(2, 2\).*cannot be identical"):
            ng.tensor(a).diagonal(0, d1, d2)


def test_pad_with_too_many_widths_names_pad_the_widths_and_the_shape():
    x = ng.ones((2, 2))
    widths = r"\(\(1, 1\), \(1, 1\), \(1, 1\)\)"
    with pytest.raises(ValueError, match=rf"^pad: pad widths {widths} do not fit the tensor of shape \(2, 2\)"):
        ng.pad(x, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(ValueError, match=r"^pad: pad widths must not be negative"):
        ng.pad(x, -1)
    # the forms NumPy accepts still pad as np.pad
    for widths in [1, (1, 2), ((1, 2),), ((0, 1), (2, 0))]:
        np.testing.assert_array_equal(ng.pad(x, widths).numpy(), np.pad(np.ones((2, 2), np.float32), widths))


def test_repeat_method_needs_a_size_per_dim_like_torch():
    a = np.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="can not be smaller than number of dimensions"):
        torch.from_numpy(a).repeat(2)
    with pytest.raises(ValueError, match=r"^repeat: .*\(2,\).*shape \(2, 3\).*can not be smaller than the number of dims"):
        ng.tensor(a).repeat(2)
    for sizes in [(2, 1), (2, 1, 3), ((1, 2),)]:
        np.testing.assert_array_equal(ng.tensor(a).repeat(*sizes).numpy(), torch.from_numpy(a).repeat(*sizes).numpy())
    _both(lambda x: x.repeat(2, 3), lambda t: t.repeat(2, 3))  # a 0-d tensor takes any number of sizes
    # the function is NumPy's repeat (documented so): each entry repeated, flattened
    np.testing.assert_array_equal(ng.repeat(ng.tensor(a), 2).numpy(), np.repeat(a, 2))


@pytest.mark.parametrize(
    "name, ng_f, torch_f",
    [
        ("narrow", lambda x: x.narrow(0, 0, 1), lambda t: t.narrow(0, 0, 1)),
        ("chunk", lambda x: x.chunk(1, 0), lambda t: t.chunk(1, 0)),
        ("split", lambda x: x.split(1, dim=0), lambda t: t.split(1, dim=0)),
        ("array_split", lambda x: ng.array_split(x, 1, 0), lambda t: torch.tensor_split(t, 1, 0)),
        ("unflatten", lambda x: x.unflatten(0, (1,)), lambda t: t.unflatten(0, (1,))),
    ],
)
def test_ops_cutting_along_a_dim_refuse_a_zero_d_tensor_naming_the_op(name, ng_f, torch_f):
    with pytest.raises((RuntimeError, IndexError)):
        torch_f(torch.tensor(2.0))
    with pytest.raises(ValueError, match=rf"^{name}: a 0-d tensor has no dim .*x\.reshape\(1\)"):
        ng_f(ng.tensor(2.0))
