"""PyTorch's names for computations nablagrad already has (``mm``, ``isnan``, ``lerp`` …): values, dtypes and
gradients against torch."""

import math

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.numpy_only("compositions of ops tested on every device elsewhere; one oracle run")

RNG = np.random.default_rng(0)
A, B, C = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2)), RNG.standard_normal((2, 3, 4))
V = RNG.standard_normal(4)
SPECIAL = np.array([1.5, math.nan, math.inf, -math.inf, 0.0, -2.0])

DIFFERENTIABLE = {
    "mm": (lambda L, a, b: L.mm(a, b), (A, B)),
    "bmm": (lambda L, a, b: L.bmm(a, b), (C, np.swapaxes(C, 1, 2).copy())),
    "mv": (lambda L, a, v: L.mv(a, v), (A, V)),
    "rsqrt": (lambda L, a: L.rsqrt(a), (np.abs(A) + 0.1,)),
    "lerp": (lambda L, a, b, w: L.lerp(a, b, w), (A, A * 2 + 1, np.abs(A) / 3)),
    "masked_select": (lambda L, a: L.masked_select(a, a > 0), (A,)),
    "nan_to_num": (lambda L, a: L.nan_to_num(a, nan=0.5, posinf=9.0, neginf=-9.0), (SPECIAL,)),
    "meshgrid ij": (lambda L, a, b: sum(g.sum() * (k + 1) for k, g in enumerate(L.meshgrid(a, b, indexing="ij"))),
                    (V, V[:3] * 2)),
    "meshgrid xy": (lambda L, a, b: (L.meshgrid(a, b, indexing="xy")[0] * L.meshgrid(a, b, indexing="xy")[1]).sum(),
                    (V, V[:3] * 2)),
}  # fmt: skip


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_values_and_gradients_equal_torch_s(name):
    f, arrays = DIFFERENTIABLE[name]
    grads = []
    for L in (ng, torch):
        xs = [L.tensor(a.copy(), requires_grad=True) for a in arrays]
        out = f(L, *xs)
        value = out.detach().numpy()
        with np.errstate(invalid="ignore"):
            (out * L.tensor(np.ones(out.shape))).sum().backward()
        grads.append((value, [x.grad.numpy() if x.grad is not None else None for x in xs]))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
    for ours, theirs in zip(grads[0][1], grads[1][1]):
        if theirs is None:
            assert ours is None or not ours.any()
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "logical_not"])
def test_predicates_equal_torch_s(name):
    ours = getattr(ng, name)(ng.tensor(SPECIAL))
    theirs = getattr(torch, name)(torch.tensor(SPECIAL))
    assert str(ours.dtype) == "bool"
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(getattr(ng.tensor(SPECIAL), name)().numpy(), theirs.numpy())  # the method


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_ops_equal_torch_s(name):
    a, b = np.array([0.0, 1.0, 2.0, 0.0]), np.array([True, True, False, False])
    ours = getattr(ng, name)(ng.tensor(a), ng.tensor(b))
    theirs = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_counts_comparisons_and_creation_equal_torch_s():
    x = np.array([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]])
    for dim in (None, 0, 1, (0, 1)):
        np.testing.assert_array_equal(ng.count_nonzero(ng.tensor(x), dim=dim).numpy(),
                                      torch.count_nonzero(torch.tensor(x), dim=dim).numpy())  # fmt: skip
    assert ng.allclose(ng.tensor(x), ng.tensor(x + 1e-9)) is torch.allclose(torch.tensor(x), torch.tensor(x + 1e-9)) is True
    assert ng.equal(ng.tensor(x), ng.tensor(x)) and not ng.equal(ng.tensor(x), ng.tensor(x[:1]))
    assert ng.empty(2, 3).shape == tuple(torch.empty(2, 3).shape)
    shared = np.zeros(3)
    t = ng.from_numpy(shared)
    shared[0] = 5.0
    assert t.numpy()[0] == torch.from_numpy(shared).numpy()[0] == 5.0


def test_matrix_names_refuse_other_shapes():
    with pytest.raises(ValueError, match="mm: the first matrix must be 2-D"):
        ng.mm(ng.tensor(C), ng.tensor(B))
    with pytest.raises(ValueError, match="bmm: batches of 2 and 3"):
        ng.bmm(ng.tensor(C), ng.tensor(np.zeros((3, 4, 1))))


def test_grad_mode_context_managers():
    x = ng.tensor([1.0], requires_grad=True)
    with ng.set_grad_enabled(False):
        assert not (x * 2).requires_grad
        with ng.set_grad_enabled(True):
            assert (x * 2).requires_grad
    with ng.inference_mode():
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
