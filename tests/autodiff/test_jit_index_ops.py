"""Ops whose values pick entries by index (sort, argsort, topk, median, argmax, take_along_axis of an
argsort) replay under ``ng.jit``: the indices are computed anew on every call, not frozen at the traced
call's — values and gradients equal eager mode's on inputs the trace never saw (as ``jax.jit``)."""

import numpy as np
import pytest

import nablagrad as ng

pytestmark = pytest.mark.numpy_only

CASES = {
    "sort": lambda x: ng.sort(x, axis=1).sum(axis=0),
    "sort descending": lambda x: ng.sort(x, axis=0, descending=True)[0],
    "argsort gather": lambda x: ng.take_along_axis(x, ng.argsort(x, axis=1), 1)[:, :2].sum(axis=1),
    "topk": lambda x: ng.topk(x, 2, dim=1).values.sum(axis=1),
    "median": lambda x: ng.median(x, axis=1),
    "median of all": lambda x: ng.median(x) * x.sum(),
    "x[argmax(x)]": lambda x: x.reshape(-1)[ng.argmax(x)] * x.sum(),
    "x[rows, argmax]": lambda x: x[np.arange(3), ng.argmax(x, axis=1)],
    "x[argsort[:2]]": lambda x: x[:, ng.argsort(x[0])[:2]].sum(axis=1),
    "argmax mask": lambda x: (x * (ng.argmax(x, axis=1)[:, None] == ng.arange(5))).sum(axis=1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_an_index_valued_op_replays_with_each_calls_indices(name):
    f = CASES[name]
    compiled = ng.jit(lambda x: f(x).sum())
    rng = np.random.default_rng(0)
    for _ in range(4):
        data = rng.standard_normal((3, 5))
        x, xe = ng.tensor(data, requires_grad=True), ng.tensor(data, requires_grad=True)
        out, ref = compiled(x), f(xe).sum()
        out.backward()
        ref.backward()
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.numpy(), xe.grad.numpy(), rtol=1e-12)
    assert compiled.traces == 1


def test_a_boolean_mask_made_inside_the_function_is_refused_with_the_fix():
    """``x[x > 0]`` has a shape that depends on the values (JAX refuses it in jit too)."""
    compiled = ng.jit(lambda x: x[x > 0].sum())
    x = ng.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    with pytest.raises(ng.JitError, match=r"boolean mask computed inside the function .* ng\.where\(mask, x, 0\)"):
        compiled(x)
    same_shape = ng.jit(lambda x: ng.where(x > 0, x, 0.0).sum())
    assert float(same_shape(x).numpy()) == 4.0
    assert float(same_shape(ng.tensor(np.array([-1.0, 5.0, 3.0]), requires_grad=True)).numpy()) == 8.0
