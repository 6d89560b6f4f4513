"""A torch.optim state_dict (its 0-d float 'step', its implementation flags foreach / fused / capturable /
differentiable=False in the groups) loads into the core optimisers and resumes the same trajectory;
differentiable=True, which would change the meaning, is refused with nothing changed."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad import optim

torch = pytest.importorskip("torch")

CASES = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.05, amsgrad=True)),
         ("AdamW", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
         ("Adagrad", dict(lr=0.1, lr_decay=0.01))]  # fmt: skip
FLAGS = {"SGD": dict(foreach=False, differentiable=False, fused=None), "Adam": dict(foreach=False, fused=None, capturable=False),
         "AdamW": dict(foreach=None, fused=None, capturable=False, differentiable=False),
         "RMSprop": dict(foreach=False, capturable=False, differentiable=False),
         "Adagrad": dict(foreach=None, fused=None, differentiable=False)}  # fmt: skip


def _grads(k):
    return np.random.default_rng(k).normal(size=(2, 3))


@pytest.mark.parametrize("name, kw", CASES)
def test_flags_are_taken_and_a_torch_state_dict_resumes(name, kw):
    x0 = np.random.default_rng(0).normal(size=(2, 3))
    ours, theirs = ng.nn.Parameter(ng.tensor(x0.copy())), torch.nn.Parameter(torch.tensor(x0.copy()))
    topt = getattr(torch.optim, name)([theirs], **kw, **FLAGS[name])
    opt = getattr(optim, name)([ours], **kw)
    for k in range(3):
        theirs.grad = torch.tensor(_grads(k))
        topt.step()
    saved = topt.state_dict()
    as_numpy = {"state": {i: {k: v.numpy() for k, v in s.items()} for i, s in saved["state"].items()},
                "param_groups": saved["param_groups"]}
    with ng.no_grad():
        ours.copy_(theirs.detach().numpy())
    opt.load_state_dict(as_numpy)
    for k in range(3, 8):
        ours.grad, theirs.grad = ng.tensor(_grads(k)), torch.tensor(_grads(k))
        opt.step()
        topt.step()
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("change, match", [(("group", "differentiable", True), r"unknown option\(s\) \['differentiable'\]"),
                                           (("state", "step", np.array(2.5)), "buffer 'step' of parameter 0"),
                                           (("state", "step", np.array(-1.0)), "buffer 'step' of parameter 0")])  # fmt: skip
def test_a_refused_torch_state_changes_nothing(change, match):
    p = ng.nn.Parameter(ng.tensor(np.ones(2)))
    opt = optim.Adam([p], lr=0.1)
    p.grad = ng.tensor(np.ones(2))
    opt.step()
    saved = opt.state_dict()
    where, key, value = change
    (saved["param_groups"][0] if where == "group" else saved["state"][0])[key] = value
    before, weights = opt.state_dict(), p.numpy().copy()
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(saved)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"] and after["state"][0]["step"] == 1
    moments = [ng.tensor(sd["state"][0]["exp_avg"]).numpy() for sd in (after, before)]
    np.testing.assert_array_equal(*moments)
    np.testing.assert_array_equal(p.numpy(), weights)
