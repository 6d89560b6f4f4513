"""``ng.jit`` as ``jax.jit``: pytrees in and out (dicts, lists, nested tuples), every floating result differentiable
(against ``jax.grad`` of ``jax.jit`` and against the uncompiled function), NumPy scalars as 0-d array inputs, results
that are an input or a constant, and every way of reading a traced value refused with the fix named."""

try:  # jax is a benchmark-only dependency: the tests that take it as their oracle skip without it
    import jax
    import jax.numpy as jnp
except ImportError:
    jax = jnp = None
import numpy as np
import pytest

import nablagrad as ng

pytestmark = pytest.mark.numpy_only("compiled programs are NumPy programs; other devices run the function itself")

if jax is not None:
    jax.config.update("jax_enable_x64", True)
needs_jax = pytest.mark.skipif(jax is None, reason="jax is a benchmark-only dependency: pip install 'jax[cpu]'")

RNG = np.random.default_rng(0)
W = RNG.standard_normal((4, 2))


def _tree(m, d, w):
    """A pytree of results (dict, list, nested tuple, a float32 cast) written once for nablagrad and jax.numpy."""
    h = m.tanh(d["x"] @ w)
    return {"h": h, "stats": [h.sum(), (h * h).mean()], "pair": (h.astype(np.float32), (d["x"] * 2, d["b"]))}


def _scalar(m, out):
    """A scalar that uses every leaf of :func:`_tree`'s result."""
    a, (b, c) = out["pair"]
    return (m.sum(out["h"] * out["h"]) + out["stats"][0] * out["stats"][1] + m.sum(m.sin(a)) + m.sum(b**2)
            + m.sum(c * c))  # fmt: skip


@needs_jax
def test_pytree_arguments_and_results_match_jax_values_and_gradients():
    f = ng.jit(lambda d, w: _tree(ng, d, w))
    jf = lambda d, w: _tree(jnp, d, w)  # noqa: E731 - the oracle, uncompiled (jax.jit changes no value)
    for _ in range(3):  # the trace, the checked replay, a plain replay
        x, b = RNG.standard_normal((3, 4)), RNG.standard_normal(2)
        xt, bt, wt = (ng.tensor(a, requires_grad=True) for a in (x, b, W))
        out = f({"x": xt, "b": bt}, wt)
        ref = jf({"x": x, "b": b}, W)
        assert isinstance(out, dict) and isinstance(out["stats"], list) and isinstance(out["pair"][1], tuple)
        assert out["pair"][0].dtype == np.float32
        pairs = [(out["h"], ref["h"]), *zip(out["stats"], ref["stats"]), (out["pair"][0], ref["pair"][0]),
                 *zip(out["pair"][1], ref["pair"][1])]  # fmt: skip
        for got, want in pairs:
            np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=1e-6, atol=1e-12)
        _scalar(ng, out).backward()
        gd, gw = jax.grad(lambda d, w: _scalar(jnp, jf(d, w)), argnums=(0, 1))({"x": x, "b": b}, W)
        for t, g in ((xt, gd["x"]), (bt, gd["b"]), (wt, gw)):
            np.testing.assert_allclose(t.grad.numpy(), np.asarray(g), rtol=1e-6, atol=1e-9)
    assert f.traces == 1


def test_every_floating_result_is_differentiable_as_without_jit():
    """A tuple's later results carry their gradient too (they used to be detached: a silently wrong gradient)."""

    def f(x):
        return (x * x).sum(), ng.sin(x) * 3, x

    fj = ng.jit(f)
    for _ in range(3):
        x = RNG.standard_normal(5)
        grads = []
        for fn in (f, fj):
            xt = ng.tensor(x, requires_grad=True)
            a, b, c = fn(xt)
            assert a.requires_grad and b.requires_grad and c.requires_grad
            (a + (b * b).sum() + (c**3).sum()).backward()
            grads.append(xt.grad.numpy())
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
        np.testing.assert_allclose(grads[0], 2 * x + 18 * np.sin(x) * np.cos(x) + 3 * x**2, rtol=1e-12)


