"""``Tensor.register_hook`` against PyTorch's (which tensors' hooks run in ``backward()`` and in
``torch.autograd.grad``, in what order, what a returned tensor replaces, ``create_graph``), its refusals
(``ng.jit`` included), and the compositions ``logit``, ``sgn``, ``fmax``/``fmin``, ``cov``/``corrcoef``,
``logdet`` and ``select``: values and float64 gradients against torch 2.13, central differences, and a
``torch.func.hessian`` case."""

import copy
import warnings

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim
from nablagrad.autodiff import grad_of

torch = pytest.importorskip("torch")


def _t(a, requires_grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _n(a, requires_grad=False):
    return ng.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _close(a, b, **kw):
    a = a.numpy() if hasattr(a, "numpy") and not isinstance(a, torch.Tensor) else a
    b = b.detach().numpy(force=True) if isinstance(b, torch.Tensor) else b  # (force: sgn's gradient is a ZeroTensor)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12, **kw)


# --- register_hook -------------------------------------------------------------------------------------
def _hooked_graph(lib, make):
    """x * w, summed, with a hook on each of x (×10), w (records only), y = x·w (×2) and the loss (×3); the
    calls are recorded as (name, gradient given) in order."""
    x, w = make([1.0, 2.0], True), make([3.0, 4.0], True)
    calls = []

    def hook(name, factor):
        def h(g):
            calls.append((name, np.array(g.detach().numpy() if lib is torch else g.numpy())))
            return None if factor is None else g * factor

        return h

    x.register_hook(hook("x", 10))
    w.register_hook(hook("w", None))
    y = x * w
    y.register_hook(hook("y", 2))
    loss = y.sum()
    loss.register_hook(hook("loss", 3))
    return x, w, y, loss, calls


def _same_calls(ours, theirs):
    assert [name for name, _ in ours] == [name for name, _ in theirs]
    for (_, a), (_, b) in zip(ours, theirs):
        _close(a, b)


def test_backward_runs_every_hook_in_torch_order_and_accumulates_what_they_return():
    x, w, _, loss, calls = _hooked_graph(ng, _n)
    tx, tw, _, tloss, tcalls = _hooked_graph(torch, _t)
    loss.backward()
    tloss.backward()
    _same_calls(calls, tcalls)
    _close(x.grad, tx.grad)
    _close(w.grad, tw.grad)


@pytest.mark.parametrize("wrt", ["x", "y"])
def test_grad_of_runs_the_hooks_on_its_path_and_on_its_inputs_as_autograd_grad(wrt):
    x, w, y, loss, calls = _hooked_graph(ng, _n)
    tx, tw, ty, tloss, tcalls = _hooked_graph(torch, _t)
    (ours,) = grad_of(loss, [{"x": x, "y": y}[wrt]], retain_graph=True)
    (theirs,) = torch.autograd.grad(tloss, [{"x": tx, "y": ty}[wrt]], retain_graph=True)
    _close(ours, theirs)
    _same_calls(calls, tcalls)  # w's hook does not run: w is not asked for (torch's AccumulateGrad is not run)
    assert "w" not in [name for name, _ in calls]


def test_hooks_chain_in_registration_order_and_remove_takes_one_away():
    for make in (_n, _t):
        a = make([1.0, 2.0], True)
        first = a.register_hook(lambda g: g + 1)
        a.register_hook(lambda g: g * 10)
        (a * 1).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), [20.0, 20.0])
        first.remove()
        first.remove()  # (again: nothing)
        a.grad = None
        (a * 1).sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), [10.0, 10.0])
    b = _n([1.0], True)
    with b.register_hook(lambda g: g * 0) as handle:  # a context manager that removes the hook
        assert handle.hooks
    assert not handle.hooks


