"""The compiled kernels of the ``fast`` extra equal their NumPy references (and the formulas)."""

import numpy as np
import pytest

from nablagrad.backend import kernels

pytestmark = pytest.mark.skipif(not kernels.fast_available(), reason="the fast extra (numba) is not installed")


def _adam_inputs(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    p, g = rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)
    m, v = (0.1 * rng.standard_normal(n)).astype(dtype), rng.random(n).astype(dtype)
    return [p, g, m, v, (0.5 * rng.random(n)).astype(dtype)]


@pytest.mark.parametrize("n", [7, (1 << 15) + 3], ids=["small", "large"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("wd, ams", [(0.0, False), (0.01, False), (0.0, True)])
def test_adam_kernel_equals_numpy_reference(n, dtype, wd, ams):
    args = dict(b1=0.9, b2=0.999, step_size=1e-3 * 0.3, eps_hat=1e-8 * 0.5, wd=wd)
    out = {}
    for fast in (False, True):
        p, g, m, v, vmax = _adam_inputs(n, dtype)
        with kernels.use_fast(fast):
            kernels.adam_(p, g, m, v, np.empty_like(p), vmax=vmax if ams else None, **args)
        out[fast] = (p, m, v, vmax)
    for a, b in zip(out[False], out[True]):
        np.testing.assert_allclose(b, a, rtol=2e-7 if dtype == np.float32 else 1e-15, atol=0)


def test_adam_kernel_follows_the_formula():
    p, g, m, v, _ = (a.astype(np.float64) for a in _adam_inputs(100, np.float64, seed=3))
    m_ref = 0.9 * m + 0.1 * g
    v_ref = 0.999 * v + 0.001 * g * g
    p_ref = p - 0.01 * m_ref / (np.sqrt(v_ref) + 1e-8)
    with kernels.use_fast(True):
        kernels.adam_(p, g, m, v, np.empty_like(p), b1=0.9, b2=0.999, step_size=0.01, eps_hat=1e-8)
    np.testing.assert_allclose(m, m_ref, rtol=1e-12)
    np.testing.assert_allclose(v, v_ref, rtol=1e-12)
    np.testing.assert_allclose(p, p_ref, rtol=1e-12)


@pytest.mark.parametrize("shape", [(64, 65), ((1 << 15) + 1,)])
def test_relu_backward_kernel(shape):
    rng = np.random.default_rng(1)
    g, x = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
    with kernels.use_fast(True):
        fast = kernels.relu_backward(g, x)
    with kernels.use_fast(False):
        ref = kernels.relu_backward(g, x)
    np.testing.assert_array_equal(fast, ref)
    np.testing.assert_array_equal(fast, np.where(x > 0, g, 0))


def test_switching_off_uses_numpy():
    with kernels.use_fast(False):
        assert not kernels.fast_available()


def _update_is_finite(p, g, m, v, vmax, **consts) -> bool:
    """The oracle: apply the update to copies and look."""
    p, m, v = p.copy(), m.copy(), v.copy()
    vmax = None if vmax is None else vmax.copy()
    with np.errstate(all="ignore"):
        kernels.adam_(p, g, m, v, np.empty_like(p), vmax=vmax, **consts)
    return all(bool(np.isfinite(a).all()) for a in (p, m, v, vmax) if a is not None)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("wd, ams, decay", [(0.0, False, 1.0), (0.01, False, 1.0), (0.0, True, 1.0), (0.0, False, 0.99)])
def test_adam_finite_answers_as_the_update_would(dtype, wd, ams, decay):
    """Over a run of accepted and refused steps — ordinary gradients (answered from carried bounds),
    huge ones (where the bounds give up and the dry run decides), NaN, Inf, overflowing squares and
    learning rates — the check says True exactly when the update would leave everything finite."""
    rng = np.random.default_rng(5)
    p, _, m, v, vmax = _adam_inputs(1000, dtype, seed=4)
    big = float(np.sqrt(np.finfo(dtype).max))  # g² overflows above this
    schedule = ["normal"] * 4 + ["huge", "normal", "nan", "normal", "inf", "overflow", "normal", "lr", "normal"] * 2
    answers = []
    with kernels.use_fast(True):
        for t, case in enumerate(schedule, start=1):
            g = rng.standard_normal(1000).astype(dtype)
            if case == "huge":
                g *= big / 1e3  # finite squares, but far beyond what the bounds can vouch for
            elif case in ("nan", "inf"):
                g[rng.integers(1000)] = np.nan if case == "nan" else -np.inf
            elif case == "overflow":
                g[rng.integers(1000)] = 4 * big
            step = float(np.finfo(dtype).max) / 2 if case == "lr" else 1e-3 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
            consts = dict(b1=0.9, b2=0.999, step_size=step, eps_hat=1e-8 * np.sqrt(1 - 0.999**t), wd=wd, decay=decay)
            expected = _update_is_finite(p, g, m, v, vmax if ams else None, **consts)
            got = kernels.adam_finite(p, g, m, v, vmax=vmax if ams else None, **consts)
            assert got is expected, (t, case)
            answers.append(got)
            if got:
                kernels.adam_(p, g, m, v, np.empty_like(p), vmax=vmax if ams else None, **consts)
    assert answers.count(True) >= 12 and answers.count(False) >= 6  # both answers were exercised


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, kernels.SUM_BLOCK - 1, kernels.SUM_BLOCK + 1, 5 * kernels.SUM_BLOCK + 17])
def test_abs_sum_times_the_slack_bounds_the_exact_sum(dtype, n):
    """The check's sums are summed in the arrays' dtype per block: scaled by SUM_SLACK they are upper
    bounds of the exact Σ|x| (math.fsum), and close to it — also for the worst float32 case, a large
    term followed by many that each round away."""
    import math

    rng = np.random.default_rng(n)
    cases = [rng.standard_normal(n), np.full(n, 1.0 + 2.0**-23)]
    if n > 1:
        tiny = np.full(n, 2.0**-25)  # each lost when added to 1 in float32: the float32 sum stays 1
        tiny[0] = 1.0
        cases.append(tiny)
    for values in cases:
        a, b = values.astype(dtype), (-values[::-1]).astype(dtype).copy()
        for x in (a, b):
            s = kernels._kernel("abs_sum")(x)
            exact = math.fsum(abs(float(v)) for v in x)
            assert exact <= s * kernels.SUM_SLACK <= exact * kernels.SUM_SLACK**2