@needs_jax
def test_grad_of_a_compiled_function_with_several_results_matches_jax():
    def ours(x):
        a, b = ng.jit(lambda x: (ng.exp(x).sum(), {"c": ng.cos(x)}))(x)
        return a + b["c"].sum()

    def theirs(x):
        a, b = jax.jit(lambda x: (jnp.exp(x).sum(), {"c": jnp.cos(x)}))(x)
        return a + b["c"].sum()

    x = RNG.standard_normal(4)
    want = jax.grad(theirs)(x)
    np.testing.assert_allclose(ng.grad(ours)(x).numpy(), np.asarray(want), rtol=1e-12)


def test_a_result_only_the_first_of_several_is_used_from_gives_the_eager_gradient_bitwise():
    """The loss beside the logits (fit's batch loss): the unused result adds nothing, in eager mode's order."""
    w = ng.tensor(RNG.standard_normal((4, 3)), requires_grad=True)

    def f(x):
        out = ng.tanh(x @ w) @ w.T
        return ((out - x) ** 2).mean(), out

    fj = ng.jit(f)
    for _ in range(3):
        x = RNG.standard_normal((6, 4))
        grads = []
        for fn in (f, fj):
            w.grad = None
            fn(x)[0].backward()
            grads.append(w.grad.numpy().copy())
        np.testing.assert_array_equal(grads[1], grads[0])


@needs_jax
def test_no_result_requires_grad_without_grad_or_for_integer_results():
    f = ng.jit(lambda x: (x * 2, (x * x).argmax(), (x > 0).sum()))
    x = ng.tensor(RNG.standard_normal(4), requires_grad=True)
    for _ in range(3):
        a, i, n = f(x)
        assert a.requires_grad and not i.requires_grad and not n.requires_grad
        assert int(i) == int(np.argmax(x.numpy() ** 2)) and int(n) == int((x.numpy() > 0).sum())
        with ng.no_grad():
            assert not any(t.requires_grad for t in f(x))
        assert not ng.jit(lambda x: (x * x).argmax())(x).requires_grad  # (an integer result alone, as eager argmax)


@pytest.mark.parametrize(
    "fn, want",
    [
        (lambda x: (x * 2,), lambda x: (x * 2,)),  # a 1-tuple stays a 1-tuple, as under jax.jit
        (lambda x: x, lambda x: ng.tensor(x)),  # an input returned as it is
        (lambda x: [x + 1, None], lambda x: [x + 1, None]),  # None is an empty subtree
        (lambda x: (x.sum(), ng.zeros(3)), lambda x: (x.sum(), np.zeros(3))),  # a constant among the results
    ],
)
def test_results_keep_their_containers_like_jax(fn, want):
    f = ng.jit(fn)
    for _ in range(3):
        x = RNG.standard_normal(3)
        got, ref = f(x), want(x)
        assert type(got) is type(ref)
        got_leaves, ref_leaves = ng.tree_flatten(got)[0], ng.tree_flatten(ref)[0]
        assert len(got_leaves) == len(ref_leaves)
        for g, r in zip(got_leaves, ref_leaves):
            np.testing.assert_array_equal(g.numpy(), np.asarray(r))


def test_gradient_through_a_returned_input_and_a_duplicated_result():
    f = ng.jit(lambda x: (x, (y := ng.sin(x)), y))
    for _ in range(3):
        xt = ng.tensor(np.array([0.3, -1.2]), requires_grad=True)
        a, b, c = f(xt)
        (5 * a.sum() + b.sum() + 3 * c.sum()).backward()
        np.testing.assert_allclose(xt.grad.numpy(), 5 + 4 * np.cos([0.3, -1.2]), rtol=1e-12)