def test_retain_grad_and_a_leaf_root_see_the_hooked_gradient():
    for make in (_n, _t):
        a = make([1.0, 2.0], True)
        b = a * 2
        b.retain_grad()
        b.register_hook(lambda g: g * 5)
        b.sum().backward()
        np.testing.assert_allclose(b.grad.numpy(), [5.0, 5.0])  # torch runs retain_grad's hook last
        np.testing.assert_allclose(a.grad.numpy(), [10.0, 10.0])
        s = make(2.0, True)
        s.register_hook(lambda g: g * 7)
        s.backward()
        assert float(s.grad) == 7.0


def test_a_hook_inside_ng_grad_scales_what_flows_back():
    def f(lib, x):
        y = x.sin()
        y.register_hook(lambda g: g * 3)
        return (y * y).sum()

    x0 = np.array([0.3, -1.2, 2.0])
    ours = ng.grad(lambda x: f(ng, x))(_n(x0))
    tx = _t(x0, True)
    (theirs,) = torch.autograd.grad(f(torch, tx), [tx])
    _close(ours, theirs)


def test_create_graph_gives_the_hook_a_tensor_with_a_graph():
    def run(make):
        x = make([0.5, -1.5, 2.0], True)
        seen = []

        def hook(g):
            seen.append(g.requires_grad)  # its gradient 2y depends on x
            return g * x  # so does what it returns: differentiated in the second pass

        y = x.sin()
        y.register_hook(hook)
        (y**2).sum().backward(create_graph=True)
        first = x.grad
        return x, first, seen

    x, first, seen = run(_n)
    tx, tfirst, tseen = run(_t)
    assert seen == tseen == [True]
    _close(first, tfirst)
    (second,) = grad_of(first.sum(), [x])
    (tsecond,) = torch.autograd.grad(tfirst.sum(), [tx])
    _close(second, tsecond)


def test_register_hook_refuses_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        ng.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="callable"):
        _n([1.0], True).register_hook(3)


@pytest.mark.parametrize(
    "hook, error, match",
    [
        (lambda g: g.sum(), RuntimeError, "changed the gradient from shape"),
        (lambda g: g.double(), RuntimeError, "dtype float32 to shape"),
        (lambda g: g.numpy() * 2, TypeError, "returned ndarray"),
        (lambda g: g.__setitem__(0, 5.0), RuntimeError, "wrote into the gradient"),
    ],
)
def test_a_bad_hook_is_refused_and_no_grad_is_written(hook, error, match, array_namespace):
    if "wrote" in match and array_namespace != "numpy":
        pytest.skip("only a NumPy gradient can be handed out read-only")
    a = ng.tensor([1.0, 2.0], requires_grad=True)  # float32
    b = ng.tensor([3.0, 4.0], requires_grad=True)
    a.register_hook(hook)
    with pytest.raises(error, match=match):
        (a * b).sum().backward()
    assert a.grad is None and b.grad is None  # the leaves' hooks run before anything is accumulated


