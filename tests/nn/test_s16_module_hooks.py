"""PyTorch's module surface: ``PReLU``'s parameter ``weight``, ``Sequential(OrderedDict(...))``, forward hooks and
pre-hooks (their replacement values, order, handles), and hooks under ``ng.jit``.

Oracles: torch.nn 2.13 modules built with the same weights (ours hold a Linear's weight as (in, out), torch as
(out, in): copied transposed), their outputs, gradients, names and the order torch calls hooks in."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
nn, tnn = ng.nn, torch.nn
NUMPY_ONLY = "compiled programs are NumPy programs"


def _np(t) -> np.ndarray:
    return np.asarray(t.numpy() if isinstance(t, ng.Tensor) else t.detach().numpy())


def _x(shape, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _pair_linear(n_in: int, n_out: int, seed: int) -> tuple:
    """A float64 Linear of each library holding the same weights."""
    ours, theirs = nn.Linear(n_in, n_out, dtype="float64", seed=seed), tnn.Linear(n_in, n_out).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(_np(ours.weight).T))
        theirs.bias.copy_(torch.tensor(_np(ours.bias)))
    return ours, theirs


# --- PReLU: torch's parameter name ---------------------------------------------------------------------------------
@pytest.mark.parametrize("num_parameters, init", [(1, 0.25), (3, 0.1)])
def test_prelu_parameter_is_weight_as_torch(num_parameters, init):
    ours = nn.PReLU(num_parameters=num_parameters, init=init, dtype="float64")
    theirs = tnn.PReLU(num_parameters=num_parameters, init=init, dtype=torch.float64)
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()] == ["weight"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np.testing.assert_array_equal(_np(ours.weight), _np(theirs.weight))
    assert repr(ours) == repr(theirs)
    x = _x((4, 3, 5), seed=num_parameters)
    xo, xt = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    c = _x((4, 3, 5), seed=9)
    (ours(xo) * ng.tensor(c)).sum().backward()
    (theirs(xt) * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(_np(ours.weight.grad), _np(theirs.weight.grad), rtol=1e-12)
    np.testing.assert_allclose(_np(xo.grad), _np(xt.grad), rtol=1e-12)


def test_prelu_loads_torch_state_and_old_alpha_name_warns():
    theirs = tnn.PReLU(2).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([0.3, -0.2], dtype=torch.float64))
    ours = nn.PReLU(2, dtype="float64")
    ours.load_state_dict({k: _np(v) for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(_np(ours.weight), [0.3, -0.2])
    with pytest.warns(DeprecationWarning, match=r"PReLU.alpha is now PReLU.weight"):
        assert ours.alpha is ours.weight
    names = [k for k, _ in nn.MLP([2, 3, 1], activation="prelu").named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "2.weight", "2.bias"]


@pytest.mark.parametrize("bad, kind", [(0, ValueError), (2.5, TypeError), ("3", TypeError)])
def test_prelu_refuses_a_bad_num_parameters(bad, kind):
    with pytest.raises(kind, match=r"PReLU: num_parameters must be a positive integer"):
        nn.PReLU(bad)


# --- Sequential(OrderedDict) ----------------------------------------------------------------------------------------
def _named_pair():
    lo, lt = _pair_linear(3, 4, seed=0)
    lo2, lt2 = _pair_linear(4, 2, seed=1)
    ours = nn.Sequential(OrderedDict([("fc", lo), ("act", nn.Tanh()), ("out", lo2)]))
    theirs = tnn.Sequential(OrderedDict([("fc", lt), ("act", tnn.Tanh()), ("out", lt2)]))
    return ours, theirs


def test_sequential_of_an_ordered_dict_takes_its_names_as_torch():
    ours, theirs = _named_pair()
    assert [k for k, _ in ours.named_modules()] == [k for k, _ in theirs.named_modules()]
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.fc is ours[0] and isinstance(ours.act, nn.Tanh) and ours[-1] is ours.out
    x = _x((5, 3))
    np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-12)
    assert list(ours[1:]._modules) == list(theirs[1:]._modules) == ["act", "out"]  # a slice keeps the names
    del ours[0], theirs[0]
    assert list(ours._modules) == list(theirs._modules) == ["0", "1"]  # torch renumbers after a deletion
    acts = OrderedDict([("a", nn.ReLU()), ("b", nn.Sigmoid())])
    assert repr(nn.Sequential(acts)) == repr(tnn.Sequential(OrderedDict([("a", tnn.ReLU()), ("b", tnn.Sigmoid())])))


def test_sequential_refuses_bad_entries_and_changes_nothing():
    with pytest.raises(TypeError, match=r"Sequential: argument 0 is a dict, not a Module; to name the layers pass one "
                                        r"OrderedDict"):  # fmt: skip
        nn.Sequential({"fc": nn.ReLU()})
    with pytest.raises(TypeError, match=r"Sequential: entry 'b' is a int, not a Module"):
        nn.Sequential(OrderedDict([("a", nn.ReLU()), ("b", 3)]))
    with pytest.raises(KeyError, match=r"contain no '\.'"):
        nn.Sequential(OrderedDict([("a.b", nn.ReLU())]))
    with pytest.raises(KeyError, match=r"already has an attribute 'forward'"):
        nn.Sequential(OrderedDict([("forward", nn.ReLU())]))


# --- hooks ------------------------------------------------------------------------------------------------------------
def _hooked_pair():
    lo, lt = _pair_linear(3, 4, seed=2)
    lo2, lt2 = _pair_linear(4, 2, seed=3)
    return nn.Sequential(lo, nn.Tanh(), lo2), tnn.Sequential(lt, tnn.Tanh(), lt2)


def _grads(model) -> list[np.ndarray]:
    return [_np(p.grad) for p in model.parameters()]


def test_hooks_replace_inputs_and_outputs_as_torch_in_values_and_gradients():
    ours, theirs = _hooked_pair()
    c = _x((6, 2), seed=5)
    for m in (ours, theirs):
        m[0].register_forward_pre_hook(lambda mod, args: args[0] * 0.5)  # one value: taken as (value,)
        m[0].register_forward_hook(lambda mod, args, out: out * 2 + args[0].sum())  # replaces the output
        m[2].register_forward_hook(lambda mod, args, out: None)  # None: unchanged
    x = _x((6, 3), seed=4)
    xo, xt = ng.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    np.testing.assert_allclose(_np(yo), _np(yt), rtol=1e-12)
    (yo * ng.tensor(c)).sum().backward()
    (yt * torch.tensor(c)).sum().backward()
    np.testing.assert_allclose(_np(xo.grad), _np(xt.grad), rtol=1e-12)
    for a, b, name in zip(_grads(ours), [_np(p.grad) for p in theirs.parameters()], ("w0", "b0", "w2", "b2")):
        np.testing.assert_allclose(a, b.T if a.ndim == 2 else b, rtol=1e-12, err_msg=name)


def test_hooks_with_kwargs_prepend_order_and_handles_as_torch():
    calls: dict[str, list] = {"ng": [], "torch": []}
    layers = {"ng": nn.Tanh(), "torch": tnn.Tanh()}
    handles = {}
    for lib, m in layers.items():
        log = calls[lib]
        handles[lib] = [
            m.register_forward_pre_hook(lambda mod, args, log=log: log.append("pre1")),
            m.register_forward_pre_hook(lambda mod, args, log=log: log.append("pre0"), prepend=True),
            m.register_forward_pre_hook(lambda mod, args, kw, log=log: (log.append(f"prekw{sorted(kw)}"), (args, kw))[1],
                                        with_kwargs=True),  # fmt: skip
            m.register_forward_hook(lambda mod, args, out, log=log: log.append("post1")),
            m.register_forward_hook(lambda mod, args, kw, out, log=log: log.append("postkw"), with_kwargs=True),
            m.register_forward_hook(lambda mod, args, out, log=log: log.append("post0"), prepend=True),
        ]
    layers["ng"](ng.tensor(_x(3)))
    layers["torch"](torch.tensor(_x(3)))
    assert calls["ng"] == calls["torch"] == ["pre0", "pre1", "prekw[]", "post0", "post1", "postkw"]
    for lib in layers:
        handles[lib][0].remove()
        handles[lib][0].remove()  # a second remove does nothing
        with handles[lib][3]:
            pass  # leaving the block removes it
        calls[lib].clear()
    layers["ng"](ng.tensor(_x(3)))
    layers["torch"](torch.tensor(_x(3)))
    assert calls["ng"] == calls["torch"] == ["pre0", "prekw[]", "post0", "postkw"]


def test_a_kwargs_pre_hook_must_return_args_and_kwargs():
    m = nn.Tanh()
    m.register_forward_pre_hook(lambda mod, args, kw: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"Tanh: a forward pre-hook registered with_kwargs=True must return None or a "
                                           r"tuple \(args, kwargs\)"):  # fmt: skip
        m(ng.tensor(_x(3)))
    with pytest.raises(TypeError, match="hook must be a callable"):
        m.register_forward_hook(3)


def test_a_hook_on_a_layer_of_an_mlp_sees_that_layer_as_in_torch():
    """An MLP fuses Linear and ReLU into one op; a hooked layer runs as itself, so its hook sees what a
    torch Sequential's does (the Linear's output before the ReLU)."""
    ours = nn.MLP([3, 4, 2], activation="relu", dtype="float64", seed=0)
    lt, lt2 = tnn.Linear(3, 4).double(), tnn.Linear(4, 2).double()
    theirs = tnn.Sequential(lt, tnn.ReLU(), lt2)
    with torch.no_grad():
        for o, t in ((ours[0], lt), (ours[2], lt2)):
            t.weight.copy_(torch.tensor(_np(o.weight).T))
            t.bias.copy_(torch.tensor(_np(o.bias)))
    seen: dict[str, list] = {"ng": [], "torch": []}
    ours[0].register_forward_hook(lambda m, a, out: seen["ng"].append(_np(out)))
    theirs[0].register_forward_hook(lambda m, a, out: seen["torch"].append(_np(out)))
    x = _x((5, 3), seed=1)
    np.testing.assert_allclose(_np(ours(ng.tensor(x))), _np(theirs(torch.tensor(x))), rtol=1e-12)
    assert (seen["torch"][0] < 0).any()  # the pre-activation, negatives included
    np.testing.assert_allclose(seen["ng"][0], seen["torch"][0], rtol=1e-12)


# --- hooks under ng.jit -----------------------------------------------------------------------------------------------
@pytest.mark.numpy_only(NUMPY_ONLY)
def test_a_compiled_function_traces_hooks_in_and_agrees_with_eager_calls():
    ours, theirs = _hooked_pair()
    for m in (ours, theirs):
        m[1].register_forward_hook(lambda mod, args, out: out * out + args[0])
    f = ng.jit(lambda x: (ours(x) ** 2).sum())
    for seed in range(4):
        x = _x((6, 3), seed=seed)
        xt = torch.tensor(x)
        got = f(x)
        np.testing.assert_allclose(_np(got), _np((theirs(xt) ** 2).sum()), rtol=1e-12)
        ours.zero_grad()
        got.backward()
        want = torch.autograd.grad((theirs(xt) ** 2).sum(), list(theirs.parameters()))
        for a, b in zip(_grads(ours), want):
            np.testing.assert_allclose(a, _np(b).T if a.ndim == 2 else _np(b), rtol=1e-10)
    assert f.traces == 1


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_registering_or_removing_a_hook_traces_a_compiled_function_again():
    model = nn.Sequential(nn.Linear(3, 2, dtype="float64", seed=0))
    f = ng.jit(lambda x: model(x))
    x = _x((4, 3))
    plain = _np(model(ng.tensor(x)))
    np.testing.assert_array_equal(_np(f(x)), plain)
    handle = model[0].register_forward_hook(lambda m, a, out: out + 10.0)
    np.testing.assert_array_equal(_np(f(x)), plain + 10.0)
    handle.remove()
    np.testing.assert_array_equal(_np(f(x)), plain)
    assert f.traces == 3


@pytest.mark.numpy_only(NUMPY_ONLY)
def test_a_compiled_training_step_with_a_hook_equals_the_eager_step_bitwise():
    def setup():
        model = nn.Sequential(nn.Linear(3, 4, seed=0), nn.Tanh(), nn.Linear(4, 1, seed=1))
        model[1].register_forward_hook(lambda m, args, out: out * 0.5 + args[0] * 0.1)  # a leaky, scaled tanh
        opt = ng.optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = ng.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return model, step

    (eager, step_e), (compiled, step_c) = setup(), setup()
    step_c = ng.jit(step_c)
    rng = np.random.default_rng(0)
    for _ in range(10):
        x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 1)).astype(np.float32)
        np.testing.assert_array_equal(_np(step_c(x, y)), _np(step_e(x, y)))
    assert step_c.traces == 1
    for (k, a), b in zip(eager.state_dict().items(), compiled.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=k)
