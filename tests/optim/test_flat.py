"""Optimisers stepped over one flat buffer equal the same optimisers stepped parameter by parameter.

Off NumPy there is no flat buffer (the optimiser steps each parameter): the equalities still hold
there, and only the test of the buffer's views is NumPy's alone."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim
from nablagrad.backend import to_device

CASES = [
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.SGD, dict(lr=0.05)),
    (optim.Momentum, dict(lr=0.05, forgetting=0.2)),
    (optim.AdaGrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01)),
    (optim.RMSProp, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adam, dict(lr=0.01)),
    (optim.Adam, dict(lr=0.01, weight_decay=0.01, amsgrad=True)),
    (optim.AdamW, dict(lr=0.01, weight_decay=0.05)),
]
IDS = [f"{c.__name__}-{'-'.join(map(str, kw.values()))}" for c, kw in CASES]


def _params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [ng.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in [(4, 3), (3,), (3, 2), (2,)]]


def _loss(params, x):
    W1, b1, W2, b2 = params
    return ((ng.tanh(x @ W1 + b1) @ W2 + b2) ** 2).mean()


def _run(cls, kw, dtype, steps, flat=True, skip=None, hook=None):
    params = _params(dtype)
    opt = cls(params, **kw)
    opt.elementwise = opt.elementwise and flat
    x = ng.tensor(np.random.default_rng(1).standard_normal((5, 4)).astype(dtype))
    for t in range(steps):
        opt.zero_grad()
        _loss(params, x).backward()
        if skip is not None and t == skip:
            params[1].grad = None
        opt.step()
        if hook is not None:
            opt = hook(t, params, opt) or opt
    return params, opt


@pytest.mark.parametrize("cls, kw", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flat_equals_per_parameter(cls, kw, dtype, fast):
    flat, opt = _run(cls, kw, dtype, 30)
    ref, ref_opt = _run(cls, kw, dtype, 30, flat=False)
    for p, q in zip(flat, ref):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    a, b = opt.state_dict(), ref_opt.state_dict()
    assert a["state"].keys() == b["state"].keys()
    for i in a["state"]:
        assert a["state"][i].keys() == b["state"][i].keys()
        for k, v in a["state"][i].items():
            np.testing.assert_array_equal(to_device(v, "cpu"), to_device(b["state"][i][k], "cpu"), err_msg=k)


@pytest.mark.numpy_only("the flat buffer is a NumPy array whose views are the parameters; other libraries step per parameter")
def test_parameters_and_state_are_views_of_one_buffer():
    params, opt = _run(optim.Adam, dict(lr=0.01), np.float32, 2)
    base = params[0].data.base
    assert base is not None and base.size == sum(p.size for p in params)
    assert all(p.data.base is base for p in params)
    for p in params:
        st = opt.state[id(p)]
        assert st["exp_avg"].shape == p.shape and st["exp_avg"].base is not None and st["step"] == 2
    saved = opt.state_dict()
    assert all(v["exp_avg"].data.base is None for v in saved["state"].values())  # copies, not views


@pytest.mark.parametrize("cls, kw", CASES[:1] + CASES[-3:], ids=IDS[:1] + IDS[-3:])
def test_load_state_dict_and_rebound_data_mid_run(cls, kw, fast):
    """A state loaded into a fresh optimiser, and parameters whose .data was replaced, are repacked."""

    def reload(t, params, opt):
        if t == 9:
            fresh = cls(params, **kw)
            fresh.load_state_dict(opt.state_dict())
            return fresh
        if t == 14:
            for p in params:
                p.data = ng.tensor(p.data).data  # a copy: no longer a view of the flat buffer
        return None

    got, _ = _run(cls, kw, np.float64, 25, hook=reload)
    ref, _ = _run(cls, kw, np.float64, 25, flat=False)
    for p, q in zip(got, ref):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_a_parameter_without_gradient_falls_back_per_parameter():
    got, opt = _run(optim.Adam, dict(lr=0.01), np.float64, 12, skip=3)
    ref, ref_opt = _run(optim.Adam, dict(lr=0.01), np.float64, 12, flat=False, skip=3)
    for p, q in zip(got, ref):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert opt.state[id(got[1])]["step"] == 11 and opt.state[id(got[0])]["step"] == 12


@pytest.mark.numpy_only("the flat gradient buffer exists on NumPy only")
@pytest.mark.parametrize("cls, kw", CASES[-3:], ids=IDS[-3:])
def test_adam_reads_each_gradient_in_place_with_the_fast_kernels(cls, kw, fast):
    """With the compiled kernels Adam never copies the gradients into the group's flat buffer (a
    sentinel left there survives the step); without them it gathers them first, as every optimiser."""
    params, opt = _run(cls, kw, np.float32, 3)
    (fg,) = opt._flat_groups.values()
    fg.grad[...] = np.nan
    x = ng.tensor(np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32))
    opt.zero_grad()
    _loss(params, x).backward()
    grads = np.concatenate([p.grad.numpy().ravel() for p in params])
    opt.step()
    if fast and ng.backend.kernels.fast_available():
        assert np.isnan(fg.grad).all()
    else:
        np.testing.assert_array_equal(fg.grad, grads)


@pytest.mark.numpy_only("strided gradient views are NumPy's")
def test_adam_with_a_strided_or_other_dtype_gradient_equals_the_per_parameter_path(fast):
    """Gradients the kernels cannot read in place (not contiguous, another dtype) are gathered."""

    results = []
    for flat in (True, False):
        params = _params(np.float32)
        opt = optim.Adam(params, lr=0.01)
        opt.elementwise = flat
        rng = np.random.default_rng(3)
        for _ in range(5):
            wide = rng.standard_normal((4, 6)).astype(np.float32)
            params[0].grad = ng.as_tensor(wide[:, ::2])  # a (4, 3) view with stride 2
            params[1].grad = ng.as_tensor(rng.standard_normal(3).astype(np.float32))
            params[2].grad = ng.as_tensor(rng.standard_normal((3, 2)).astype(np.float32))
            params[3].grad = ng.as_tensor(rng.standard_normal(2).astype(np.float32))
            assert not params[0].grad.data.flags.c_contiguous
            opt.step()
        results.append([p.numpy() for p in params])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.numpy_only("the flat gradient buffer exists on NumPy only")
def test_an_adam_subclass_that_overrides_update_gets_one_gradient_array(fast):
    """Only Adam's own update reads gradients in place; a subclass's update sees one flat array."""
    seen = []

    class LoggingAdam(optim.Adam):
        def update(self, p, g, state, group):
            seen.append(g)
            super().update(p, g, state, group)

    params = _params(np.float32)
    opt = LoggingAdam(params, lr=0.01)
    x = ng.tensor(np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32))
    for _ in range(2):
        opt.zero_grad()
        _loss(params, x).backward()
        opt.step()
    assert len(seen) == 2 and all(type(g) is np.ndarray and g.shape == (4 * 3 + 3 + 3 * 2 + 2,) for g in seen)


def _taken(p):
    """The ways a user takes an array from a parameter (all share its memory in PyTorch)."""
    return {"data": p.data, "numpy": p.numpy(), "asarray": np.asarray(p), "detach": p.detach().numpy()}


@pytest.mark.numpy_only("the flat buffer is a NumPy array whose views are the parameters; other libraries step per parameter")
@pytest.mark.parametrize("cls, kw", CASES, ids=IDS)
def test_arrays_taken_from_parameters_track_them_through_steps_as_in_torch(cls, kw):
    """Taken after the optimiser is built (before its first step, or after steps), an array is the parameter's
    memory and sees every step, as torch's ``p.data`` / ``p.detach().numpy()`` do.  Taken before the optimiser
    is built, it is the one thing that differs from torch: the group is packed into one buffer then, and the
    array keeps the values it had (documented in optim/flat.py; NumPy cannot join scattered arrays)."""
    torch = pytest.importorskip("torch")
    params = _params(np.float64)
    tparams = [torch.tensor(p.numpy().copy(), requires_grad=True) for p in params]
    before = [_taken(p)["numpy"] for p in params]
    tbefore = [tp.detach().numpy() for tp in tparams]
    opt = cls(params, **kw)
    torch_name = {"AdaGrad": "Adagrad", "RMSProp": "RMSprop", "Momentum": "SGD"}.get(cls.__name__, cls.__name__)
    topt = getattr(torch.optim, torch_name)(tparams, **(dict(lr=kw["lr"]) if cls is optim.Momentum else kw))
    after_build = [_taken(p) for p in params]
    x = np.random.default_rng(1).standard_normal((5, 4))
    later = None
    for t in range(6):
        opt.zero_grad()
        topt.zero_grad()
        _loss(params, ng.tensor(x)).backward()
        W1, b1, W2, b2 = tparams
        ((torch.tanh(torch.tensor(x) @ W1 + b1) @ W2 + b2) ** 2).mean().backward()
        opt.step()
        topt.step()
        if t == 2:
            later = [_taken(p) for p in params]
    for p, tp, tb, b, arrays, arrays_later in zip(params, tparams, tbefore, before, after_build, later):
        np.testing.assert_array_equal(tb, tp.detach().numpy())  # torch: an array taken at any time tracks
        for how, a in [*arrays.items(), *arrays_later.items()]:
            assert np.shares_memory(a, p.data), how
            np.testing.assert_array_equal(a, p.numpy(), err_msg=how)
        assert not np.shares_memory(b, p.data)  # taken before the optimiser was built: the initial values
        assert not np.array_equal(b, p.numpy())
    if cls is not optim.Momentum:  # the lectures' Momentum is not torch's SGD: only the aliasing is compared
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.numpy_only("the flat buffer is a NumPy array whose views are the parameters; other libraries step per parameter")
def test_a_second_optimiser_adopts_the_buffer_and_writes_in_place_keep_arrays_tracking():
    """A second optimiser on the same parameters adopts the first's buffer (no copy, so arrays taken before it
    still track); a failed step, a loaded model state and a loaded optimiser state all write in place."""
    model = ng.nn.Sequential(ng.nn.Linear(4, 3, dtype="float64"), ng.nn.Linear(3, 2, dtype="float64"))
    params = list(model.parameters())
    first = optim.Adam(params, lr=0.01)
    arrays = [p.numpy() for p in params]
    second = optim.SGD(params, lr=0.1, momentum=0.9)
    x = ng.tensor(np.random.default_rng(1).standard_normal((5, 4)))
    for opt in (first, second, first):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    for p in params:
        p.grad = ng.tensor(np.full(p.shape, np.nan))
    with pytest.raises(FloatingPointError):
        second.step()
    model.load_state_dict({k: v * 2 for k, v in model.state_dict().items()})
    fresh = optim.SGD(params, lr=0.1, momentum=0.9)
    fresh.load_state_dict(second.state_dict())
    fresh.zero_grad()
    (model(x) ** 2).mean().backward()
    fresh.step()
    for a, p in zip(arrays, params):
        assert np.shares_memory(a, p.data)
        np.testing.assert_array_equal(a, p.numpy())
