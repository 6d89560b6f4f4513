"""Regressions found by differential fuzzing of the transforms against torch.func: ``argnums`` naming an argument
twice (it got a zero gradient), ``argnums`` of a wrong type, ``jacfwd``'s ``randomness`` (a random draw in f gave
each jacobian column its own draw), ``jacrev``'s ``chunk_size``, ``OrderedDict`` pytrees coming back as plain
dicts — and the errors both libraries give for the same misuse, which must name the values involved."""

from __future__ import annotations

import collections
import re

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle
tf = torch.func

pytestmark = pytest.mark.numpy_only("transforms are the same code on every device; one oracle run")

X = np.array([0.3, -1.2, 0.7])
XB = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5]])


def _t(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def _host(x) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x.numpy())


def _f2(L):
    return lambda a, b: (L.sin(a) * b * b).sum()


def _v2(L):
    return lambda a, b: L.sin(a) * b * b


# --- argnums naming an argument twice: torch refuses; nablagrad gave zeros for one of the two ------------------------
DUPLICATES = [
    ("grad", lambda F, L, n: F.grad(_f2(L), argnums=n)),
    ("jacrev", lambda F, L, n: F.jacrev(_v2(L), argnums=n)),
    ("jacfwd", lambda F, L, n: F.jacfwd(_v2(L), argnums=n)),
    ("hessian", lambda F, L, n: F.hessian(_f2(L), argnums=n)),
]


@pytest.mark.parametrize(("name", "make"), DUPLICATES, ids=[d[0] for d in DUPLICATES])
@pytest.mark.parametrize("argnums", [(0, 0), (1, -1)])
def test_argnums_naming_an_argument_twice_is_refused_like_torch(name, make, argnums):
    with pytest.raises(RuntimeError, match="unique"):
        make(tf, torch, argnums)(_t(X), _t(X))
    with pytest.raises(ValueError, match=rf"^{name}: argnums={re.escape(str(argnums))} names an argument twice"):
        make(ng, ng, argnums)(X, X)


def test_value_and_grad_refuses_a_repeated_argnums_too():
    with pytest.raises(ValueError, match="names an argument twice"):
        ng.value_and_grad(_f2(ng), argnums=(1, 1))(X, X)


@pytest.mark.parametrize("argnums", [1.0, "0", (0, 1.5), None])
def test_argnums_of_a_wrong_type_is_a_clear_type_error(argnums):
    with pytest.raises((RuntimeError, TypeError)):  # torch: RuntimeError "argnums must be int or Tuple[int, ...]"
        tf.grad(_f2(torch), argnums=argnums)(_t(X), _t(X))
    with pytest.raises(TypeError, match=r"grad: argnums must be an int or a tuple of ints, got"):
        ng.grad(_f2(ng), argnums=argnums)(X, X)


def test_distinct_argnums_in_any_order_still_match_torch():
    ours = ng.jacrev(_v2(ng), argnums=(1, 0))(X, X * 2)
    theirs = tf.jacrev(_v2(torch), argnums=(1, 0))(_t(X), _t(X * 2))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(_host(a), _host(b), rtol=1e-12)


# --- jacfwd's randomness (torch.func.jacfwd's): f runs once per column --------------------------------------------------
def _noisy(L, draw):
    return lambda a: a * a * draw()


NG_DRAW = lambda: ng.randn(3, dtype="float64")  # noqa: E731
TH_DRAW = lambda: torch.randn(3, dtype=torch.float64)  # noqa: E731


JACFWD_LIKE = [lambda F, f: F.jacfwd(f), lambda F, f: F.hessian(lambda a: f(a).sum())]


@pytest.mark.parametrize("make", JACFWD_LIKE, ids=["jacfwd", "hessian"])
def test_a_random_draw_in_jacfwd_is_refused_by_default_like_torch_and_draws_nothing(make):
    with pytest.raises(RuntimeError, match="random"):
        make(tf, _noisy(torch, TH_DRAW))(_t(X))
    ng.manual_seed(3)
    before = ng.randn(4).numpy()
    ng.manual_seed(3)
    with pytest.raises(RuntimeError, match=r"jacfwd: f draws random numbers .*randomness='same'"):
        make(ng, _noisy(ng, NG_DRAW))(X)
    np.testing.assert_array_equal(ng.randn(4).numpy(), before)  # the refused call left the generator as it was


