"""Module backward hooks: ``register_full_backward_hook``, ``register_full_backward_pre_hook`` and the deprecated
``register_backward_hook``, against PyTorch 2.13's.

Oracle: the same modules built in torch with the same weights (ours hold a Linear's weight as (in, out), torch as
(out, in): copied transposed); both record ``grad_input``/``grad_output`` (copies: torch reuses a gradient's memory
when it accumulates) and the order of the calls, and may replace gradients the same way."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
nn, tnn = ng.nn, torch.nn


def _pair_linear(n_in: int, n_out: int, seed: int) -> tuple:
    ours, theirs = nn.Linear(n_in, n_out, dtype="float64", seed=seed), tnn.Linear(n_in, n_out).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy().T))
        theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
    return ours, theirs


def _arr(g):
    if g is None:
        return None
    return g.numpy().copy() if isinstance(g, ng.Tensor) else g.detach().numpy().copy()


def _wire(modules: list[tuple[str, object]], log: list, gi_scale=None, go_scale=None, scaled=("",)) -> None:
    """A full backward hook and pre-hook on each module: each logs what it sees; ``scaled`` ones replace it."""
    for name, m in modules:

        def hook(mod, grad_input, grad_output, name=name):
            log.append(("hook", name, [_arr(g) for g in grad_input], [_arr(g) for g in grad_output]))
            if gi_scale is not None and name in scaled:
                return tuple(None if g is None else g * gi_scale for g in grad_input)
            return None

        def pre(mod, grad_output, name=name):
            log.append(("pre", name, [_arr(g) for g in grad_output]))
            if go_scale is not None and name in scaled:
                return tuple(None if g is None else g * go_scale for g in grad_output)
            return None

        m.register_full_backward_hook(hook)
        m.register_full_backward_pre_hook(pre)


def _same_log(ours: list, theirs: list) -> None:
    assert [e[:2] for e in ours] == [e[:2] for e in theirs]
    for a, b in zip(ours, theirs):
        for xs, ys in zip(a[2:], b[2:]):
            assert len(xs) == len(ys), (a[:2], len(xs), len(ys))
            for x, y in zip(xs, ys):
                assert (x is None) == (y is None), (a[:2], x, y)
                if x is not None:
                    np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


def _sequentials() -> tuple:
    a0, t0 = _pair_linear(3, 4, 0)
    a2, t2 = _pair_linear(4, 2, 1)
    return nn.Sequential(a0, nn.Tanh(), a2), tnn.Sequential(t0, tnn.Tanh(), t2)


def _named(seq) -> list[tuple[str, object]]:
    return [("seq", seq)] + [(str(i), m) for i, m in enumerate(seq)]


X = np.random.default_rng(0).standard_normal((5, 3))


@pytest.mark.parametrize("requires_grad", [True, False])
@pytest.mark.parametrize("gi_scale, go_scale, scaled", [(None, None, ()), (3.0, None, ("1",)), (None, -2.0, ("2",)),
                                                        (0.5, 4.0, ("1", "2", "seq"))])  # fmt: skip
def test_sequential_hooks_see_and_replace_what_torch_does(requires_grad, gi_scale, go_scale, scaled):
    """Values, order (nested modules: the container's pre-hook first, its hook last, or at once when no input
    requires grad) and the effect of replaced gradients on every upstream gradient."""
    ours, theirs = _sequentials()
    log_o, log_t = [], []
    _wire(_named(ours), log_o, gi_scale, go_scale, scaled)
    _wire(_named(theirs), log_t, gi_scale, go_scale, scaled)
    xo, xt = ng.tensor(X, requires_grad=requires_grad), torch.tensor(X, requires_grad=requires_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (both warn that the hooks fire at the outputs when x needs no grad)
        (ours(xo) ** 2).sum().backward()
        (theirs(xt) ** 2).sum().backward()
    _same_log(log_o, log_t)
    if requires_grad:
        np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    for i in (0, 2):
        np.testing.assert_allclose(ours[i].weight.grad.numpy(), theirs[i].weight.grad.numpy().T, rtol=1e-12)
        np.testing.assert_allclose(ours[i].bias.grad.numpy(), theirs[i].bias.grad.numpy(), rtol=1e-12)


class _Many(nn.Module):
    def forward(self, a, b, k):
        return a * b * k, (a + b).sum(), 7


class _TorchMany(tnn.Module):
    def forward(self, a, b, k):
        return a * b * k, (a + b).sum(), 7


def test_several_inputs_and_outputs_as_torch():
    """One entry per positional argument and per output (None for a number, and for an output no gradient
    reached), replacements by both hooks, two backward passes through one call (retain_graph)."""
    logs = {}
    for lib, m in (("o", _Many()), ("t", _TorchMany())):
        log = logs[lib] = []

        def hook(mod, gi, go, log=log):
            log.append(("hook", "m", [_arr(g) for g in gi], [_arr(g) for g in go]))
            return (gi[0] * 2, gi[1], None)

        def pre(mod, go, log=log):
            log.append(("pre", "m", [_arr(g) for g in go]))
            return (go[0] + 1, go[1], go[2])

        m.register_full_backward_hook(hook)
        m.register_full_backward_pre_hook(pre)
        t = ng.tensor if lib == "o" else torch.tensor
        a, b = t(X[:2], requires_grad=True), t(X[2:4], requires_grad=True)
        r = m(a, b, 3.0)
        (r[0] ** 2).sum().backward(retain_graph=True)
        (r[0].sum() + 2 * r[1]).backward()
        logs[lib + "grads"] = (_arr(a.grad), _arr(b.grad))
    _same_log(logs["o"], logs["t"])
    assert len(logs["o"]) == 4
    for x, y in zip(logs["ograds"], logs["tgrads"]):
        np.testing.assert_allclose(x, y, rtol=1e-12)


def test_grad_input_entries_for_tensors_without_grad_and_unused_inputs():
    """PyTorch's values: zeros for a tensor argument that needs no grad (or that forward does not use) when another
    one does; all None when none does; no entry for keyword arguments."""
    seen = []
    for lib in ("o", "t"):
        lin = (nn.Linear(2, 2, dtype="float64") if lib == "o" else tnn.Linear(2, 2).double())
        t = ng.tensor if lib == "o" else torch.tensor

        class Mul(nn.Module if lib == "o" else tnn.Module):
            def forward(self, a, b, unused, *, c):
                return a * b * c

        m = Mul()
        m.register_full_backward_hook(lambda mod, gi, go: seen.append((lib, [_arr(g) for g in gi])))
        lin.register_full_backward_hook(lambda mod, gi, go: seen.append((lib, [_arr(g) for g in gi])))
        a, b, u = t([1.0, 2.0], requires_grad=True), t([3.0, 5.0]), t([1.0, 1.0], requires_grad=True)
        m(a, b, u, c=t([2.0, 2.0], requires_grad=True)).sum().backward()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lin(t(np.ones((1, 2)))).sum().backward()
    ours, theirs = [e[1] for e in seen if e[0] == "o"], [e[1] for e in seen if e[0] == "t"]
    assert len(ours) == len(theirs) == 2
    for xs, ys in zip(ours, theirs):
        assert [x is None for x in xs] == [y is None for y in ys]
        for x, y in zip(xs, ys):
            if x is not None:
                np.testing.assert_allclose(x, y)
    assert ours[1] == [None]


def test_hook_sees_a_module_called_twice_and_grad_transform():
    ours, theirs = _pair_linear(2, 2, 3)
    logs: dict = {"o": [], "t": []}
    ours.register_full_backward_hook(lambda m, gi, go: logs["o"].append(_arr(gi[0])))
    theirs.register_full_backward_hook(lambda m, gi, go: logs["t"].append(_arr(gi[0])))
    xo, xt = ng.tensor(X[:1, :2], requires_grad=True), torch.tensor(X[:1, :2], requires_grad=True)
    (ours(ours(xo)) ** 2).sum().backward()
    (theirs(theirs(xt)) ** 2).sum().backward()
    assert len(logs["o"]) == len(logs["t"]) == 2
    for a, b in zip(logs["o"], logs["t"]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    # ng.grad runs the hooks too: a hook that zeroes grad_input zeroes the input's gradient
    ours.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    g = ng.grad(lambda x: (ours(x) ** 2).sum())(ng.tensor(X[:1, :2]))
    np.testing.assert_array_equal(g.numpy(), np.zeros((1, 2)))


def test_create_graph_differentiates_the_replaced_gradient_as_torch():
    ours, theirs = _pair_linear(2, 1, 0)
    for m in (ours, theirs):
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 3,))
    xo, xt = ng.tensor(X[:1, :2], requires_grad=True), torch.tensor(X[:1, :2], requires_grad=True)
    (ours(xo) ** 3).sum().backward(create_graph=True)
    go, xo.grad = xo.grad, None
    (gt,) = torch.autograd.grad((theirs(xt) ** 3).sum(), xt, create_graph=True)
    np.testing.assert_allclose(go.numpy(), gt.detach().numpy(), rtol=1e-12)
    go.sum().backward()
    gt.sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_handles_prepend_and_lists_taken_at_the_call():
    order = []
    ident = nn.Identity()
    ident.register_full_backward_hook(lambda m, gi, go: order.append(1))
    ident.register_full_backward_hook(lambda m, gi, go: order.append(2), prepend=True)
    ident.register_full_backward_pre_hook(lambda m, go: order.append("p1"))
    ident.register_full_backward_pre_hook(lambda m, go: order.append("p2"), prepend=True)
    with ident.register_full_backward_hook(lambda m, gi, go: order.append("gone")):
        pass
    y = ident(ng.ones(2, requires_grad=True))
    late = ident.register_full_backward_hook(lambda m, gi, go: order.append("late"))  # after the call: not called
    y.sum().backward()
    assert order == ["p2", "p1", 2, 1]  # torch's order
    late.remove()
    calls = []
    lin = nn.Linear(2, 2)
    handle = lin.register_full_backward_hook(lambda m, gi, go: calls.append(1))
    y = lin(ng.ones((1, 2), requires_grad=True))
    handle.remove()  # removed after the call: still called for it, as in PyTorch
    y.sum().backward()
    lin(ng.ones((1, 2), requires_grad=True)).sum().backward()
    assert calls == [1]
    copied = copy.deepcopy(nn.Identity())
    copied.register_full_backward_pre_hook(lambda m, go: calls.append("copy"))
    copy.deepcopy(copied)(ng.ones(2, requires_grad=True)).sum().backward()
    assert calls == [1, "copy"]


def test_refusals_as_torch():
    m, a, b = _Many(), ng.ones(2, requires_grad=True), ng.ones(2, requires_grad=True)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0],))
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 1, but expected 3"):
        m(a, b, 1.0)[0].sum().backward()
    m = _Many()
    m.register_full_backward_pre_hook(lambda mod, go: (go[0],))
    with pytest.raises(RuntimeError, match="invalid number of grad_output, got 1, but expected 3"):
        m(a, b, 1.0)[0].sum().backward()
    m = nn.Identity()
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0].double(),))
    with pytest.raises(RuntimeError, match="changed grad_input"):
        m(a).sum().backward()
    with pytest.raises(TypeError, match="callable"):
        m.register_full_backward_pre_hook(3)
    old = nn.Identity()
    with pytest.warns(FutureWarning, match="register_full_backward_hook"):
        old.register_backward_hook(lambda mod, gi, go: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
        old.register_full_backward_hook(lambda mod, gi, go: None)
    with pytest.raises(RuntimeError, match="Cannot use both"):
        m.register_backward_hook(lambda mod, gi, go: None)


def test_deprecated_register_backward_hook_runs_as_a_full_hook():
    seen = []
    ours, theirs = _pair_linear(3, 2, 4)
    with pytest.warns(FutureWarning):
        ours.register_backward_hook(lambda m, gi, go: seen.append(_arr(gi[0])))
    theirs.register_full_backward_hook(lambda m, gi, go: seen.append(_arr(gi[0])))
    xo, xt = ng.tensor(X[:2], requires_grad=True), torch.tensor(X[:2], requires_grad=True)
    ours(xo).sum().backward()
    theirs(xt).sum().backward()
    np.testing.assert_allclose(seen[0], seen[1], rtol=1e-12)


def test_output_not_a_tensor_or_tuple_warns_and_no_grad_wires_nothing():
    class Dict(nn.Module):
        def forward(self, a):
            return {"y": a * 2}

    m, calls = Dict(), []
    m.register_full_backward_hook(lambda mod, gi, go: calls.append(1))
    with pytest.warns(UserWarning, match="module output should be a Tensor or a tuple of Tensors"):
        out = m(ng.ones(2, requires_grad=True))
    out["y"].sum().backward()
    lin = nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda mod, gi, go: calls.append(2))
    with ng.no_grad():
        y = lin(ng.ones((1, 2), requires_grad=True))
    assert not y.requires_grad and calls == []


@pytest.mark.numpy_only("compiled programs are NumPy programs")
def test_jit_refuses_a_module_with_backward_hooks_and_fit_runs_eagerly():
    lin = nn.Linear(2, 1, seed=0)
    handle = lin.register_full_backward_hook(lambda m, gi, go: None)
    f = ng.jit(lambda x: lin(x).sum())
    with pytest.raises(ng.JitError, match="backward hooks"):
        f(ng.ones((3, 2)))
    handle.remove()  # traced again, without the hook
    np.testing.assert_allclose(f(ng.ones((3, 2))).item(), lin(ng.ones((3, 2))).sum().item(), rtol=1e-6)
    model = nn.Sequential(nn.Linear(2, 4, seed=0), nn.Tanh(), nn.Linear(4, 1, seed=1))
    seen = []
    model[2].register_full_backward_hook(lambda m, gi, go: seen.append(gi[0].shape))
    x = np.random.default_rng(0).standard_normal((16, 2)).astype("float32")
    ng.train.fit(model, nn.MSELoss(), ng.optim.SGD(model.parameters(), lr=0.1), x, x[:, :1] * 2, epochs=2,
                 batch_size=8, progress=False)  # fmt: skip
    assert seen == [(8, 4)] * 4


def test_fused_mlp_layers_run_as_themselves_when_hooked():
    mlp = nn.MLP([2, 3, 1], seed=0)
    seen = []
    mlp[1].register_full_backward_hook(lambda m, gi, go: seen.append((gi[0].shape, go[0].shape)))
    mlp(ng.ones((4, 2), requires_grad=True)).sum().backward()
    assert seen == [((4, 3), (4, 3))]


def test_writing_an_output_in_place_is_refused():
    class Two(nn.Module):
        def forward(self, a):
            return a * 2, a * 3

    m = Two()
    m.register_full_backward_hook(lambda mod, gi, go: None)
    x = ng.ones(2, requires_grad=True)
    y1, y2 = m(x)
    try:
        y2.add_(1)
    except RuntimeError:
        return  # refused at the write: fine too
    with pytest.raises(RuntimeError, match="modified inplace"):
        (y1 + y2).sum().backward()