def test_abs_sum_sees_nan_and_inf():
    b = np.ones(3 * kernels.SUM_BLOCK, np.float32)
    b[kernels.SUM_BLOCK + 5] = np.nan
    assert np.isnan(kernels._kernel("abs_sum")(b))
    b[kernels.SUM_BLOCK + 5] = -np.inf
    assert kernels._kernel("abs_sum")(b) == np.inf
    huge = np.full(kernels.SUM_BLOCK, np.finfo(np.float32).max / 2, np.float32)  # a block's float32 sum overflows
    assert kernels._kernel("abs_sum")(huge) == np.inf


@pytest.mark.parametrize("dtype", [np.float16, np.dtype(">f4")])
def test_kernels_leave_other_dtypes_to_numpy(dtype):
    """numba compiles no float16 (and the kernels take native byte order): those arrays take the NumPy
    path, bit for bit — an Adam step on float16 parameters used to crash in numba's compiler."""
    consts = dict(b1=0.9, b2=0.999, step_size=1e-3, eps_hat=1e-8)
    out = {}
    for fast in (True, False):
        p, g, m, v, _ = (a.astype(dtype) for a in _adam_inputs(5000, np.float32))
        with kernels.use_fast(fast):
            finite = kernels.adam_finite(p, g, m, v, **consts)
            kernels.adam_(p, g, m, v, np.empty_like(p), **consts)
            out[fast] = (finite, p, m, v, kernels.relu_backward(g, p))
    assert out[True][0] is None  # not answered in advance: the optimiser keeps copies instead
    for a, b in zip(out[True][1:], out[False][1:]):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(784, 256), (3, 5), (4096, 1)])
