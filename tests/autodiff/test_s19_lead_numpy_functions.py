"""NumPy's functions called on a tensor (``np.std(t)``, ``np.clip(t, 0, 1)``, ``np.take(t, i)``) reach the
tensor's own methods, which take the keywords NumPy passes: a Tensor comes back, with its gradient, equal to
NumPy's values; an ``out=`` array or an index ``mode`` other than NumPy's default is refused by name."""

import numpy as np
import pytest
import torch

import nablagrad as ng

pytestmark = pytest.mark.numpy_only

A = np.random.default_rng(19).standard_normal((3, 4))


@pytest.mark.parametrize(("f", "args"), [(np.std, ()), (np.var, ()), (np.clip, (0, 1)), (np.take, ([0, 5],))])
def test_numpy_functions_on_a_tensor_give_a_tensor_with_numpys_values(f, args):
    out = f(ng.tensor(A), *args)
    assert isinstance(out, ng.Tensor)
    np.testing.assert_allclose(out.numpy(), f(A, *args), rtol=1e-12)


def test_np_std_keeps_the_gradient_with_numpys_ddof_and_dtype():
    t = ng.tensor(A, requires_grad=True)
    np.std(t).backward()  # NumPy's ddof=0: torch's correction=0
    theirs = torch.tensor(A, requires_grad=True)
    theirs.std(correction=0).backward()
    np.testing.assert_allclose(t.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
    low = np.var(ng.tensor(A), axis=1, dtype=np.float32)
    assert low.dtype == np.float32
    np.testing.assert_allclose(low.numpy(), np.var(A, axis=1, dtype=np.float32), rtol=1e-6)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda t: np.clip(t, 0, 1, out=np.empty((3, 4))), ValueError, "clip: out= is not taken"),
        (lambda t: np.take(t, [0], mode="wrap"), ValueError, "take: mode='wrap' is not taken"),
        (lambda t: np.std(t, out=np.empty(())), TypeError, "std: out= is not taken"),
    ],
)
def test_an_out_array_or_another_index_mode_is_refused(call, error, match):
    t = ng.tensor(A)
    with pytest.raises(error, match=match):
        call(t)
    np.testing.assert_array_equal(t.numpy(), A)
