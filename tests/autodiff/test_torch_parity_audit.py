"""Audit of issues 9 and 10 against PyTorch: the defects found and fixed, one test each.

* ``tril``/``triu`` selected instead of multiplying by a 0/1 mask (an ∞ above the diagonal gave NaN);
* ``median`` over all entries splits its gradient evenly among ties, and a NaN makes it NaN
  (along an axis too), as ``torch.median``;
* ``maximum``/``minimum`` pass the gradient to both operands where one is NaN (PyTorch's rule);
* ``logsumexp``/``softmax``/``log_softmax`` of integers in the default float dtype; sums,
  products and scans of unsigned integers in int64; ``full`` infers its dtype from the value;
* PyTorch's names ``pow``, ``amax``/``amin``, ``permute`` and ``take_along_dim``;
* ``vmap``'s ``in_axes``/``out_axes`` as tree prefixes (``in_axes=((0, None), 0)``), as torch.func.
"""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle
tf = torch.func


def _np(x) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x.numpy())


def _value_and_grad(f_ng, f_th, *xs, w_seed: int = 1):
    """Values and gradients of ``Σ w · f(x)`` (random weights ``w``) for nablagrad and PyTorch."""
    ins = [ng.tensor(x, requires_grad=True) for x in xs]
    tins = [torch.tensor(x, requires_grad=True) for x in xs]
    out, tout = f_ng(*ins), f_th(*tins)
    w = np.random.default_rng(w_seed).standard_normal(np.shape(tout.detach().numpy()))
    (out * ng.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    return out, tout, [a.grad for a in ins], [b.grad for b in tins]


# --- tril / triu select -----------------------------------------------------------------------------------
INF_MATRIX = np.array([[1.0, np.inf, -np.inf], [np.nan, 2.0, np.inf], [3.0, -np.inf, 5.0]])


@pytest.mark.parametrize(
    "name, f_ng, f_th",
    [
        ("tril", ng.tril, torch.tril),
        ("tril(-1)", lambda x: ng.tril(x, -1), lambda x: torch.tril(x, -1)),
        ("triu", ng.triu, torch.triu),
        ("triu(diagonal=1)", lambda x: ng.triu(x, diagonal=1), lambda x: torch.triu(x, diagonal=1)),
        ("x.tril()", lambda x: x.tril(), lambda x: x.tril()),
    ],
)
def test_tril_triu_of_infinite_entries_give_zero_outside_the_triangle(name, f_ng, f_th):
    out, tout, (g,), (tg,) = _value_and_grad(f_ng, f_th, INF_MATRIX)
    np.testing.assert_array_equal(_np(out), _np(tout))  # was NaN where ∞ · 0
    np.testing.assert_array_equal(_np(g), _np(tg))


def test_tril_keeps_integer_and_bool_dtypes_and_batches_under_vmap():
    for a in (np.arange(9).reshape(3, 3), np.ones((3, 3), dtype=bool)):
        out, tout = ng.tril(ng.tensor(a)), torch.tril(torch.tensor(a))
        assert str(out.dtype) == str(tout.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(_np(out), _np(tout))
    xs = np.random.default_rng(0).standard_normal((2, 3, 4))
    np.testing.assert_allclose(
        _np(ng.vmap(lambda m: ng.triu(m, 1))(xs)), _np(tf.vmap(lambda m: torch.triu(m, 1))(torch.tensor(xs)))
    )
    np.testing.assert_allclose(
        _np(ng.vmap(ng.jacrev(ng.tril))(xs)), _np(tf.vmap(tf.jacrev(torch.tril))(torch.tensor(xs))), atol=1e-12
    )


# --- median ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "x",
    [
        np.array([3.0, 1.0, 3.0, 2.0, 2.0]),  # the median 2 appears twice
        np.array([5.0, 5.0, 5.0, 1.0]),
        np.array([[2.0, 2.0], [1.0, 2.0]]),
        np.array([7.0]),
    ],
)
def test_median_over_all_entries_splits_the_gradient_among_ties_as_torch(x):
    out, tout, (g,), (tg,) = _value_and_grad(ng.median, torch.median, x)
    np.testing.assert_array_equal(_np(out), _np(tout))
    np.testing.assert_allclose(_np(g), _np(tg), rtol=1e-12)  # was: all of it to one of the tied entries


def test_median_ties_under_transforms_match_torch_func():
    xs = np.array([[1.0, 2.0, 2.0, 3.0], [5.0, 5.0, 5.0, 1.0]])
    np.testing.assert_allclose(_np(ng.vmap(ng.grad(ng.median))(xs)), _np(tf.vmap(tf.grad(torch.median))(torch.tensor(xs))))
    v = xs[0]
    np.testing.assert_allclose(_np(ng.jacfwd(ng.median)(v)), _np(tf.jacfwd(torch.median)(torch.tensor(v))))
    np.testing.assert_allclose(
        _np(ng.hessian(lambda a: ng.median(a) * a.sum())(v)),
        _np(tf.hessian(lambda a: torch.median(a) * a.sum())(torch.tensor(v))),
    )


@pytest.mark.parametrize(
    "x", [[1.0, np.nan, 2.0], [np.nan, np.nan, 1.0], [np.nan, 0.0, 1.0, 2.0, 3.0], [np.inf, 1.0, np.inf], [-np.inf, -np.inf]]
)
def test_median_with_nan_is_nan_as_torch(x):
    x = np.asarray(x)
    np.testing.assert_array_equal(_np(ng.median(ng.tensor(x))), _np(torch.median(torch.tensor(x))))
    np.testing.assert_array_equal(_np(ng.median(ng.tensor(x), 0)), _np(torch.median(torch.tensor(x), 0).values))


def test_median_along_an_axis_with_a_nan_row_matches_torch_values_and_gradient():
    x = np.random.default_rng(0).standard_normal((4, 5))
    x[1, 2] = np.nan
    x[2, :2] = x[2, 3]  # a tie in another row
    out, tout, (g,), (tg,) = _value_and_grad(lambda a: ng.median(a, dim=1).values, lambda a: torch.median(a, dim=1).values, x)
    np.testing.assert_array_equal(_np(out), _np(tout))
    ok = ~np.isnan(x).any(axis=1)  # where no NaN, the gradient goes to the selected entry (both pick the same)
    np.testing.assert_array_equal(_np(g)[ok], _np(tg)[ok])
    np.testing.assert_array_equal(_np(g)[1], _np(tg)[1])  # the NaN row: to the NaN entry, as torch's index


# --- maximum / minimum with NaN ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_gradient_at_nan_goes_to_both_operands_as_torch(name):
    a = np.array([np.nan, 1.0, 2.0, 3.0, np.nan])
    b = np.array([1.0, np.nan, 2.0, 0.0, np.nan])
    out, tout, g, tg = _value_and_grad(getattr(ng, name), getattr(torch, name), a, b)
    np.testing.assert_array_equal(_np(out), _np(tout))
    for x, y in zip(g, tg):
        np.testing.assert_array_equal(_np(x), _np(y))  # was 0 at the NaN pairs
    # the JVP: PyTorch's, off the NaN pairs (at them torch's forward rule picks one tangent while its
    # reverse rule feeds both operands; nablagrad's JVP stays the transpose of its VJP)
    t = np.linspace(0.5, 1.5, 5)
    _, tan = ng.jvp(getattr(ng, name), (a, b), (t, 2 * t))
    _, ttan = tf.jvp(getattr(torch, name), (torch.tensor(a), torch.tensor(b)), (torch.tensor(t), torch.tensor(2 * t)))
    ordered = ~(np.isnan(a) | np.isnan(b))
    np.testing.assert_array_equal(_np(tan)[ordered], _np(ttan)[ordered])
    np.testing.assert_array_equal(_np(tan)[~ordered], (t + 2 * t)[~ordered])


# --- dtypes -----------------------------------------------------------------------------------------------
def test_logsumexp_of_integers_is_in_the_default_float_dtype_as_torch():
    for a in (np.array([1, 2, 3]), np.array([1, 2, 3], dtype=np.int8), np.array([True, False])):
        out, tout = ng.logsumexp(ng.tensor(a), dim=0), torch.logsumexp(torch.tensor(a), dim=0)
        assert str(out.dtype) == str(tout.dtype).removeprefix("torch.") == "float32"
        np.testing.assert_allclose(_np(out), _np(tout), rtol=1e-6)


@pytest.mark.parametrize(
    "f_ng, f_th",
    [
        (lambda x: ng.softmax(x, axis=0), lambda x: torch.softmax(x, 0)),
        (lambda x: ng.log_softmax(x, dim=0), lambda x: torch.log_softmax(x, 0)),
        (lambda x: x.softmax(0), lambda x: x.softmax(0)),
    ],
)
def test_softmax_of_integers_is_in_the_default_float_dtype(f_ng, f_th):
    # PyTorch refuses integer softmax; nablagrad computes it as exp(int): in the default float dtype
    # (it gave float64 for int64 and float16 for int8/uint8)
    for a in (np.array([1, 2, 3]), np.array([1, 2, 3], dtype=np.int8), np.array([1, 2], dtype=np.uint8)):
        out = f_ng(ng.tensor(a))
        assert out.dtype == np.float32
        np.testing.assert_allclose(_np(out), _np(f_th(torch.tensor(a, dtype=torch.float32))), rtol=1e-6)


@pytest.mark.parametrize(
    "f_ng, f_th",
    [
        (lambda x: x.sum(), lambda x: x.sum()),
        (lambda x: x.sum(dim=0), lambda x: x.sum(dim=0)),
        (lambda x: x.prod(), lambda x: x.prod()),
        (lambda x: ng.cumsum(x, 0), lambda x: torch.cumsum(x, 0)),
        (lambda x: ng.cumprod(x, 0), lambda x: torch.cumprod(x, 0)),
    ],
)
def test_unsigned_integer_reductions_and_scans_give_int64_as_torch(f_ng, f_th):
    a = np.array([200, 100, 3], dtype=np.uint8)  # a uint8 image's pixels: the sum leaves uint8's range
    out, tout = f_ng(ng.tensor(a)), f_th(torch.tensor(a))
    assert str(out.dtype) == str(tout.dtype).removeprefix("torch.") == "int64"
    np.testing.assert_array_equal(_np(out), _np(tout))
    assert ng.sum(ng.tensor(a), dtype="uint8").dtype == np.uint8  # an explicit dtype= still wins


@pytest.mark.parametrize("value", [1, True, 1.5, np.float64(1.5), np.int64(3)])
def test_full_infers_its_dtype_from_the_value_as_torch(value):
    out, tout = ng.full((2, 3), value), torch.full((2, 3), value)
    assert str(out.dtype) == str(tout.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(_np(out), _np(tout))
    assert ng.full((2,), 1, dtype="float64").dtype == np.float64


# --- PyTorch's names ----------------------------------------------------------------------------------------
def test_pow_amax_amin_permute_take_along_dim_match_torch():
    rng = np.random.default_rng(0)
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])  # ties: amax/amin split them evenly
    cases = [
        (lambda a: a.pow(3), lambda a: a.pow(3)),
        (lambda a: ng.pow(a, 2.0), lambda a: torch.pow(a, 2.0)),
        (lambda a: ng.pow(2.0, a), lambda a: torch.pow(2.0, a)),
        (lambda a: a.amax(dim=1), lambda a: a.amax(dim=1)),
        (lambda a: ng.amax(a, dim=0, keepdim=True), lambda a: torch.amax(a, dim=0, keepdim=True)),
        (lambda a: a.amin(), lambda a: a.amin()),
        (lambda a: ng.amin(a, 1), lambda a: torch.amin(a, 1)),
        (lambda a: ng.permute(a, (1, 0)), lambda a: torch.permute(a, (1, 0))),
        (lambda a: a.permute(1, 0), lambda a: a.permute(1, 0)),
        (lambda a: a.permute((1, 0)), lambda a: a.permute((1, 0))),
        (lambda a: ng.take_along_dim(a, np.array([[2], [0]]), 1), lambda a: torch.take_along_dim(a, torch.tensor([[2], [0]]), 1)),
        (lambda a: a.take_along_dim(np.array([4, 0, 4])), lambda a: a.take_along_dim(torch.tensor([4, 0, 4]))),
    ]
    for f_ng, f_th in cases:
        out, tout, (g,), (tg,) = _value_and_grad(f_ng, f_th, x)
        np.testing.assert_allclose(_np(out), _np(tout), rtol=1e-12)
        np.testing.assert_allclose(_np(g), _np(tg), rtol=1e-12)
    xs = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(_np(ng.vmap(lambda m: m.amax(dim=0))(xs)), _np(tf.vmap(lambda m: m.amax(dim=0))(torch.tensor(xs))))
    assert ng.pow(ng.tensor([1, 2]), 2).dtype == np.int64 and ng.pow(ng.tensor([1, 2]), 0.5).dtype == np.float32


