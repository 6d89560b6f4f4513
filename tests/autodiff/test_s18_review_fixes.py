"""The review's findings on this session's engine changes, each against its oracle (torch 2.13, NumPy)."""

import math

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff import grad_mode

torch = pytest.importorskip("torch")


def test_backward_inputs_with_one_upstream_of_another_gives_each_its_whole_gradient():
    a = ng.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    b = a * a
    (b * 3).sum().backward(inputs=[b, a])
    ta = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    tb = ta * ta
    tb.retain_grad()
    (tb * 3).sum().backward(inputs=[tb, ta])
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())


def test_grad_of_an_input_upstream_of_another_matches_torch_autograd_grad():
    a = ng.tensor([1.0, -2.0], dtype="float64", requires_grad=True)
    b = a.sin() * a
    c = (b.exp() + a).sum()
    ours = ng.autodiff.grad_of(c, [b, a])
    ta = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    tb = ta.sin() * ta
    theirs = torch.autograd.grad((tb.exp() + ta).sum(), [tb, ta])
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-14)


def test_set_grad_enabled_reused_as_a_context_sets_its_mode_each_time_as_torch():
    seen = {}
    for lib, make, on in (("ng", ng.set_grad_enabled, ng.is_grad_enabled), ("torch", torch.set_grad_enabled,
                                                                           torch.is_grad_enabled)):  # fmt: skip
        s = make(False)
        inside = []
        with s:
            inside.append(on())
        after_first = on()
        with s:
            inside.append(on())
        seen[lib] = (inside, after_first, on())
        torch.set_grad_enabled(True)
        ng.set_grad_enabled(True)
    assert seen["ng"] == seen["torch"]


def test_a_plain_set_grad_enabled_call_is_undone_by_switching_back():
    before = grad_mode.active
    ng.set_grad_enabled(False)
    x = ng.tensor([1.0], requires_grad=True)
    assert not (x * 2).requires_grad and grad_mode.active == before + 1
    ng.set_grad_enabled(False)  # (counted once per thread)
    assert grad_mode.active == before + 1
    ng.set_grad_enabled(True)
    assert (x * 2).requires_grad and grad_mode.active == before


def test_nanquantile_of_integers_interpolates_as_quantile_and_numpy():
    x = np.array([[1, 2, 7], [4, 4, 9]])
    for q in (0.5, 0.3):
        want = np.quantile(x.astype(np.float64), q, axis=1)
        np.testing.assert_allclose(ng.nanquantile(ng.tensor(x), q, dim=1).numpy(), want, rtol=1e-6)
        np.testing.assert_allclose(ng.quantile(ng.tensor(x), q, dim=1).numpy(), want, rtol=1e-6)


def test_renorm_with_the_max_norm_scales_rows_as_torch():
    x = np.arange(10.0).reshape(2, 5) - 3
    got = ng.renorm(ng.tensor(x), math.inf, 0, 5).numpy()
    np.testing.assert_allclose(got, torch.renorm(torch.tensor(x), math.inf, 0, 5).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="p must be a positive number"):
        ng.renorm(ng.tensor(x), math.nan, 0, 5)


def test_gradcheck_tuple_form_takes_numbers_beside_tensors_as_torch():
    x = ng.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    tx = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, k: a * k, (tx, 2.0))
    assert ng.gradcheck(lambda a, k: a * k, (x, 2.0)) is True


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.flip(x, (0, 0)),
        lambda m, x: m.tensor_split(x, 0),
        lambda m, x: m.repeat_interleave(x, 2, dim=0, output_size=3),
    ],
)
def test_shape_refusals_are_runtime_errors_as_torch(call):
    with pytest.raises(RuntimeError):
        call(torch, torch.ones(2, 2))
    with pytest.raises(RuntimeError) as ours:
        call(ng, ng.ones((2, 2)))
    assert isinstance(ours.value, ValueError)  # (and a ValueError, as the library's other refusals)


@pytest.mark.parametrize("axis", [10**30, 2, -3])
def test_softmax_axis_out_of_range_names_the_range_as_torch_refuses_it(axis):
    with pytest.raises(IndexError):
        torch.softmax(torch.ones(2, 3), dim=min(axis, 2**62))
    with pytest.raises(IndexError, match=r"softmax: axis .* out of range .* give an int in -2\.\.1"):
        ng.softmax(ng.ones((2, 3)), axis=axis)