def test_outer_kernel_equals_numpy(dtype, shape):
    """A weight's gradient at batch 1, ``xᵀ g``: the kernel's numbers are NumPy's ``x.T * g``, bit for bit."""
    rng = np.random.default_rng(2)
    x, g = rng.standard_normal((1, shape[0])).astype(dtype), rng.standard_normal((1, shape[1])).astype(dtype)
    with kernels.use_fast(True):
        out = kernels.outer(x, g)
    assert out.shape == shape and out.dtype == dtype and out.flags.c_contiguous
    np.testing.assert_array_equal(out, x.T * g)
    strided = rng.standard_normal((2, shape[0])).astype(dtype)[:1, ::1]  # any layout NumPy takes
    np.testing.assert_array_equal(kernels.outer(strided, g), strided.T * g)


def test_outer_kernel_writes_into_out():
    x, g = np.arange(100, dtype=np.float32)[None], np.arange(64, dtype=np.float32)[None]
    out = np.full((100, 64), np.nan, np.float32)
    for fast in (True, False):
        with kernels.use_fast(fast):
            assert kernels.outer(x, g, out=out) is out
        np.testing.assert_array_equal(out, x.T * g)
        out[...] = np.nan


CONSTS = dict(b1=0.9, b2=0.999, step_size=1e-3, eps_hat=1e-8)
UNCHECKED_CHANGES = {  # how the update differs from the call that was checked just before
    "the same call": lambda a, c: (a, c),
    "another step size": lambda a, c: (a, {**c, "step_size": 2e-3}),
    "another weight decay": lambda a, c: (a, {**c, "wd": 0.1}),
    "another gradient array": lambda a, c: ({**a, "g": a["g"] * 2}, c),
    "another m array": lambda a, c: ({**a, "m": a["m"].copy()}, c),
    "amsgrad": lambda a, c: (a, {**c, "vmax": np.zeros_like(a["v"])}),
}


@pytest.mark.parametrize("change", UNCHECKED_CHANGES)
def test_an_update_runs_on_its_own_arguments_whatever_was_checked_before(change):
    """adam_ reuses the argument lists adam_finite prepared only for the very call it checked: an update
    with other constants or arrays computes what it would without any check, bit for bit."""
    results = []
    for check in (True, False):
        p, g, m, v, _ = _adam_inputs(5000, np.float32)
        arrays = dict(p=p, g=g, m=m, v=v)
        with kernels.use_fast(True):
            if check:
                assert kernels.adam_finite(**arrays, **CONSTS) is True
            arrays, consts = UNCHECKED_CHANGES[change](arrays, CONSTS)
            kernels.adam_(scratch=np.empty_like(p), **arrays, **consts)
        results.append((p, arrays["m"], v, consts.get("vmax")))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_a_checked_update_run_without_the_kernels_takes_the_numpy_path():
    p, g, m, v, _ = _adam_inputs(5000, np.float64)
    ref = [a.copy() for a in (p, g, m, v)]
    with kernels.use_fast(True):
        assert kernels.adam_finite(p, g, m, v, **CONSTS) is True
    with kernels.use_fast(False):
        kernels.adam_(p, g, m, v, np.empty_like(p), **CONSTS)
        kernels.adam_(ref[0], ref[1], ref[2], ref[3], np.empty_like(p), **CONSTS)
    for a, b in zip((p, m, v), (ref[0], ref[2], ref[3])):
        np.testing.assert_array_equal(a, b)
    assert kernels._Bounds.known(p, m, v, None) is None  # written outside the kernels: no bounds carried


def test_bounds_are_carried_only_from_the_check_of_the_update_that_ran():
    p, g, m, v, _ = _adam_inputs(5000, np.float32)
    with kernels.use_fast(True):
        assert kernels.adam_finite(p, g, m, v, **CONSTS) is True
        kernels.adam_(p, g, m, v, np.empty_like(p), **CONSTS)
        carried = kernels._Bounds.known(p, m, v, None)
        assert carried is not None
        assert kernels.adam_finite(p, g, m, v, **CONSTS) is True
        kernels.adam_(p, g, m, v, np.empty_like(p), **CONSTS)
        assert kernels._Bounds.known(p, m, v, None) not in (None, carried)  # the new check's bounds
        assert kernels.adam_finite(p, g, m, v, **CONSTS) is True
        kernels.adam_(p, g * 2, m, v, np.empty_like(p), **CONSTS)  # not the checked update
        assert kernels._Bounds.known(p, m, v, None) is None


