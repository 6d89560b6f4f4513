"""Property tests: gradients of broadcast binary ops always come back in the operand's shape
and equal the explicit sum over the broadcast axes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped

OPS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "maximum": (ng.maximum, torch.maximum),
    "div": (lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
}


@settings(max_examples=60, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
    op=st.sampled_from(sorted(OPS)),
    seed=st.integers(0, 2**16),
)
def test_broadcast_gradients_match_torch(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes.input_shapes)
    f, tf = OPS[op]
    x, y = ng.tensor(a, requires_grad=True), ng.tensor(b, requires_grad=True)
    out = f(x, y)
    assert out.shape == shapes.result_shape
    out.sum().backward()
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tf(tx, ty).sum().backward()
    assert x.grad.shape == a.shape and y.grad.shape == b.shape
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
def test_broadcast_jvp_has_output_shape(shapes):
    a, b = (np.ones(s) for s in shapes.input_shapes)
    out, t = ng.jvp(lambda x, y: x * y, (a, b), (a, b))
    assert t.shape == out.shape == shapes.result_shape
    np.testing.assert_allclose(t.numpy(), 2 * np.ones(shapes.result_shape))
