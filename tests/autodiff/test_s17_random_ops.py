"""Random ops on the tape (inverted dropout's mask): eager calls, compiled replays (ng.jit) and checkpoint
re-runs draw exactly what eager mode draws, and ``manual_seed`` reseeds the generator layers already hold."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import backend
from nablagrad.autodiff.random import dropout_mask


class _MaskDropout(ng.nn.Module):
    """Dropout written with the random op directly (``x · m / (1 − p)``)."""

    def __init__(self, p: float, seed=None):
        super().__init__()
        self.p, self.rng = p, backend.resolve_rng(seed)

    def forward(self, x):
        return x * dropout_mask(x, self.p, self.rng) if self.training else x


_X = np.random.default_rng(0).standard_normal((64, 5)).astype(np.float32)
_Y = np.random.default_rng(1).integers(0, 3, 64)


def _trajectory(compiled: bool, optimizer: str, whole_step: bool, steps: int = 100):
    ng.manual_seed(0)
    model = ng.nn.Sequential(ng.nn.Linear(5, 8), ng.nn.ReLU(), _MaskDropout(0.3), ng.nn.Linear(8, 3), _MaskDropout(0.2, seed=5))
    opt = getattr(ng.optim, optimizer)(model.parameters(), lr=1e-2)

    def step(x, t):
        loss = ng.nn.functional.cross_entropy(model(x), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def loss_fn(x, t):
        return ng.nn.functional.cross_entropy(model(x), t)

    step_fn = ng.jit(step) if compiled else step
    loss_of = ng.jit(loss_fn) if compiled else loss_fn
    losses = []
    for i in range(steps):
        rows = slice(i % 4 * 16, (i % 4 + 1) * 16)
        if whole_step:
            losses.append(float(step_fn(_X[rows], _Y[rows]).item()))
        else:
            loss = loss_of(ng.as_tensor(_X[rows]), _Y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.item()))
    return np.concatenate([p.numpy().ravel() for p in model.parameters()]), losses


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "RMSprop"])
@pytest.mark.parametrize("whole_step", [True, False], ids=["compiled step", "compiled loss"])
def test_compiled_dropout_equals_eager_bit_for_bit(optimizer, whole_step):
    eager, eager_losses = _trajectory(False, optimizer, whole_step)
    compiled, compiled_losses = _trajectory(True, optimizer, whole_step)
    assert np.array_equal(eager, compiled)
    assert eager_losses == compiled_losses
    assert len(set(eager_losses)) > 90  # the masks really change from step to step


def test_a_compiled_call_draws_what_an_eager_call_draws():
    """Each call of a compiled function advances the generator exactly as an eager call: the trace and the
    first replay's check against eager mode take their extra draws back."""
    gen_a, gen_b = np.random.default_rng(9), np.random.default_rng(9)
    x = ng.tensor(np.ones((3, 4), np.float32), requires_grad=True)
    eager = [(x * dropout_mask(x, 0.5, gen_a)).numpy() for _ in range(4)]
    f = ng.jit(lambda t: t * dropout_mask(t, 0.5, gen_b))
    compiled = [f(x).numpy() for _ in range(4)]
    for a, b in zip(eager, compiled):
        assert np.array_equal(a, b)
    assert gen_a.random() == gen_b.random()
    assert len({a.tobytes() for a in eager}) == 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.0, 0.25, 0.9, 1.0])
def test_mask_values_and_gradient(dtype, p):
    """``m / (1 − p)`` with ``m ~ Bernoulli(1 − p)``: entries 0 or 1/(1 − p) in x's dtype, mean ≈ 1; the
    gradient of ``Σ x · mask`` is the mask itself (compared with the oracle ``torch`` of the same mask)."""
    torch = pytest.importorskip("torch")
    x = ng.tensor(np.random.default_rng(2).standard_normal((200, 50)).astype(dtype), requires_grad=True)
    mask = dropout_mask(x, p, np.random.default_rng(3))
    assert mask.dtype == dtype and not mask.requires_grad
    values = mask.numpy()
    allowed = [0.0] if p == 1 else [0.0, dtype(1) / dtype(1 - p)]
    assert np.isin(values, np.array(allowed, dtype)).all()
    if p < 1:
        assert abs(values.mean() - 1) < 0.1
    (x * mask).sum().backward()
    tx = torch.tensor(x.numpy(), requires_grad=True)
    (tx * torch.tensor(values)).sum().backward()
    assert np.array_equal(x.grad.numpy(), tx.grad.numpy())


def test_checkpoint_re_run_draws_the_forward_masks():
    """A checkpointed function is re-run in backward with the masks of its forward (PyTorch's
    ``preserve_rng_state``): its gradients equal the plain function's, and the generator continues as if
    nothing had been re-run."""
    rng = np.random.default_rng(3)
    x = ng.tensor(rng.standard_normal((4, 6)), requires_grad=True)
    w = ng.tensor(rng.standard_normal((6, 6)), requires_grad=True)
    gen = np.random.default_rng(7)

    def f(x):
        h = ng.tanh(x @ w)
        return h * dropout_mask(h, 0.5, gen)

    start = gen.bit_generator.state
    y = f(x)
    (y * y).sum().backward()
    gx, gw, after_plain = x.grad.numpy().copy(), w.grad.numpy().copy(), gen.random()
    x.grad = w.grad = None
    gen.bit_generator.state = start
    y2 = ng.checkpoint(f)(x)
    (y2 * y2).sum().backward()
    assert np.array_equal(y.numpy(), y2.numpy())
    np.testing.assert_allclose(x.grad.numpy(), gx, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), gw, rtol=1e-12)
    assert gen.random() == after_plain


def test_manual_seed_reseeds_the_generator_layers_already_hold():
    """As ``torch.manual_seed``: a Dropout made before the seed is set draws the same masks after each
    ``manual_seed(s)``."""
    model = ng.nn.Sequential(ng.nn.Linear(4, 8), ng.nn.Dropout(0.5))
    x = ng.ones(3, 4)
    ng.manual_seed(11)
    first = model(x).numpy()
    ng.manual_seed(11)
    second = model(x).numpy()
    ng.manual_seed(12)
    third = model(x).numpy()
    assert np.array_equal(first, second)
    assert not np.array_equal(first, third)
    assert ng.manual_seed(5) is backend.default_rng()