# --- vmap's tree-prefix in_axes / out_axes ---------------------------------------------------------------------
def test_vmap_in_axes_and_out_axes_as_tree_prefixes_match_torch_func():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(3), rng.standard_normal((2, 3))
    T = torch.tensor
    out = ng.vmap(lambda p, x: p[0] * x + p[1], in_axes=((0, None), 0))((b, a), b)
    ref = tf.vmap(lambda p, x: p[0] * x + p[1], in_dims=((0, None), 0))((T(b), T(a)), T(b))
    np.testing.assert_allclose(_np(out), _np(ref))
    out = ng.vmap(lambda d: d["u"] * d["v"], in_axes=({"u": 0, "v": None},))({"u": b, "v": a})
    ref = tf.vmap(lambda d: d["u"] * d["v"], in_dims=({"u": 0, "v": None},))({"u": T(b), "v": T(a)})
    np.testing.assert_allclose(_np(out), _np(ref))
    out = ng.vmap(lambda x: {"s": x.sum(), "o": ng.outer(x, x)}, out_axes={"s": 0, "o": 2})(b)
    ref = tf.vmap(lambda x: {"s": x.sum(), "o": torch.outer(x, x)}, out_dims={"s": 0, "o": 2})(T(b))
    for k in ("s", "o"):
        np.testing.assert_allclose(_np(out[k]), _np(ref[k]))
    # per-example gradients with the parameters as a (weight, bias) pair, unmapped
    w, bias, X, y = rng.standard_normal(3), np.float64(0.3), rng.standard_normal((5, 3)), rng.standard_normal(5)
    g = ng.vmap(ng.grad(lambda p, x, t: (ng.tanh((p[0] * x).sum() + p[1]) - t) ** 2), in_axes=((None, None), 0, 0))(
        (w, bias), X, y
    )
    tg = tf.vmap(tf.grad(lambda p, x, t: (torch.tanh((p[0] * x).sum() + p[1]) - t) ** 2), in_dims=((None, None), 0, 0))(
        (T(w), T(bias)), T(X), T(y)
    )
    for u, v in zip(g, tg):
        np.testing.assert_allclose(_np(u), _np(v), rtol=1e-12)


