"""Every op of the rule table on another array library: value, VJP and JVP equal NumPy's to 1e-12."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff.api import OPS
from nablagrad.autodiff.primitive import TABLE

from .conftest import assert_device_equals_numpy

ROWS = sorted(name for name, row in TABLE.items() if row.kind != "function")
# where an op is defined on part of the line only, inputs inside it
DOMAIN = {"arccosh": (1.2, 2.0), "acosh": (1.2, 2.0)}


def _inputs(name: str):
    rng = np.random.default_rng(sum(map(ord, name)))
    lo, hi = DOMAIN.get(name, (0.2, 0.8))
    x = rng.uniform(lo, hi, (3, 4))
    y = rng.uniform(lo, hi, (4, 3) if name == "matmul" else (3, 4))
    return x, y


def _call(name: str, *args):
    return OPS[name](*args[: 2 if TABLE[name].kind == "binary" else 1])


def _value_and_grads(name: str, device):
    x, y = _inputs(name)
    a = ng.tensor(x, device=device, requires_grad=True)
    b = ng.tensor(y, device=device, requires_grad=True)
    out = _call(name, a, b)
    (out * out).sum().backward()
    grads = [t.grad for t in (a, b) if t.grad is not None]
    return [out, *grads]


@pytest.mark.parametrize("name", ROWS)
def test_value_and_vjp_equal_numpy(name, device):
    assert_device_equals_numpy(lambda dev: _value_and_grads(name, dev), device)


@pytest.mark.parametrize("name", ["exp", "sin", "tanh", "sigmoid", "mul", "div", "power", "matmul", "logsumexp", "max"])
def test_jvp_and_second_derivative_equal_numpy(name, device):
    x, y = _inputs(name)

    def results(dev):
        a = ng.tensor(x, device=dev)
        t = ng.tensor(np.ones_like(x), device=dev)
        value, tangent = ng.jvp(lambda v: _call(name, v, ng.tensor(y, device=dev)), (a,), (t,))
        hvp = ng.grad(lambda v: (ng.grad(lambda w: (_call(name, w, ng.tensor(y, device=dev)) ** 2).sum())(v) * t).sum())(a)
        return value, tangent, hvp

    assert_device_equals_numpy(results, device)
