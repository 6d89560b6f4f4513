"""ng.jit called as jax.jit is: arguments by keyword, ``static_argnums``/``static_argnames`` (checked as JAX
checks them), ``donate_argnums`` accepted, the decorator form ``jit(static_argnums=...)``.  Oracle: jax.jit
of the same function on the same values, and the eager function's gradient."""

import functools

import numpy as np
import pytest

import nablagrad as ng

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
jax.config.update("jax_enable_x64", True)

pytestmark = pytest.mark.numpy_only


def _f(lib):
    def f(x, s=1.0, *, power=2):
        return lib.sum((x * s) ** power)

    return f


_X = np.array([0.5, -1.25, 2.0])


@pytest.mark.parametrize(
    "args, kwargs",
    [((), {}), ((2.0,), {}), ((), {"s": 2.0}), ((), {"s": 2.0, "power": 3}), ((), {"power": 3}), ((3.0,), {"power": 1})],
)
def test_keyword_calls_match_jax(args, kwargs):
    ours = ng.jit(_f(ng))
    theirs = jax.jit(_f(jnp), static_argnames="power")
    got = ours(ng.tensor(_X), *args, **kwargs)
    assert np.allclose(got.numpy(), np.asarray(theirs(jnp.asarray(_X), *args, **kwargs)), rtol=1e-12)


def test_each_call_form_traces_once_and_keeps_gradients():
    f = ng.jit(_f(ng))
    x = ng.tensor(_X, requires_grad=True)
    for _ in range(3):
        f(x, s=2.0)
    assert f.traces == 1
    f(x, 2.0)
    assert f.traces == 2  # a second call form, traced on its own
    s = ng.tensor(3.0, requires_grad=True)
    f(x, s=s).backward()  # a tensor where a number was: a new signature of that form
    assert f.traces == 3
    expected = jax.grad(_f(jnp), argnums=(0, 1))(jnp.asarray(_X), 3.0)
    np.testing.assert_allclose(x.grad.numpy(), np.asarray(expected[0]), rtol=1e-12)
    np.testing.assert_allclose(s.grad.numpy(), np.asarray(expected[1]), rtol=1e-12)
    f.clear()
    f(x, s=2.0)
    assert f.traces == 4


def test_static_arguments_are_checked_like_jax():
    f = ng.jit(lambda a, n: a.sum() * n, static_argnums=1)
    assert f(ng.tensor(_X), 3).item() == pytest.approx(_X.sum() * 3)
    with pytest.raises(TypeError, match=r"argument 1 is declared static but is an array of shape \(2,\)"):
        f(ng.tensor(_X), np.ones(2))
    g = ng.jit(_f(ng), static_argnames="power")
    with pytest.raises(TypeError, match=r"'power' is declared static but list is not hashable"):
        g(ng.tensor(_X), power=[3])
    with pytest.raises((TypeError, ValueError)):  # the oracle refuses an unhashable static argument too
        jax.jit(_f(jnp), static_argnames="power")(jnp.asarray(_X), power=[3])
    # a name covers the argument given by position too (as jax.jit resolves names to positions)
    h = ng.jit(lambda a, n: a.sum() * n, static_argnames="n")
    with pytest.raises(TypeError, match="declared static"):
        h(ng.tensor(_X), np.ones(2))


@pytest.mark.parametrize("bad", [dict(static_argnums="a"), dict(static_argnames=1), dict(donate_argnums=[1.5])])
def test_bad_options_are_refused(bad):
    with pytest.raises(TypeError, match="jit: (static|donate)_arg"):
        ng.jit(_f(ng), **bad)


def test_decorator_forms():
    @functools.partial(ng.jit, donate_argnums=(0,))
    def step(a):
        return (a * a).sum()

    @ng.jit(static_argnums=(1,))
    def scaled(a, k):
        return a.sum() * k

    assert step(ng.tensor(_X)).item() == pytest.approx(float((_X * _X).sum()))
    assert scaled(ng.tensor(_X), 4).item() == pytest.approx(float(_X.sum() * 4))
    with pytest.raises(TypeError, match="expected a function"):
        ng.jit(3)