def _layout(sizes, dtype=np.float32):
    out = np.zeros(sum(sizes), dtype)
    views, start = [], 0
    for n in sizes:
        views.append(out[start : start + n])
        start += n
    return kernels.Layout(views, out)


def test_a_layout_cuts_again_when_another_array_is_passed():
    layout = _layout([3, 5, 2])
    a, b = np.arange(10.0), np.arange(10.0, 20.0)
    first = layout.cut((a, b))
    assert layout.cut((a, b)) is first  # the same arrays: the slices kept
    c = a.copy()
    again = layout.cut((c, b))
    assert again is not first and all(s[0].base is c for s in again)
    np.testing.assert_array_equal(np.concatenate([s[1] for s in again]), b)


def test_parts_of_another_size_than_their_place_are_refused():
    layout = _layout([3, 5])
    g = kernels.Parts([np.ones(3, np.float32), np.ones(4, np.float32)], layout)
    with pytest.raises(ValueError, match="layout"):
        g.cut(np.zeros(8, np.float32))
    g = kernels.Parts([np.ones(3, np.float32)], layout)  # one part short
    with pytest.raises(ValueError):
        g.cut(np.zeros(8, np.float32))


@pytest.mark.parametrize("short", ["m", "v", "vmax", "g"])
def test_an_array_of_another_size_is_never_read_or_written_past_its_end(short):
    """The kernels index every array up to p's size without bounds checks: an array of another size (a state
    buffer a user replaced) goes to NumPy, which refuses it — nothing past its end is read or written."""
    p, g, m, v, _ = _adam_inputs(5000, np.float32)
    arrays = dict(p=p, g=g, m=m, v=v, vmax=np.abs(v))
    memory = np.full(10_000, 7.0, np.float32)
    arrays[short] = memory[:10]  # a smaller array that other numbers follow in memory
    with kernels.use_fast(True):
        assert kernels.adam_finite(**arrays, **CONSTS) is None
        with pytest.raises(ValueError, match="broadcast"):
            kernels.adam_(scratch=np.empty_like(p), **arrays, **CONSTS)
    np.testing.assert_array_equal(memory[10:], 7.0)


def test_a_steady_check_reads_the_gradient_alone_and_reads_p_again_where_its_carried_sum_is_too_loose(monkeypatch):
    """The carried ``Σ|p|`` grows by ``|s|M'/ε̂`` a step: with ε̂ tiny it soon cannot show ``|δ|Σ|p| ≤ F/4``;
    then ``Σ|p|`` is read again (and the update allowed, as the dry run would), never a dry run."""
    p, g, m, v, _ = _adam_inputs(5000, np.float32)
    # |s|M'/ε̂ ≈ F/10 a step (M' ≈ Σ|m| ≈ 800): the carried Σ|p| passes F/4 after a few steps
    consts = dict(b1=0.9, b2=0.999, step_size=1.0, eps_hat=4e-35, decay=0.999)
    reads, dry_runs, read_p = [], [], []
    kernel = kernels._kernel
    spy = {"abs_sum": lambda a: reads.append(a.size) or kernel("abs_sum")(a),
           "adam_finite": lambda *a: dry_runs.append(1) or kernel("adam_finite")(*a)}  # fmt: skip
    with kernels.use_fast(True):
        assert kernels.adam_finite(p, g, m, v, **consts) is True  # the first check: a dry run and a full read
        kernels.adam_(p, g, m, v, np.empty_like(p), **consts)
        monkeypatch.setattr(kernels, "_kernel", lambda name: spy.get(name) or kernel(name))
        for _ in range(8):
            reads.clear()
            expected = kernels.adam_finite(p.copy(), g, m.copy(), v.copy(), **consts)  # another p: a full check
            assert expected is True
            reads.clear()
            dry_runs.clear()
            assert kernels.adam_finite(p, g, m, v, **consts) is True
            assert not dry_runs
            assert reads in ([g.size], [g.size, p.size])  # g alone, or g and then p again
            read_p.append(len(reads) == 2)
            kernels.adam_(p, g, m, v, np.empty_like(p), **consts)
        assert read_p[0] is False and True in read_p
        carried = kernels._Bounds.known(p, m, v, None)
        assert carried is not None and carried.p >= float(np.abs(p.astype(np.float64)).sum())


