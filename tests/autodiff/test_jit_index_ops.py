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
