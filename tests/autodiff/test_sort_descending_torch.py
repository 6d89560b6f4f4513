"""sort / argsort / topk in PyTorch's order, against torch: descending without negating (unsigned and
extreme signed integers, booleans), NaN as the largest value (last ascending, first descending), ties
in their original order (torch's ``stable=True``), 0-d tensors, and the values' VJP, JVP and vmap."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle

I64 = np.iinfo(np.int64)
ARRAYS = {
    "uint8": np.array([0, 3, 1, 2, 3, 255, 0], np.uint8),
    "int8 extremes": np.array([-128, 127, 0, -128, 5, 127], np.int8),
    "int64 extremes": np.array([I64.min, 0, 5, I64.max, -1, 0, I64.min]),
    "bool": np.array([False, True, True, False, True]),
    "float NaN inf": np.array([1.0, np.nan, 2.0, np.nan, -np.inf, 2.0, np.inf, -0.0, 0.0]),
    "float ties": np.array([1.0, 2.0, 1.0, 2.0, 1.0]),
}
NUMERIC = [k for k in ARRAYS if k != "bool"]  # array-api-strict's argsort refuses booleans


def _skip_bool_off_numpy(request, name):
    if name == "bool" and request.getfixturevalue("array_namespace") != "numpy":
        pytest.skip("the array API standard sorts real numbers only")


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_sort_and_argsort_match_torch_stable(request, name, descending):
    _skip_bool_off_numpy(request, name)
    a = ARRAYS[name]
    want = torch.sort(torch.from_numpy(a), descending=descending, stable=True)
    got = ng.tensor(a).sort(descending=descending)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
    for stable in (False, True):  # ng is always stable; stable= is accepted, as torch's
        idx = ng.tensor(a).argsort(descending=descending, stable=stable)
        np.testing.assert_array_equal(idx.numpy(), want.indices.numpy())
    np.testing.assert_array_equal(ng.sort(ng.tensor(a), descending=descending).numpy(), want.values.numpy())


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_along_each_dim_with_nans_and_ties(dim, descending):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, (4, 5)).astype(np.float64)
    a[rng.random((4, 5)) < 0.25] = np.nan
    want = torch.sort(torch.from_numpy(a), dim=dim, descending=descending, stable=True)
    got = ng.sort(ng.tensor(a), dim=dim, descending=descending, stable=True)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("name", NUMERIC)
def test_topk_values_match_torch(name, largest):
    a = ARRAYS[name]
    want = torch.topk(torch.from_numpy(a), 3, largest=largest)
    got = ng.topk(ng.tensor(a), 3, largest=largest)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(ng.tensor(a)[got.indices].numpy(), want.values.numpy())  # indices of those values


@pytest.mark.parametrize("largest", [True, False])
def test_topk_indices_with_nan_and_inf_match_torch(largest):
    a = np.array([1.0, np.nan, 2.0, -np.inf, np.inf])  # no ties: torch's order is determined
    want = torch.topk(torch.from_numpy(a), 3, largest=largest)
    got = ng.tensor(a).topk(3, largest=largest)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())


def _weights(shape):
    return np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)


@pytest.mark.parametrize(
    "ng_f, torch_f",
    [
        (lambda x: x.sort(dim=1, descending=True).values, lambda x: x.sort(dim=1, descending=True, stable=True).values),
        (lambda x: x.sort(dim=0, descending=True).values, lambda x: x.sort(dim=0, descending=True, stable=True).values),
        (lambda x: x.topk(2, dim=1).values, lambda x: x.topk(2, dim=1).values),
        (lambda x: x.topk(2, dim=0, largest=False).values, lambda x: x.topk(2, dim=0, largest=False).values),
    ],
    ids=["sort desc dim1", "sort desc dim0", "topk", "topk smallest dim0"],
)
def test_gradients_of_values_match_torch(ng_f, torch_f):
    a = np.array([[3.0, np.nan, -1.0, 7.0], [0.5, 2.0, np.inf, -4.0], [1.5, -2.0, 6.0, np.nan]])
    x = ng.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    y, yt = ng_f(x), torch_f(t)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    w = _weights(yt.shape)
    (y * ng.tensor(w)).sum().backward()
    (yt * torch.from_numpy(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    # forward mode: the tangent is gathered from the same entries
    tangent = np.random.default_rng(1).standard_normal(a.shape)
    _, jt = ng.jvp(ng_f, (ng.tensor(a),), (ng.tensor(tangent),))
    _, want = torch.func.jvp(torch_f, (torch.from_numpy(a),), (torch.from_numpy(tangent),))
    np.testing.assert_array_equal(jt.numpy(), want.numpy())


def test_vmap_of_descending_sort_matches_torch_per_row():
    a = np.array([[1.0, np.nan, 2.0, 2.0], [np.inf, 0.0, -1.0, np.nan], [5.0, 5.0, 5.0, -5.0]])
    got = ng.vmap(lambda r: ng.sort(r, descending=True, dim=0).indices)(ng.tensor(a))
    want = torch.stack([torch.sort(r, descending=True, stable=True).indices for r in torch.from_numpy(a)])
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, -1])
def test_zero_d_sort_and_argsort_are_the_tensor_itself(dim, descending):
    x, t = ng.tensor(2.5, requires_grad=True), torch.tensor(2.5, requires_grad=True)
    got, want = x.sort(dim=dim, descending=descending), t.sort(dim=dim, descending=descending)
    assert got.values.shape == tuple(want.values.shape) == ()
    assert got.indices.shape == tuple(want.indices.shape) == ()
    assert got.values.item() == want.values.item() and got.indices.item() == want.indices.item()
    assert x.argsort(dim=dim, descending=descending).shape == tuple(t.argsort(dim=dim, descending=descending).shape)
    assert ng.argsort(x).shape == tuple(torch.argsort(t).shape) == ()
    (got.values * 3.0).backward()
    (want.values * 3.0).backward()
    assert x.grad.item() == t.grad.item()


def test_zero_d_sort_refuses_dim_1_like_torch():
    with pytest.raises(IndexError, match="sort"):
        ng.tensor(2.0).sort(dim=1)
    with pytest.raises(IndexError):
        torch.tensor(2.0).sort(dim=1)
