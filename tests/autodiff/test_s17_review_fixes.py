"""What a review of the session's change demonstrated, fixed: ops computed off the tape inside ng.jit (stale for
new inputs), dropout under vmap and with an int seed, a refused trace's draws, and jax.jit's static-argument
checks.  Oracles: torch 2.13 (torch.func for vmap's randomness), jax.jit's errors."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff import JitError

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only

_INPUTS = [np.array([[1.0, 2, 2, 3]]), np.array([[1.0, 2, 2, 3]]), np.array([[4.0, 4, 9, 8]]), np.array([[-0.0, 3, -2, 5]])]


@pytest.mark.parametrize("ours, theirs", [
    (lambda x: ng.cummax(x, 1).values + ng.cummax(x, 1).indices,
     lambda x: torch.cummax(x, 1).values + torch.cummax(x, 1).indices),
    (lambda x: ng.cummin(x, 1).values * ng.cummin(x, 1).indices,
     lambda x: torch.cummin(x, 1).values * torch.cummin(x, 1).indices),
    (lambda x: ng.where(ng.signbit(x), x, 0.0), lambda x: torch.where(torch.signbit(x), x, 0.0)),
])  # fmt: skip
def test_index_valued_ops_are_computed_anew_by_each_replay(ours, theirs):
    f = ng.jit(ours)
    for x in _INPUTS:
        assert np.array_equal(f(ng.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())


@pytest.mark.parametrize("op", [lambda x: ng.mode(x, 1).values, lambda x: ng.histc(x, 4, 0, 10),
                                lambda x: ng.isin(x, ng.tensor([2.0])).float(),
                                lambda x: ng.bincount(x.long().reshape(-1)).float()])  # fmt: skip
def test_host_computed_ops_are_refused_inside_jit(op):
    """Counting and mode run on the host: inside ng.jit their result would be frozen, so they are refused (as
    jax.jit refuses reading a traced value), naming the fix."""
    f = ng.jit(op)
    with pytest.raises(JitError, match="reads the value of a traced tensor"):
        f(ng.tensor(_INPUTS[0]))


def test_dropout_under_vmap_follows_randomness_as_torch_func():
    x = np.ones((4, 5), np.float32)
    with pytest.raises(RuntimeError, match="randomness"):
        ng.vmap(lambda r: ng.nn.functional.dropout(r, 0.5))(x)
    with pytest.raises(RuntimeError, match="randomness"):  # the oracle refuses by default too
        torch.func.vmap(lambda r: torch.nn.functional.dropout(r, 0.5))(torch.ones(4, 5))
    different = ng.vmap(lambda r: ng.nn.functional.dropout(r, 0.5), randomness="different")(x).numpy()
    same = ng.vmap(lambda r: ng.nn.functional.dropout(r, 0.5), randomness="same")(x).numpy()
    assert different.shape == same.shape == (4, 5)
    assert np.isin(different, [0.0, 2.0]).all() and np.isin(same, [0.0, 2.0]).all()
    assert all(np.array_equal(same[0], row) for row in same)
    assert not all(np.array_equal(different[0], row) for row in different)


def test_dropout_refuses_integer_input_as_torch():
    with pytest.raises(TypeError, match="dropout: expected a floating-point tensor"):
        ng.nn.functional.dropout(ng.tensor([1, 2, 3, 4]), 0.5)
    with pytest.raises(RuntimeError):  # torch refuses it too
        torch.nn.functional.dropout(torch.tensor([1, 2, 3, 4]), 0.5)


def test_an_int_seed_draws_the_same_mask_compiled_or_not():
    x = ng.ones(6, 7)
    eager = [ng.nn.functional.dropout(x, 0.5, generator=3).numpy() for _ in range(3)]
    f = ng.jit(lambda t: ng.nn.functional.dropout(t, 0.5, generator=3))
    compiled = [f(x).numpy() for _ in range(3)]
    assert all(np.array_equal(eager[0], e) for e in eager + compiled)


def test_a_refused_trace_takes_its_draws_back():
    model = ng.nn.Sequential(ng.nn.Linear(3, 4), ng.nn.Dropout(0.5))
    opt = ng.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        loss = model(x).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()  # a number read inside the compiled step: refused

    before = ng.backend.default_rng().bit_generator.state
    with pytest.raises(JitError):
        ng.jit(step)(np.ones((2, 3), np.float32))
    assert ng.backend.default_rng().bit_generator.state == before


def test_a_replaced_generator_traces_again():
    layer = ng.nn.Dropout(0.5, seed=1)
    f = ng.jit(lambda t: layer(t))
    x = ng.ones(4, 4)
    f(x)
    layer.rng = np.random.default_rng(42)
    got = f(x).numpy()
    layer.rng = np.random.default_rng(42)
    assert np.array_equal(got, layer(x).numpy())
    assert f.traces == 2


def test_static_arguments_checked_with_keywords_and_names_as_jax():
    jax = pytest.importorskip("jax")
    f = ng.jit(lambda a, n, k=1: a.sum() * n * k, static_argnums=1)
    with pytest.raises(TypeError, match="argument 1 is declared static"):
        f(ng.ones(2), np.ones(2), k=2)
    with pytest.raises(ValueError, match="static_argnames 'm' is not a parameter"):
        ng.jit(lambda a, n: a * n, static_argnames="m")
    with pytest.raises(ValueError, match="static_argnums 5 is out of range"):
        ng.jit(lambda a, n: a * n, static_argnums=5)
    with pytest.raises(ValueError):  # jax.jit refuses an unknown name too
        jax.jit(lambda a, n: a * n, static_argnames="m")


def test_bernoulli_and_multinomial_under_vmap():
    """bernoulli follows vmap's randomness as torch.func's (refused by default, one draw per example with
    "different"); multinomial, drawn on the host row by row, is refused inside vmap with the fix."""
    p = np.full((4, 5), 0.3)
    with pytest.raises(RuntimeError, match="randomness"):
        ng.vmap(lambda r: ng.bernoulli(r))(p)
    with pytest.raises(RuntimeError, match="randomness"):  # the oracle refuses a draw by default too
        torch.func.vmap(lambda r: torch.bernoulli(r))(torch.tensor(p))
    draws = ng.vmap(lambda r: ng.bernoulli(r), randomness="different")(p).numpy()
    assert draws.shape == (4, 5) and np.isin(draws, [0.0, 1.0]).all()
    with pytest.raises(RuntimeError, match="multinomial inside vmap is not supported"):
        ng.vmap(lambda r: ng.multinomial(r, 1), randomness="different")(p)
    with pytest.raises(ValueError, match=r"probabilities must lie in \[0, 1\]"):
        ng.bernoulli(ng.tensor([0.5, 1.5]))


def test_train_and_eval_keep_a_program_each():
    """Switching a model between train() and eval() between calls switches between two programs (traced once
    each, as jax.jit keeps one per static value), each equal to the eager call drawn from the same state."""
    ng.manual_seed(0)
    model = ng.nn.Sequential(ng.nn.Linear(4, 8), ng.nn.Dropout(0.5), ng.nn.Linear(8, 2))
    f = ng.jit(lambda x: model(x).sum())
    x = ng.tensor(np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32))
    for i in range(10):
        model.train() if i % 2 == 0 else model.eval()
        state = ng.backend.default_rng().bit_generator.state
        got = f(x).item()
        ng.backend.default_rng().bit_generator.state = state
        assert got == pytest.approx(model(x).sum().item(), rel=1e-6)
    assert f.traces == 2