def test_a_dropout_in_jacfwd_is_refused_too():
    with pytest.raises(RuntimeError, match="random"):
        tf.jacfwd(lambda a: torch.nn.functional.dropout(a, 0.5))(_t(X))
    with pytest.raises(RuntimeError, match="jacfwd: f draws random numbers"):
        ng.jacfwd(lambda a: ng.nn.functional.dropout(a, 0.5))(X)


def test_jacfwd_randomness_same_shares_one_draw_between_the_columns():
    ng.manual_seed(5)
    jac = ng.jacfwd(_noisy(ng, NG_DRAW), randomness="same")(X).numpy()
    after = ng.randn(2).numpy()
    ng.manual_seed(5)
    r = ng.randn(3, dtype="float64").numpy()
    np.testing.assert_allclose(jac, np.diag(2 * X * r), rtol=1e-14)  # d/da (a² r) with one r
    np.testing.assert_array_equal(ng.randn(2).numpy(), after)  # and the generator advanced by one draw
    # torch's "same": the jacobian of a² r for one r too (its own generator: compare the structure)
    t = tf.jacfwd(_noisy(torch, TH_DRAW), randomness="same")(_t(X)).numpy()
    np.testing.assert_allclose(t, np.diag(np.diag(t)), atol=0)


def test_jacfwd_randomness_different_draws_per_column():
    ng.manual_seed(7)
    jac = ng.jacfwd(_noisy(ng, NG_DRAW), randomness="different")(X).numpy()
    ng.manual_seed(7)
    draws = [ng.randn(3, dtype="float64").numpy() for _ in range(3)]
    np.testing.assert_allclose(np.diag(jac), [2 * X[k] * draws[k][k] for k in range(3)], rtol=1e-14)


def test_jacfwd_randomness_is_checked_like_torch():
    with pytest.raises(RuntimeError, match="randomness"):
        tf.jacfwd(lambda a: a, randomness="often")(_t(X))
    with pytest.raises(ValueError, match=r"jacfwd: randomness must be one of \('error', 'same', 'different'\)"):
        ng.jacfwd(lambda a: a, randomness="often")


def test_jacfwd_without_draws_and_with_a_seeded_draw_is_unchanged():
    f = lambda L: lambda a: L.sin(a) * a.sum()  # noqa: E731
    np.testing.assert_allclose(_host(ng.jacfwd(f(ng))(X)), _host(tf.jacfwd(f(torch))(_t(X))), rtol=1e-13)
    # a draw from a fixed seed is the same in every column: nothing random, nothing refused
    jac = ng.jacfwd(lambda a: a * ng.randn(3, dtype="float64", seed=4))(X).numpy()
    np.testing.assert_allclose(jac, np.diag(ng.randn(3, dtype="float64", seed=4).numpy()), rtol=1e-14)


# --- jacrev's chunk_size (torch.func.jacrev's) ----------------------------------------------------------------------
@pytest.mark.parametrize("chunk_size", [None, 1, 2, 100])
def test_jacrev_takes_chunk_size_like_torch(chunk_size):
    f = lambda L: lambda a, b: {"p": L.outer(L.sin(a), b), "s": (a * b).sum()}  # noqa: E731
    ours = ng.jacrev(f(ng), argnums=(0, 1), chunk_size=chunk_size)(X, X[::-1].copy())
    theirs = tf.jacrev(f(torch), argnums=(0, 1), chunk_size=chunk_size)(_t(X), _t(X[::-1].copy()))
    for k in ("p", "s"):
        for a, b in zip(ours[k], theirs[k]):
            np.testing.assert_allclose(_host(a), _host(b), rtol=1e-13)


@pytest.mark.parametrize("chunk_size", [0, -2, 1.5, True])
def test_jacrev_refuses_a_bad_chunk_size_when_made(chunk_size):
    with pytest.raises(ValueError, match=r"jacrev: chunk_size must be None or an int >= 1"):
        ng.jacrev(lambda a: a, chunk_size=chunk_size)


