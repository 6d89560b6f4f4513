"""What ``torch.optim`` refuses, nablagrad refuses too, naming the fix: a non-leaf tensor as a parameter,
a ``.grad`` that is not a tensor of the parameter's kind, a closure that is not a function — and a
refused step changes nothing."""

import numpy as np
import pytest
import torch

import nablagrad as ng


def _param():
    return ng.tensor(np.array([1.0, -2.0, 3.0], np.float32), requires_grad=True)


def test_a_non_leaf_tensor_is_refused_as_torch_refuses_it():
    w = _param()
    with pytest.raises(ValueError, match="non-leaf"):
        torch.optim.SGD([torch.ones(3, requires_grad=True) * 2], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam: can't optimise a non-leaf tensor \(shape \(3,\), computed by mul"):
        ng.optim.Adam([w * 2])


@pytest.mark.parametrize("bad", [np.ones(3, np.float32), [1.0, 1.0, 1.0], "x"], ids=["ndarray", "list", "str"])
@pytest.mark.parametrize("opt_cls", [ng.optim.SGD, ng.optim.Adam])
def test_a_gradient_that_is_not_a_tensor_is_refused_and_nothing_changes(opt_cls, bad):
    w = _param()
    opt = opt_cls([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()  # a steady state first: the refusal must also come from the steady step
    (w * w).sum().backward()
    before = w.numpy().copy()
    with pytest.raises(TypeError, match="assigned grad expected to be a Tensor or None"):
        w.grad = bad  # refused at once, as torch refuses it
    w._grad = bad  # past that check (a corrupted gradient): the step refuses it too
    with pytest.raises(TypeError, match=r"step: the gradient of a parameter of shape \(3,\) \(float32\) is"):
        opt.step()
    np.testing.assert_array_equal(w.numpy(), before)


def test_a_complex_or_integer_gradient_of_a_real_parameter_is_refused():
    w = _param()
    opt = ng.optim.Adam([w])
    for dtype in (np.complex64, np.int64):
        with pytest.raises(RuntimeError, match=f"gradient with dtype {np.dtype(dtype)}"):
            w.grad = ng.tensor(np.ones(3, dtype))  # refused at once, as torch refuses it
        w._grad = ng.tensor(np.ones(3, dtype))  # past that check: the step refuses it too
        with pytest.raises(TypeError, match=f"a tensor of dtype {np.dtype(dtype)}"):
            opt.step()
    np.testing.assert_array_equal(w.numpy(), np.array([1.0, -2.0, 3.0], np.float32))
    assert opt.state == {} or all(not s for s in opt.state.values())


def test_a_closure_that_is_not_callable_is_refused():
    w = _param()
    opt = ng.optim.SGD([w], lr=0.1)
    with pytest.raises(TypeError, match="closure must be a function"):
        opt.step(closure=5)


def _adam_mid_run(steps=3, zero=False, **kw):
    """Adam after ``steps`` steps (from the third on, the steady path with bounds carried), with random
    gradients or, with ``zero``, zero ones (the first moment and its carried bound stay 0)."""
    rng = np.random.default_rng(2)
    params = [ng.tensor(rng.standard_normal(s), requires_grad=True) for s in [(40, 4), (4,)]]
    opt = ng.optim.Adam(params, lr=1e-2, **kw)
    for _ in range(steps):
        for p in params:
            p.grad = ng.tensor(np.zeros(p.shape) if zero else rng.standard_normal(p.shape))
        opt.step()
    return opt, params, rng


@pytest.mark.parametrize("lr, grads", [(float("nan"), "random"), (float("inf"), "zero")], ids=["nan-lr", "inf-lr-zero-grad"])
def test_a_learning_rate_set_to_nan_or_inf_mid_run_is_refused_and_changes_nothing(fast, lr, grads):
    """The update would write NaN (``p − nan·…``, or ``0·∞`` with a zero first moment): the step is refused
    before it writes, on the compiled kernels' carried bounds as on the NumPy path."""
    opt, params, rng = _adam_mid_run(zero=grads == "zero")  # zero: only lr = inf makes the update NaN (0·∞)
    opt.param_groups[0]["lr"] = lr
    for p in params:
        p.grad = ng.tensor(rng.standard_normal(p.shape) if grads == "random" else np.zeros(p.shape))
    def host(v):  # a state buffer of any array library (or a step count) as NumPy
        return ng.as_tensor(v).numpy().copy() if hasattr(v, "shape") else v

    before = [p.numpy().copy() for p in params]
    state = [{k: host(v) for k, v in opt.state[id(p)].items()} for p in params]
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        opt.step()
    for p, w, s in zip(params, before, state):
        np.testing.assert_array_equal(p.numpy(), w)
        for k, v in s.items():
            np.testing.assert_array_equal(host(opt.state[id(p)][k]), v)


def test_amsgrad_switched_off_mid_run_is_plain_adam_as_in_torch(fast, step_with_torch):
    """``group["amsgrad"] = False`` after some steps: the update no longer takes the running maximum
    (torch.optim.Adam's behaviour; the buffer stays in the state)."""
    rng = np.random.default_rng(3)
    init = [rng.standard_normal(s) for s in [(6, 4), (4,)]]
    ours = [ng.tensor(w, requires_grad=True) for w in init]
    theirs = [torch.tensor(w, requires_grad=True) for w in init]
    opt, topt = ng.optim.Adam(ours, lr=0.05, amsgrad=True), torch.optim.Adam(theirs, lr=0.05, amsgrad=True)
    for t in range(8):
        if t == 4:
            opt.param_groups[0]["amsgrad"] = topt.param_groups[0]["amsgrad"] = False
        scale = 3.0 if t < 2 else 0.1  # large early gradients: the maximum differs from v afterwards
        grads = [scale * rng.standard_normal(p.shape) for p in ours]
        step_with_torch(opt, topt, ours, theirs, grads, rtol=1e-10, atol=1e-12, msg=f"step {t}")


def test_amsgrad_switched_on_mid_run_takes_the_maximum_from_then_on(fast):
    """torch.optim.Adam raises KeyError (no ``max_exp_avg_sq`` in the state); nablagrad starts the running
    maximum at that step (from 0, so that step is plain Adam's) and keeps ``max ← max(max, v)`` after it."""
    opt, params, rng = _adam_mid_run()
    ref, _, _ = _adam_mid_run()
    opt.param_groups[0]["amsgrad"] = True
    grads = [rng.standard_normal(p.shape) for p in params]
    for p, q, g in zip(params, ref.param_groups[0]["params"], grads):
        p.grad, q.grad = ng.tensor(g), ng.tensor(g)
    opt.step()
    ref.step()  # plain Adam: the switch step is the same update
    for p, q in zip(params, ref.param_groups[0]["params"]):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    for _ in range(3):
        before = [ng.as_tensor(opt.state[id(p)]["max_exp_avg_sq"]).numpy().copy() for p in params]
        for p in params:
            p.grad = ng.tensor(5 * rng.standard_normal(p.shape))
        opt.step()
        for p, b in zip(params, before):
            v = ng.as_tensor(opt.state[id(p)]["exp_avg_sq"]).numpy()
            np.testing.assert_array_equal(ng.as_tensor(opt.state[id(p)]["max_exp_avg_sq"]).numpy(), np.maximum(b, v))
