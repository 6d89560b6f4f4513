"""A boolean mask given to a compiled function as an argument, as a jax.jit / torch.compile user passes one: each
call uses its own mask. ``ng.where(mask, x, 0)`` stays one program (it used to freeze the first call's mask and refuse
the second call); ``x[mask]``, whose shape follows the mask's count, runs the function itself when the count
differs from the traced one (a warning says so once), equal to torch either way."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("compiled programs are NumPy programs; other devices run the function itself")

RNG = np.random.default_rng(1919)
X = RNG.standard_normal((3, 4))
MASKS = [RNG.standard_normal((3, 4)) > 0 for _ in range(4)]


def _against_torch(jf, tf, masks):
    for m in masks:
        x, xt = ng.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
        y, yt = jf(m, x), tf(torch.tensor(m), xt)
        y.backward()
        yt.backward()
        np.testing.assert_allclose(y.item(), yt.item(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["where", "where_both", "masked_fill"])
def test_a_mask_argument_of_a_shape_keeping_op_is_an_input_of_one_program(kind):
    fns = {
        "where": lambda m, a, lib: lib.where(m, a, 0.0).sum(),
        "where_both": lambda m, a, lib: lib.where(m, a * 2, a**2).sum(),
        "masked_fill": lambda m, a, lib: (a.masked_fill(m, 0.5) ** 2).sum(),
    }
    jf = ng.jit(lambda m, a: fns[kind](m, a, ng))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compiled, no fallback
        _against_torch(jf, lambda m, a: fns[kind](m, a, torch), MASKS)
    assert jf.traces == 1


def test_an_index_by_a_mask_argument_follows_each_calls_count():
    jf = ng.jit(lambda m, a: (a[m] ** 2).sum())
    counts = [int(m.sum()) for m in MASKS]
    assert len(set(counts)) > 1  # (the sample has masks of different counts)
    with pytest.warns(RuntimeWarning, match=r"x\[mask\].*ng.where") as caught:
        _against_torch(jf, lambda m, a: (a[m] ** 2).sum(), MASKS + MASKS[:1])
    assert len([w for w in caught if issubclass(w.category, RuntimeWarning)]) == 1  # once per compiled function
    assert jf.traces == 1