def test_vmap_refuses_an_in_axes_tree_of_another_structure():
    with pytest.raises(ValueError, match=r"in_axes entry \(0, None, 0\) does not match the structure"):
        ng.vmap(lambda p: p[0], in_axes=((0, None, 0),))((np.ones(3), np.ones(3)))
    with pytest.raises(ValueError, match="does not match the structure"):
        ng.vmap(lambda p: p["u"], in_axes=({"w": 0},))({"u": np.ones(3)})


# --- in-place operators ----------------------------------------------------------------------------------------
def test_manual_sgd_with_inplace_update_under_no_grad_trains_as_torch():
    # `w -= lr * w.grad` under no_grad updates w itself (it rebound w to a new tensor without
    # requires_grad, so the second backward() raised)
    x, y = np.array([1.0, 2.0]), np.array([2.0, 4.0])
    w, tw = ng.tensor(0.0, requires_grad=True), torch.tensor(0.0, requires_grad=True)
    same = w
    for _ in range(5):
        ((w * ng.tensor(x) - ng.tensor(y)) ** 2).sum().backward()
        ((tw * torch.tensor(x) - torch.tensor(y)) ** 2).sum().backward()
        with ng.no_grad():
            w -= 0.05 * w.grad
        with torch.no_grad():
            tw -= 0.05 * tw.grad
        w.grad, tw.grad = None, None
    assert w is same and w.requires_grad
    np.testing.assert_allclose(w.item(), tw.item(), rtol=1e-6)


