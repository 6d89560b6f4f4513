"""mean, std and var of integer and bool tensors refused as PyTorch 2.13 refuses them (their result is not an
integer), with an error that names the op, the dtype and the fix; dtype= (mean) and converting first work."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

INTEGRAL = {"int64": np.array([[1, 2], [3, 4]]), "int32": np.array([1, 2], np.int32), "uint8": np.array([1, 2], np.uint8),
            "bool": np.array([True, False, True])}  # fmt: skip


@pytest.mark.parametrize("name", ["mean", "std", "var"])
@pytest.mark.parametrize("dtype", sorted(INTEGRAL))
def test_integer_and_bool_tensors_are_refused_as_torch(name, dtype):
    a = INTEGRAL[dtype]
    with pytest.raises(RuntimeError, match="floating point"):
        getattr(torch, name)(torch.tensor(a))
    x = ng.tensor(a)
    for call in (lambda: getattr(ng, name)(x), lambda: getattr(x, name)(), lambda: getattr(x, name)(dim=0)):
        with pytest.raises(TypeError, match=rf"{name}: .*{dtype}.*x\.float\(\)"):
            call()


@pytest.mark.parametrize("dtype", sorted(INTEGRAL))
def test_the_fixes_work_as_torch(dtype):
    a = INTEGRAL[dtype]
    x, t = ng.tensor(a), torch.tensor(a)
    for got, want in (
        (ng.mean(x, dtype=np.float64), torch.mean(t, dtype=torch.float64)),
        (x.mean(dim=0, dtype=np.float32), t.mean(dim=0, dtype=torch.float32)),
        (x.float().mean(), t.float().mean()),
        (x.double().std(), t.double().std()),
        (x.float().var(0), t.float().var(0)),
    ):
        assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.mean(t, dtype=torch.int64)
    with pytest.raises(TypeError, match="mean: .*int64"):
        ng.mean(x, dtype=np.int64)


def test_floats_keep_every_spelling_and_gradient():
    a = np.array([[0.5, 1.5, 2.0], [3.0, -1.0, 0.25]], np.float32)
    x, t = ng.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for f_ng, f_t in (
        (lambda v: v.mean(), lambda v: v.mean()),
        (lambda v: v.mean(1, keepdims=True).sum(), lambda v: v.mean(1, keepdim=True).sum()),
        (lambda v: ng.mean(v, axis=(0, 1)), lambda v: v.mean(dim=(0, 1))),
        (lambda v: v.mean(dim=0, keepdim=True).sum(), lambda v: v.mean(dim=0, keepdim=True).sum()),
        (lambda v: ng.mean(v, dim=[]), lambda v: torch.mean(v, dim=[])),
        (lambda v: ng.mean(v[0, 0], dim=0), lambda v: torch.mean(v[0, 0], dim=0)),
    ):
        x.grad, t.grad = None, None
        out, ref = f_ng(x), f_t(t)
        out.backward()
        ref.backward()
        assert out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-6)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ng.mean(x, correction=1)