def _steady_inputs(dtype, ams):
    """A flat state of three places (a weight, a bias, a weight), its gradients as separate arrays, and the
    same state checked and updated once by ``adam_finite``/``adam_`` so that bounds are carried."""
    shapes = [(6, 5), (5,), (5, 3)]
    n = sum(int(np.prod(s)) for s in shapes)
    p, _, m, v, vmax = _adam_inputs(n, dtype, seed=3)
    vmax = vmax if ams else None
    layout = _layout([int(np.prod(s)) for s in shapes], dtype)
    rng = np.random.default_rng(4)
    grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
    consts = dict(CONSTS, vmax=vmax) if ams else dict(CONSTS)
    first = np.concatenate([g.reshape(-1) for g in grads])
    assert kernels.adam_finite(p, first, m, v, **consts) is True
    kernels.adam_(p, first, m, v, np.empty_like(p), **consts)
    return p, m, v, vmax, layout, grads


@pytest.mark.parametrize("ams", [False, True], ids=["adam", "amsgrad"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_steady_update_is_adams_update_bit_for_bit_and_keeps_no_gradient(dtype, ams):
    """``SteadyAdam`` (argument lists kept from step to step, gradients read where they are) takes three
    steps exactly as ``adam_`` on the concatenated gradient does, and lets go of each step's gradients."""
    import gc
    import weakref

    p, m, v, vmax, layout, grads = _steady_inputs(dtype, ams)
    ref = [a.copy() for a in (p, m, v)] + ([vmax.copy()] if ams else [None])
    consts = (0.9, 0.999, 1e-3, 1e-8, 0.0, 1.0)
    with kernels.use_fast(True):
        plan = kernels.SteadyAdam.make(p, layout, m, v, vmax)
        for step in range(3):
            gs = [g * (step + 1) for g in grads]
            after = plan.prepare(gs, consts)
            assert after is not None
            plan.run(after)
            whole = np.concatenate([g.reshape(-1) for g in gs])
            kernels.adam_(ref[0], whole, ref[1], ref[2], np.empty_like(p), b1=0.9, b2=0.999, step_size=1e-3,
                          eps_hat=1e-8, vmax=ref[3])  # fmt: skip
            for got, want in zip((p, m, v, vmax), ref):
                if want is not None:
                    np.testing.assert_array_equal(got, want)
            refs = [weakref.ref(g) for g in gs]
            del gs, whole
            gc.collect()
            assert all(r() is None for r in refs)  # the plan holds no gradient between steps
        assert plan.fits(p, layout, m, v, vmax) and not plan.fits(p.copy(), layout, m, v, vmax)


def test_a_steady_update_refuses_gradients_it_cannot_read_and_keeps_none():
    """A gradient of another size raises (a kernel would read past its end); one of another dtype or not
    C-ordered gets ``None`` (the caller's full check decides); either way no gradient is kept, nothing written."""
    p, m, v, _, layout, grads = _steady_inputs(np.float32, False)
    before = [a.copy() for a in (p, m, v)]
    consts = (0.9, 0.999, 1e-3, 1e-8, 0.0, 1.0)
    with kernels.use_fast(True):
        plan = kernels.SteadyAdam.make(p, layout, m, v, None)
        with pytest.raises(ValueError, match="place"):
            plan.prepare([grads[0], grads[1], grads[2][:, :2].copy()], consts)
        assert plan.prepare([grads[0].astype(np.float64), grads[1], grads[2]], consts) is None
        assert plan.prepare([np.asfortranarray(grads[0]), grads[1], grads[2]], consts) is None
        with pytest.raises(ValueError, match="gradients"):
            plan.prepare(grads[:2], consts)
        assert plan.call[1] is None  # no gradient kept
        for got, want in zip((p, m, v), before):
            np.testing.assert_array_equal(got, want)
        assert kernels.SteadyAdam.make(p, layout, m[:-1], v, None) is None  # a state of another size: not taken
