"""Grad-mode switches as PyTorch's: no_grad / enable_grad / inference_mode / set_grad_enabled as context managers
(reusable, re-entrant) and as decorators — bare or called, on functions and on generator functions — against
torch's own switches on the same program."""

import threading

import numpy as np
import torch

import nablagrad as ng
from nablagrad.autodiff import grad_mode


def _records(lib, x) -> bool:
    return (x * 2).requires_grad


def _pair():
    return ng.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)


def test_bare_and_called_decorators_as_torch():
    x, xt = _pair()
    for ours, theirs in ((ng.no_grad, torch.no_grad), (grad_mode.inference_mode, torch.inference_mode)):
        for wrap, wrap_t in ((ours, theirs), (ours(), theirs())):

            @wrap
            def f(a):
                """doc"""
                return a * 2

            @wrap_t
            def ft(a):
                return a * 2

            assert f(x).requires_grad == ft(xt).requires_grad is False
            assert f.__name__ == "f" and f.__doc__ == "doc"
            assert _records(ng, x) and _records(torch, xt)  # the decorator changed nothing outside its calls


def test_enable_grad_decorator_inside_no_grad():
    x, xt = _pair()

    @ng.enable_grad()
    def f(a):
        return a * 2

    @torch.enable_grad()
    def ft(a):
        return a * 2

    with ng.no_grad(), torch.no_grad():
        assert f(x).requires_grad == ft(xt).requires_grad is True
        assert not _records(ng, x)


def _trace_generator(lib, x):
    """What a generator decorated with lib.no_grad() sees at each step, and what its caller sees in between."""

    @lib.no_grad()
    def gen(a):
        got = yield a * 2
        seen.append(("inside after send", got, (a * 1).requires_grad))
        yield a * 3
        return "done"

    seen = []
    g = gen(x)
    seen.append(("first", next(g).requires_grad, (x * 1).requires_grad))
    seen.append(("second", g.send(5).requires_grad, (x * 1).requires_grad))
    try:
        next(g)
    except StopIteration as stop:
        seen.append(("return", stop.value))
    return seen


def test_no_grad_on_a_generator_function_as_torch():
    x, xt = _pair()
    assert _trace_generator(ng, x) == _trace_generator(torch, xt)
    assert ng.is_grad_enabled()


def test_generator_close_and_throw_run_in_the_mode():
    x = ng.tensor([1.0], requires_grad=True)
    modes = []

    @ng.no_grad()
    def gen():
        try:
            yield 1
        except KeyError:
            modes.append(("thrown", ng.is_grad_enabled()))
            yield 2
        finally:
            modes.append(("closed", ng.is_grad_enabled()))

    g = gen()
    next(g)
    assert g.throw(KeyError()) == 2
    g.close()
    assert modes == [("thrown", False), ("closed", False)]
    assert (x * 2).requires_grad


def test_one_switch_object_is_reusable_as_torch():
    x, xt = _pair()
    got = []
    for switch, t in ((ng.no_grad(), x), (torch.no_grad(), xt)):
        with switch:
            a = t * 2
        b = t * 2
        with switch:
            c = t * 2
        got.append([v.requires_grad for v in (a, b, c)])
    assert got[0] == got[1] == [False, True, False]


def test_one_switch_object_is_reentrant():
    # (torch's own no_grad object is not: a nested `with` of the same object leaves gradients off after the outer
    # block; here each block restores what it found)
    x = ng.tensor([1.0], requires_grad=True)
    switch = ng.no_grad()
    with switch:
        with switch:
            a = x * 2
        b = x * 2
    c = x * 2
    assert [v.requires_grad for v in (a, b, c)] == [False, False, True]


def test_set_grad_enabled_called_as_context_and_decorator_as_torch():
    x, xt = _pair()
    seen = []
    for lib, sge, t in ((ng, grad_mode.set_grad_enabled, x), (torch, torch.set_grad_enabled, xt)):
        row = []
        try:
            sge(False)  # called: the mode changes at once, until changed again
            row.append((t * 2).requires_grad)
            sge(True)
            row.append((t * 2).requires_grad)
            with sge(False):
                row.append((t * 2).requires_grad)
            row.append((t * 2).requires_grad)

            @sge(False)
            def f(a):
                return a * 2

            row += [(t * 2).requires_grad, f(t).requires_grad]  # decorating changes nothing now
            with lib.no_grad():
                with sge(True):
                    row.append((t * 2).requires_grad)
                row.append((t * 2).requires_grad)
        finally:
            sge(True)
        seen.append(row)
    assert seen[0] == seen[1] == [False, True, False, True, True, False, True, False]


def test_set_grad_enabled_off_is_per_thread():
    x = ng.tensor([1.0], requires_grad=True)
    other = []
    try:
        grad_mode.set_grad_enabled(False)
        t = threading.Thread(target=lambda: other.append((x * 2).requires_grad))
        t.start()
        t.join()
        here = (x * 2).requires_grad
    finally:
        grad_mode.set_grad_enabled(True)
    assert other == [True] and here is False
    assert (x * 2).requires_grad


def test_set_grad_enabled_refuses_a_non_bool_and_changes_nothing():
    for bad in (1, None, "no"):
        try:
            grad_mode.set_grad_enabled(bad)
        except TypeError as e:
            assert "True or False" in str(e)
        else:
            raise AssertionError("set_grad_enabled accepted a non-bool")
        assert ng.is_grad_enabled()


def test_mode_restored_after_an_exception_inside_a_decorated_function():
    @ng.no_grad()
    def boom():
        raise ValueError("inside")

    try:
        boom()
    except ValueError:
        pass
    assert ng.is_grad_enabled()
    x = ng.tensor(np.ones(2), requires_grad=True)
    assert (x * 2).requires_grad