def test_a_hooked_tensor_copies_and_pickles_without_its_hooks():
    a = _n([1.0, 2.0], True)
    a.register_hook(lambda g: g * 2)
    b = copy.deepcopy(a)
    (b * 1).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def _jit_step():
    model = ng.nn.Linear(3, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        loss = ((model(x) - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return model, ng.jit(step)


def _refused_as_jit(excinfo):
    # (the class is ng.autodiff.JitError once jit.py takes it from autodiff/errors.py; by name until then)
    assert type(excinfo.value).__name__ == "JitError"


@pytest.mark.numpy_only  # (ng.jit compiles NumPy programs; elsewhere it runs the function plainly)
def test_jit_refuses_a_compiled_step_that_reaches_a_hook_and_undoes_the_call():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((4, 1)).astype(np.float32)
    model, step = _jit_step()
    step(x, y)
    step(x, y)  # compiled, checked against eager
    handle = model.weight.register_hook(lambda g: g * 0)  # after compiling: the next call traces again
    before = [p.data.copy() for p in model.parameters()]
    grads = [p.grad.data.copy() for p in model.parameters()]
    with pytest.raises(RuntimeError, match="reaches a tensor with hooks") as excinfo:
        step(x, y)
    _refused_as_jit(excinfo)
    for p, v, g in zip(model.parameters(), before, grads):
        np.testing.assert_array_equal(p.data, v)
        np.testing.assert_array_equal(p.grad.data, g)
    handle.remove()
    step(x, y)  # compiles again without the hook
    step(x, y)


@pytest.mark.numpy_only  # (ng.jit compiles NumPy programs; elsewhere it runs the function plainly)
def test_jit_refuses_register_hook_inside_the_compiled_function():
    model = ng.nn.Linear(3, 1)

    def f(x):
        out = model(x)
        out.register_hook(lambda g: g * 2)
        return out.sum()

    with pytest.raises(RuntimeError, match="register_hook inside a compiled function") as excinfo:
        ng.jit(f)(np.ones((2, 3), np.float32))
    _refused_as_jit(excinfo)


@pytest.mark.numpy_only  # (ng.jit compiles NumPy programs; elsewhere it runs the function plainly)
def test_a_compiled_function_differentiated_outside_runs_the_hooks_of_its_leaves_as_eager():
    model = ng.nn.Linear(3, 2)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    f = ng.jit(lambda x: (model(x) ** 2).sum())
    calls = []
    model.weight.register_hook(lambda g: (calls.append(1), g * 2)[1])
    for i in range(3):
        model.weight.grad = None
        f(x).backward()
        compiled = model.weight.grad.numpy().copy()
        model.weight.grad = None
        (model(ng.tensor(x)) ** 2).sum().backward()
        np.testing.assert_array_equal(compiled, model.weight.grad.numpy())
        assert len(calls) == 2 * (i + 1)


# --- the compositions against torch ---------------------------------------------------------------------
def _value_and_grads(fn_ng, fn_torch, *arrays, seed=0):
    """The value and the gradients of ⟨fn(*arrays), v⟩ (v random) in both libraries, float64, compared."""
    ours_in = [_n(a, True) for a in arrays]
    theirs_in = [_t(a, True) for a in arrays]
    ours, theirs = fn_ng(*ours_in), fn_torch(*theirs_in)
    _close(ours, theirs, equal_nan=True)
    assert ours.shape == tuple(theirs.shape)
    v = np.random.default_rng(seed).standard_normal(tuple(theirs.shape))
    (ours * _n(v)).sum().backward()
    (theirs * _t(v)).sum().backward()
    for a, b in zip(ours_in, theirs_in):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy())
        else:
            _close(a.grad, b.grad, equal_nan=True)


RNG = np.random.default_rng(7)
UNIT = np.array([[0.05, 0.2, 0.5], [0.7, 0.9, 0.99]])


@pytest.mark.parametrize("eps", [None, 0.0, 0.1, 0.2])
def test_logit(eps):
    x = np.array([[-0.3, 0.05, 0.1, 0.2], [0.5, 0.8, 0.9, 1.4]]) if eps else UNIT  # (outside [0, 1] only clamped)
    _value_and_grads(lambda t: ng.logit(t, eps=eps), lambda t: torch.logit(t, eps=eps), x)
    _value_and_grads(lambda t: t.logit(eps), lambda t: t.logit(eps), x)


def test_logit_ends_and_dtypes_as_torch():
    x = np.array([0.0, 1.0, -0.5, 2.0])
    _close(ng.logit(_n(x)), torch.logit(_t(x)), equal_nan=True)  # −∞, ∞, NaN, NaN
    assert ng.logit(ng.tensor([1, 0])).dtype == np.float32
    assert ng.logit(ng.tensor([0.5])).dtype == np.float32


def test_sgn():
    x = np.array([-2.0, 0.0, 3.5])
    _value_and_grads(ng.sgn, torch.sgn, x)
    z = np.array([3 + 4j, 0j, -1j])
    np.testing.assert_allclose(ng.tensor(z).sgn().numpy(), torch.sgn(torch.tensor(z)).numpy())


NAN = np.nan


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_ignore_nan_and_route_the_gradient_as_torch(name):
    x = np.array([1.0, NAN, 3.0, NAN, 2.0, -1.0])
    y = np.array([2.0, 1.0, NAN, NAN, 2.0, -4.0])  # one of each case: x < y, x NaN, y NaN, both, tie, x > y
    _value_and_grads(getattr(ng, name), getattr(torch, name), x, y)
    _value_and_grads(lambda a, b: getattr(a, name)(b), lambda a, b: getattr(a, name)(b), x, y)
    a, b = RNG.standard_normal((3, 1)), RNG.standard_normal(4)  # broadcasting
    _value_and_grads(getattr(ng, name), getattr(torch, name), a, b)
    ints = getattr(ng, name)(ng.tensor([1, 5]), ng.tensor([3, 2]))
    assert ints.dtype == np.int64 and ints.tolist() == getattr(torch, name)(torch.tensor([1, 5]), torch.tensor([3, 2])).tolist()
    mixed = getattr(ng, name)(ng.tensor([1.0, 5.0]), ng.tensor([3, 2]))
    assert mixed.dtype == np.float32


X = RNG.standard_normal((3, 6))
FW = np.array([1, 0, 2, 3, 1, 2])
AW = RNG.uniform(0.1, 2.0, 6)


@pytest.mark.parametrize(
    "kw",
    [{}, {"correction": 0}, {"correction": 2}, {"fweights": FW}, {"aweights": AW}, {"fweights": FW, "aweights": AW},
     {"fweights": FW, "aweights": AW, "correction": 0}],
)  # fmt: skip
def test_cov_against_torch(kw):
    def call(lib, x, **extra):
        args = {k: (v if isinstance(v, int) else (ng.tensor(v) if lib is ng else torch.tensor(v))) for k, v in kw.items()}
        return lib.cov(x, **{**args, **extra})

    _value_and_grads(lambda t: call(ng, t), lambda t: call(torch, t), X)
    _value_and_grads(lambda t: call(ng, t), lambda t: call(torch, t), X[0])  # one variable: 0-d
    if "aweights" in kw:  # the gradient with respect to the aweights too
        rest = {k: v for k, v in kw.items() if k != "aweights"}

        def ours(t, a):
            return ng.cov(t, aweights=a, **{k: (v if isinstance(v, int) else ng.tensor(v)) for k, v in rest.items()})

        def theirs(t, a):
            return torch.cov(t, aweights=a, **{k: (v if isinstance(v, int) else torch.tensor(v)) for k, v in rest.items()})

        _value_and_grads(ours, theirs, X, AW)


def test_cov_dtypes_method_and_degenerate_cases_as_torch():
    assert ng.cov(ng.tensor([1, 2, 4])).dtype == torch.cov(torch.tensor([1, 2, 4])).numpy().dtype == np.float32
    x32 = X.astype(np.float32)
    assert ng.tensor(x32).cov(aweights=ng.tensor(AW)).dtype == np.float64  # float32 · float64 weights
    assert ng.tensor(x32).cov(fweights=ng.tensor(FW)).dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.cov(torch.tensor([1.0, 2.0]), correction=2)
    with pytest.warns(RuntimeWarning, match="degrees of freedom is <= 0"):
        ours = ng.cov(ng.tensor([1.0, 2.0]), correction=2)
    assert float(ours) == float(theirs) == np.inf


@pytest.mark.parametrize(
    "kw, error, match",
    [
        ({"fweights": np.array([1.0, 2.0, 1.0, 1.0, 1.0, 1.0])}, TypeError, "fweights must have an integer dtype"),
        ({"aweights": FW}, TypeError, "aweights must have a floating-point dtype"),
        ({"fweights": FW[:5]}, ValueError, "has 5 entries but x has 6 observations"),
        ({"fweights": -FW}, ValueError, "fweights cannot be negative"),
        ({"aweights": np.zeros(6)}, ValueError, "weights sum to zero"),
    ],
)
def test_cov_refuses_bad_weights(kw, error, match):
    with pytest.raises(error, match=match):
        ng.cov(ng.tensor(X), **{k: ng.tensor(v) for k, v in kw.items()})
    with pytest.raises(ValueError, match="must be 1-D or 2-D"):
        ng.cov(ng.zeros(2, 2, 2))


def test_corrcoef():
    _value_and_grads(ng.corrcoef, torch.corrcoef, X)
    _value_and_grads(lambda t: t.corrcoef(), lambda t: t.corrcoef(), X[1:3])
    _value_and_grads(ng.corrcoef, torch.corrcoef, X[0])  # one variable: C/C = 1


def test_logdet():
    a = RNG.standard_normal((4, 4)) + 3 * np.eye(4)
    _value_and_grads(ng.logdet, torch.logdet, a)  # det > 0
    neg = a.copy()
    neg[0] *= -1
    _value_and_grads(ng.logdet, torch.logdet, neg)  # det < 0: NaN, gradient 0 (torch's composition)
    batch = np.stack([a, neg, a.T])
    _value_and_grads(lambda t: t.logdet(), lambda t: t.logdet(), batch)
    assert float(ng.logdet(ng.zeros(2, 2))) == float(torch.logdet(torch.zeros(2, 2))) == -np.inf


def test_hessians_against_torch_func():
    a = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    ours = ng.hessian(lambda m: ng.logdet(m))(_n(a))
    _close(ours, torch.func.hessian(torch.logdet)(_t(a)))
    p = np.array([0.1, 0.45, 0.8])
    ours = ng.hessian(lambda t: (ng.logit(t, eps=0.05) * t).sum())(_n(p))
    _close(ours, torch.func.hessian(lambda t: (torch.logit(t, eps=0.05) * t).sum())(_t(p)))
    x = X[:2, :4]
    ours = ng.hessian(lambda t: ng.cov(t, aweights=ng.tensor(AW[:4])).sum())(_n(x))
    _close(ours, torch.func.hessian(lambda t: torch.cov(t, aweights=torch.tensor(AW[:4])).sum())(_t(x)))


def test_central_differences():
    assert ng.gradcheck(lambda t: ng.corrcoef(t), _n(X[:, :4]))
    assert ng.gradcheck(lambda t, w: ng.cov(t, aweights=w), _n(X[:, :4]), _n(AW[:4]))
    assert ng.gradcheck(lambda t: ng.logit(t, eps=0.02), _n(UNIT))  # (a clamp bound at an entry is a kink)
    assert ng.gradcheck(lambda t: ng.logdet(t), _n(RNG.standard_normal((3, 3)) + 3 * np.eye(3)))


@pytest.mark.parametrize("dim, index", [(0, 1), (1, -1), (-1, 0), (2, 3), (-3, -2)])
def test_select(dim, index):
    x = RNG.standard_normal((2, 3, 4))
    _value_and_grads(lambda t: ng.select(t, dim, index), lambda t: torch.select(t, dim, index), x)
    _value_and_grads(lambda t: t.select(dim, index), lambda t: t.select(dim, index), x)


def test_select_refuses_as_torch():
    x = ng.zeros(3, 4)
    with pytest.raises(IndexError, match="index 5 is out of range for a tensor of shape"):
        x.select(1, 5)
    with pytest.raises(IndexError, match="axis 2 is out of range"):
        x.select(2, 0)
    with pytest.raises(IndexError, match="0-d"):
        ng.tensor(1.0).select(0, 0)


def test_a_tensor_gone_with_its_hooks_is_no_longer_counted():
    """The walk looks for hooks only while some live tensor has one: a hooked tensor that is collected stops
    counting, and a later ``remove()`` of its handle counts nothing twice."""
    import gc

    from nablagrad.autodiff import grad_mode as mode

    before = mode.hooked
    x = ng.tensor(np.ones(3), requires_grad=True)
    kept, dropped = x.register_hook(lambda g: g * 2), x.register_hook(lambda g: None)
    assert mode.hooked == before + 2
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 6.0))
    dropped.remove()
    assert mode.hooked == before + 1
    del x
    gc.collect()
    assert mode.hooked == before
    kept.remove()
    assert mode.hooked == before
