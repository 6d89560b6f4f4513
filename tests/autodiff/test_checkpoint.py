import numpy as np

import nablagrad as ng


def _mlp(depth, width, rng):
    return [ng.tensor(rng.standard_normal((width, width)) / np.sqrt(width), requires_grad=True) for _ in range(depth)]


def _forward(x, weights, use_checkpoint):
    h = x
    for w in weights:
        layer = lambda h, w=w: ng.tanh(h @ w) * 1.5 + h  # noqa: E731
        h = ng.checkpoint(layer)(h) if use_checkpoint else layer(h)
    return (h * h).mean()


def test_checkpoint_shrinks_tape_and_keeps_gradients(rng):
    weights = _mlp(8, 64, rng)
    x = ng.tensor(rng.standard_normal((256, 64)), requires_grad=True)
    plain = _forward(x, weights, False)
    ckpt = _forward(x, weights, True)
    assert ng.tape_nbytes(ckpt) * 3 < ng.tape_nbytes(plain)
    np.testing.assert_allclose(ckpt.numpy(), plain.numpy())
    plain.backward()
    g_plain = [w.grad.numpy().copy() for w in weights] + [x.grad.numpy().copy()]
    for w in weights:
        w.grad = None
    x.grad = None
    ckpt.backward()
    g_ckpt = [w.grad.numpy() for w in weights] + [x.grad.numpy()]
    for a, b in zip(g_plain, g_ckpt):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_checkpoint_supports_second_order():
    f = ng.checkpoint(lambda x: ng.sin(x) * x)
    d2 = ng.grad(ng.grad(lambda x: f(x)))
    x = 0.8
    assert np.isclose(d2(np.float64(x)).item(), 2 * np.cos(x) - x * np.sin(x))
