"""PyTorch's tensor conveniences: ``numel()``, ``dim()``, ``clone()``, ``contiguous()`` and a
``size`` that is NumPy's int and PyTorch's ``size()`` / ``size(dim)`` at once."""

import copy
import json
import pickle

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")


def test_size_is_numpys_int_and_pytorchs_call():
    x = ng.tensor(np.zeros((2, 3, 4)))
    t = torch.zeros(2, 3, 4)
    assert x.size == 24 and isinstance(x.size, int) and x.size + 1 == 25 and range(x.size)[-1] == 23
    assert x.size() == tuple(t.size()) == (2, 3, 4)
    assert [x.size(d) for d in (0, 1, 2, -1, -3)] == [t.size(d) for d in (0, 1, 2, -1, -3)]
    assert json.dumps({"n": x.size}) == '{"n": 24}' and f"{x.size:>4}" == "  24" and repr(x.size) == "24"
    for copied in (pickle.loads(pickle.dumps(x.size)), copy.deepcopy(x.size)):
        assert copied == 24
    assert ng.tensor(3.0).size == 1 and ng.tensor(3.0).size() == ()
    assert ng.nn.Linear(3, 2).weight.size(1) == 2  # a Parameter too


def test_size_of_a_bad_dim_is_a_clear_index_error():
    with pytest.raises(IndexError, match=r"size: dimension 2 is out of range for a tensor of 2 dimensions \(shape \(2, 3\)\); "
                                         r"give an integer in \[-2, 1\]"):  # fmt: skip
        ng.tensor(np.zeros((2, 3))).size(2)
    with pytest.raises(IndexError, match=r"size: a 0-d tensor has no dimensions, got dim=0; call x.size\(\)"):
        ng.tensor(1.0).size(0)
    with pytest.raises(IndexError, match="size: dimension '1' is out of range"):
        ng.tensor(np.zeros(3)).size("1")


def test_size_inside_vmap_is_the_per_example_shape():
    seen = []

    def f(row):
        seen.append((row.size, row.size(), row.numel(), row.dim()))
        return row.sum()

    ng.vmap(f)(np.zeros((5, 3)))
    assert seen == [(3, (3,), 3, 1)]


def test_numel_and_dim_match_torch():
    for shape in ((), (4,), (2, 3), (2, 0, 5)):
        x, t = ng.tensor(np.zeros(shape)), torch.zeros(shape)
        assert x.numel() == t.numel() and x.dim() == t.dim()
        assert isinstance(x.numel(), int) and isinstance(x.dim(), int)


def test_clone_copies_and_passes_the_gradient_like_torch(rng):
    a = rng.standard_normal((3, 4))
    x, tx = ng.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    c, tc = x.clone(), tx.clone()
    assert c.data is not x.data and c.dtype == x.dtype and c.device == x.device
    if isinstance(x.data, np.ndarray):
        assert not np.shares_memory(c.data, x.data)
    np.testing.assert_array_equal(c.numpy(), a)
    ((c * c).sum() + x.clone().sum()).backward()
    ((tc * tc).sum() + tx.clone().sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-14)
    assert ng.clone(ng.tensor([1, 2])).dtype == np.int64  # integers stay integers
    np.testing.assert_array_equal(ng.jvp(lambda v: v.clone() * 2.0, (a,), (np.ones_like(a),))[1].numpy(), 2 * np.ones_like(a))
    assert ng.gradcheck(lambda v: (v.clone() ** 2).sum(), a)
    np.testing.assert_array_equal(ng.vmap(lambda v: v.clone() * v)(a).numpy(), a * a)


def test_contiguous_is_itself_or_a_c_ordered_copy_with_the_gradient(rng):
    x = ng.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert x.contiguous() is x
    xt = x.T
    y = xt.contiguous()
    if isinstance(x.data, np.ndarray):  # NumPy has strides; another array library's array is returned as it is
        assert y.data.flags.c_contiguous and not xt.data.flags.c_contiguous
    assert y.shape == (4, 3)
    np.testing.assert_array_equal(y.numpy(), x.numpy().T)
    (y * ng.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(12.0).reshape(4, 3).T)