@needs_jax
def test_pytree_arguments_retrace_on_structure_shape_and_static_leaf_and_combine_with_keywords():
    f = ng.jit(lambda p, scale=1.0: p["w"] * p["n"] * scale + p["v"][0])
    x = np.ones(3)
    f({"w": x, "n": 2, "v": [x]})
    f({"w": x + 1, "n": 2, "v": [x]})
    assert f.traces == 1
    f({"w": x, "n": 3, "v": [x]})  # a new static leaf
    f({"w": np.ones(4), "n": 3, "v": [np.ones(4)]})  # a new shape
    f({"w": x, "n": 3, "v": (x,)})  # a new structure
    assert f.traces == 4
    got = f({"w": x, "n": 3, "v": [x]}, scale=np.float64(2.0))
    np.testing.assert_array_equal(got.numpy(), x * 3 * 2.0 + x)
    ref = jax.jit(lambda p, scale=1.0: p["w"] * p["n"] * scale + p["v"][0])({"w": x, "n": 3, "v": [x]}, scale=2.0)
    np.testing.assert_array_equal(got.numpy(), np.asarray(ref))


def test_numpy_scalars_are_array_inputs_like_jax():
    f = ng.jit(lambda x, y: x * y)
    for v in (2.0, 3.0, 4.0):
        got = f(np.float32(v), np.ones(2, np.float32))
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got.numpy(), np.full(2, v, np.float32))
    assert f.traces == 1  # one 0-d float32 input, whatever its value
    g = ng.jit(lambda x, n: x * n, static_argnums=1)
    g(np.ones(2), np.int64(3))
    g(np.ones(2), np.int64(4))
    assert g.traces == 2  # declared static: a value, as before


@pytest.mark.parametrize(
    "read",
    [
        lambda x: x * int(x.sum()),
        lambda x: x if bool(x.sum() > 0) else -x,
        lambda x: x * x.sum().item(),
        lambda x: x * x.numpy().sum(),
        lambda x: x * np.asarray(x).sum(),
        lambda x: x * x.tolist()[0],
        lambda x: x * complex(x.sum()).real,
        lambda x: x * [1.0, 2.0, 3.0][x[0].long()],
    ],
    ids=["int", "bool", "item", "numpy", "asarray", "tolist", "complex", "index"],
)
def test_every_read_of_a_traced_value_is_refused_naming_the_fix_and_nothing_is_kept(read):
    f = ng.jit(read)
    for _ in range(2):  # no half-made program is kept: the second call is refused as the first
        with pytest.raises(ng.JitError, match=r"ng\.where.*outside the jitted function"):
            f(np.ones(3))
    assert f.traces == 0
    np.testing.assert_array_equal(read(ng.tensor(np.ones(3))).numpy(), read(ng.tensor(np.ones(3))).numpy())


@needs_jax
def test_jit_of_jit_and_a_compiled_function_calling_another_match_jax_gradients():
    inner = ng.jit(lambda x: ng.sin(x) * 2)
    outer = ng.jit(lambda x: {"s": inner(x).sum() + inner(x * 2).sum()})
    twice = ng.jit(ng.jit(lambda x: (ng.sin(x) * 2).sum()))
    ref = jax.grad(lambda x: (jnp.sin(x) * 2).sum() + (jnp.sin(2 * x) * 2).sum())
    for _ in range(3):
        x = RNG.standard_normal(3)
        xt = ng.tensor(x, requires_grad=True)
        outer(xt)["s"].backward()
        np.testing.assert_allclose(xt.grad.numpy(), np.asarray(ref(x)), rtol=1e-12)
        np.testing.assert_allclose(ng.grad(twice)(x).numpy(), 2 * np.cos(x), rtol=1e-12)  # under a transform: f itself
        np.testing.assert_allclose(twice(x).numpy(), (np.sin(x) * 2).sum(), rtol=1e-12)
    assert outer.traces == 1 and twice.traces == 1