def test_inplace_operators_record_on_non_leaves_and_match_torch_func():
    def f(v, lib):
        u = v * 1
        u += v**2
        u *= lib.sin(v)
        u -= 0.5
        u /= 2.0
        return u.sum()

    v = np.array([0.3, -1.2, 2.0])
    for transform_ng, transform_th in [(ng.grad, tf.grad), (ng.hessian, tf.hessian), (ng.jacfwd, tf.jacfwd)]:
        np.testing.assert_allclose(
            _np(transform_ng(lambda a: f(a, ng))(v)), _np(transform_th(lambda a: f(a, torch))(torch.tensor(v))), rtol=1e-12
        )
    np.testing.assert_allclose(
        _np(ng.vmap(ng.grad(lambda a: f(a, ng)))(np.stack([v, -v]))),
        _np(tf.vmap(tf.grad(lambda a: f(a, torch)))(torch.tensor(np.stack([v, -v])))),
        rtol=1e-12,
    )
    a = ng.tensor([1.0, 2.0], requires_grad=True)
    acc = ng.zeros(2, dtype="float64")
    acc += a * 3  # a plain accumulator takes a traced value
    acc.sum().backward()
    np.testing.assert_array_equal(_np(a.grad), [3.0, 3.0])


def test_inplace_operators_refuse_as_torch():
    w = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor .* in-place"):
        w += 1
    loss = (w * w).sum()
    with ng.no_grad():
        w -= 1  # a write between forward and backward
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()
    i = ng.tensor([1, 2])
    i += 1
    assert i.dtype == np.int64 and i.tolist() == [2, 3]
    with pytest.raises(TypeError, match="cannot be written into the int64 tensor"):
        i += 0.5  # torch: result type Float can't be cast to Long
    f = ng.tensor(np.ones(2, dtype=np.float32))
    f += np.ones(2)  # a float64 operand: the tensor keeps its float32 (as torch)
    assert f.dtype == np.float32
    with pytest.raises(RuntimeError, match="does not fit"):
        f += np.ones((3, 2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "vals",
    [[1.0, np.nan, 2.0], [np.nan, np.nan, 1.0], [3.0, 1.0, 3.0, 2.0, 2.0], [2.0, 2.0, 2.0], [[1.0, 5.0], [3.0, 3.0]]],
    ids=["one-nan", "two-nans", "ties", "all-equal", "matrix"],
)
def test_median_of_all_entries_with_nan_or_ties_matches_torch_value_and_gradient(vals, dtype):
    """A NaN median's gradient goes to the NaN entries (split among them, as torch), never NaN everywhere."""
    data = np.array(vals, dtype)
    x = ng.tensor(data, requires_grad=True)
    y = ng.median(x)
    y.backward()
    t = torch.tensor(data, requires_grad=True)
    u = torch.median(t)
    u.backward()
    assert y.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(y.numpy()), u.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
