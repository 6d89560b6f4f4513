"""The version counter, retain_grad and differentiable assignment, against PyTorch."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")  # the oracle; without it these tests are skipped


def test_backward_after_an_optimizer_step_raises_like_torch():
    w = ng.nn.Parameter(ng.tensor([1.0, 2.0]))
    opt = ng.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*'mul'.*backward\\(\\) before"):
        loss.backward()
    tw = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    tl = (tw * tw).sum()
    tl.backward(retain_graph=True)
    torch.optim.SGD([tw], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tl.backward()


def test_zero_and_setitem_bump_the_version():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    c = ng.tensor([3.0, 4.0])
    y = (x * c).sum()
    c[0] = 5.0
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()
    y = (x * c).sum()
    c.zero_()
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()
    y = (x * c).sum()  # recomputed after the change: fine
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_retain_grad_fills_a_non_leaf_grad_like_torch():
    x = ng.tensor([0.5, -1.0, 2.0], requires_grad=True)
    h = ng.tanh(x) * 3.0
    h.retain_grad()
    (h * h).sum().backward()
    tx = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    th = torch.tanh(tx) * 3.0
    th.retain_grad()
    (th * th).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), th.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    assert h.retains_grad


def test_assignment_on_a_non_leaf_is_differentiable_like_torch():
    x = ng.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = ng.tensor([10.0], requires_grad=True)
    y = x * 2.0
    y[1:2] = v * v
    (y * ng.tensor([1.0, 2.0, 3.0])).sum().backward()
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tv = torch.tensor([10.0], requires_grad=True)
    ty = tx * 2.0
    ty[1:2] = tv * tv
    (ty * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(v.grad.numpy(), tv.grad.numpy())


def test_assignment_on_a_leaf_that_requires_grad_is_refused():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor.*index_update"):
        x[0] = 3.0
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


def test_assignment_after_use_is_caught_by_the_version_counter():
    x = ng.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = (y * y).sum()  # saves y
    y[0] = 0.0
    with pytest.raises(RuntimeError, match="inplace"):
        z.backward()


def test_index_update_is_functional_and_differentiable_in_every_mode(rng):
    x, v = rng.standard_normal(4), rng.standard_normal(2)
    idx = np.array([0, 2])

    def f(x, v):
        return ng.sin(ng.index_update(x, idx, v * v)).sum()

    def ft(x, v):
        return torch.sin(x.index_put((torch.tensor(idx),), v * v)).sum()

    tx, tv = torch.tensor(x), torch.tensor(v)
    for ours, theirs in ((ng.grad(f, argnums=(0, 1)), torch.func.grad(ft, argnums=(0, 1))),):
        for a, b in zip(ours(x, v), theirs(tx, tv)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    h = ng.hessian(f, argnums=1)(x, v)
    th = torch.func.hessian(ft, argnums=1)(tx, tv)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-12, atol=1e-14)
    jf = ng.jacfwd(lambda x: ng.index_update(x, idx, 0.0))(x)
    np.testing.assert_array_equal(jf.numpy(), np.diag([0.0, 1.0, 0.0, 1.0]))


# --- every write to a parameter's values bumps its version (optimisers outside step's path, nn) ------
def _saved_graph(w):
    """A loss whose graph saved ``w`` (``w * w``), its gradient taken once (graph kept)."""
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    return loss


def _levenberg_marquardt(w):
    opt = ng.optim.LevenbergMarquardt([w])
    target = ng.tensor([0.0, 1.0], dtype="float64")
    opt.step(lambda: w * w - target)


def _levenberg_marquardt_no_improvement(w):
    """Every trial step is refused (the residual only grows after the first call): w is written back."""
    calls = []

    def residual():
        calls.append(1)
        return w * w if len(calls) == 1 else w * w + 1e6

    before = w.numpy().copy()
    ng.optim.LevenbergMarquardt([w], max_tries=2).step(residual)
    np.testing.assert_array_equal(w.numpy(), before)
    assert len(calls) == 3


def _steepest_descent(w):
    opt = ng.optim.SteepestDescent([w])
    w.grad = ng.tensor([1.0, 1.0], dtype="float64")
    opt.step(lambda: ((w - 3.0) ** 2).sum())


def _load_state_dict(w):
    m = ng.nn.Linear(2, 1, dtype="float64")
    with ng.no_grad():
        m.weight.copy_(w.reshape(2, 1))
    loss = (m.weight * m.weight).sum()
    m.load_state_dict({"weight": np.ones((2, 1)), "bias": np.zeros(1)})
    return loss


def _under_no_grad(f, *args):
    with ng.no_grad():
        return f(*args)


WRITERS = {
    "LevenbergMarquardt.step": _levenberg_marquardt,
    "LevenbergMarquardt.step, no step accepted": _levenberg_marquardt_no_improvement,
    "SteepestDescent.step": _steepest_descent,
    "nn.init.constant_": lambda w: ng.nn.init.constant_(w, 0.5),
    "nn.init.normal_": lambda w: ng.nn.init.normal_(w, seed=0),
    "copy_ under no_grad": lambda w: _under_no_grad(w.copy_, np.zeros(2)),
}


@pytest.mark.parametrize("write", WRITERS.values(), ids=WRITERS.keys())
def test_a_write_outside_the_step_path_is_caught_by_the_version_counter(write):
    """A backward through a graph that saved a parameter, after something wrote the parameter,
    raises PyTorch's error instead of using the new values with the old graph."""
    w = ng.nn.Parameter(ng.tensor([0.5, 2.0], dtype="float64"))
    loss = _saved_graph(w)
    with ng.enable_grad():
        write(w)
    with ng.enable_grad(), pytest.raises(RuntimeError, match="modified by an inplace operation.*'mul'"):
        loss.backward()