# --- OrderedDict pytrees stay OrderedDicts (a state_dict), as torch.func's ---------------------------------------
def test_ordered_dicts_come_back_as_ordered_dicts():
    def od(L, make):
        return collections.OrderedDict([("w", make(X)), ("b", make(X[:2]))])

    def loss(p):
        return (p["w"] ** 2).sum() * p["b"].sum()

    for ours, theirs in [
        (ng.grad(loss)(od(ng, ng.tensor)), tf.grad(loss)(od(torch, _t))),
        (ng.jacrev(lambda p: p["w"] * p["b"][0])(od(ng, ng.tensor)), tf.jacrev(lambda p: p["w"] * p["b"][0])(od(torch, _t))),
        (ng.vmap(lambda p: p, in_dims=({"w": 0, "b": None},))(od(ng, ng.tensor)),
         tf.vmap(lambda p: p, in_dims=({"w": 0, "b": None},))(od(torch, _t))),
        (ng.vjp(lambda p: p, od(ng, ng.tensor))[1](od(ng, ng.tensor))[0],
         tf.vjp(lambda p: p, od(torch, _t))[1](od(torch, _t))[0]),
    ]:  # fmt: skip
        assert type(ours) is type(theirs) is collections.OrderedDict
        assert list(ours) == list(theirs)
        for k in theirs:
            np.testing.assert_allclose(_host(ours[k]), _host(theirs[k]), rtol=1e-13)
    assert repr(ng.tree_flatten(od(ng, ng.tensor))[1]) == "OrderedDict({'w': *, 'b': *})"


def test_a_plain_dict_stays_a_plain_dict():
    g = ng.grad(lambda p: (p["w"] ** 2).sum())({"w": X})
    assert type(g) is dict


# --- the same misuse, an error in both libraries, naming the values -----------------------------------------------
# (the messages differ: torch's is only required to be an error, nablagrad's to name the values)
ERRORS = [
    ("grad of a vector", lambda F, T: F.grad(lambda a: a * 2)(T(X)), r"scalar.*\(3,\)"),
    ("grad has_aux without a pair", lambda F, T: F.grad(lambda a: a.sum(), has_aux=True)(T(X)), r"pair \(output, aux\)"),
    ("grad argnums out of range", lambda F, T: F.grad(lambda a: a.sum(), argnums=1)(T(X)), r"argnums=1 .*1 positional"),
    ("grad of an integer input", lambda F, T: F.grad(lambda a: a * 2.0)(T(np.array(2))), r"floating-point.*int64"),
    ("jacrev of a boolean output", lambda F, T: F.jacrev(lambda a: a > 0)(T(X)), r"floating-point.*bool"),
    ("vmap sizes differ", lambda F, T: F.vmap(lambda a, b: a + b)(T(XB), T(np.ones((3, 3)))), r"\[2, 3\]"),
    ("vmap in_dims out of range", lambda F, T: F.vmap(lambda a: a, in_dims=2)(T(XB)), r"entry 2 is out of range.*-2\.\.1"),
    ("vmap in_dims entries", lambda F, T: F.vmap(lambda a: a, in_dims=(0, 0))(T(XB)), r"in_axes has 2 entries .* 1 arguments"),
    ("vmap chunk_size 0", lambda F, T: F.vmap(lambda a: a, chunk_size=0)(T(XB)), r"chunk_size must be .* got 0"),
    ("vmap of no argument", lambda F, T: F.vmap(lambda: T(1.0))(), r"no argument is mapped"),
    ("jvp tangent shape", lambda F, T: F.jvp(lambda a: a * 2, (T(X),), (T(np.ones(2)),)), r"\(2,\).*\(3,\)"),
    ("jvp primals not a tuple", lambda F, T: F.jvp(lambda a: a * 2, T(X), T(X)), r"tuple"),
    ("vjp cotangent shape", lambda F, T: F.vjp(lambda a: a * 2, T(X))[1](T(np.ones(2))), r"\(2,\).*\(3,\)"),
]


@pytest.mark.parametrize(("name", "call", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_the_same_misuse_raises_in_both_libraries(name, call, message):
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)):
        call(tf, lambda a: torch.tensor(np.asarray(a)))
    with pytest.raises((ValueError, TypeError), match=message):
        call(ng, ng.tensor)