def test_load_state_dict_is_caught_by_the_version_counter():
    loss = _load_state_dict(ng.tensor([0.5, 2.0], dtype="float64"))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_copy_is_torch_copy_():
    """On a non-leaf ``copy_`` is differentiable (the old values get no gradient, ``src`` all of
    it); under no_grad it writes a leaf; with grad on it refuses a leaf, as PyTorch."""
    x = ng.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype="float64")
    s = ng.tensor([4.0, 5.0, 6.0], requires_grad=True, dtype="float64")
    y = x * 2.0
    assert y.copy_(s * s) is y
    (y * ng.tensor([1.0, 2.0, 3.0])).sum().backward()
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=torch.float64)
    ts = torch.tensor([4.0, 5.0, 6.0], requires_grad=True, dtype=torch.float64)
    ty = tx * 2.0
    ty.copy_(ts * ts)
    (ty * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    assert x.grad is None or not x.grad.numpy().any()
    assert tx.grad is None or not tx.grad.any()
    np.testing.assert_array_equal(s.grad.numpy(), ts.grad.numpy())
    w, tw = ng.nn.Parameter(ng.tensor([1.0, 2.0])), torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="leaf tensor"):
        w.copy_(np.zeros(2))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        tw.copy_(torch.zeros(2))
    with ng.no_grad():
        w.copy_(np.array([7.0, 8.0]))
    with torch.no_grad():
        tw.copy_(torch.tensor([7.0, 8.0]))
    np.testing.assert_array_equal(w.numpy(), tw.detach().numpy())


def test_no_write_to_data_in_src_skips_the_version_counter():
    """The engine's rule, checked on the source: outside the engine, a tensor's values are written
    through ``copy_``/``x[...] = v`` (which bump the version), never ``t.data[...] = …``."""
    import re
    from pathlib import Path

    src = Path(ng.__file__).parent
    pattern = re.compile(r"\.data\[[^\]]*\]\s*=[^=]")
    offenders = [
        f"{path.relative_to(src)}:{n}"
        for path in src.rglob("*.py")
        if path.parts[-2] not in ("autodiff", "scratch")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, f"in-place writes to .data that bypass the version counter: {offenders}"
