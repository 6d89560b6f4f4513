"""The torch-oracle op table of ``tests/autodiff/test_ops_table.py`` (every op users reach for,
with its PyTorch counterpart) run on another array library: value and VJP equal NumPy's to
1e-12.  The ops listed in :data:`NOT_YET` do not run there yet; each is expected to fail (strict
xfail), so this list shrinks the day one starts working."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import nablagrad as ng

from .conftest import assert_device_equals_numpy


def _table():
    """``tests/autodiff/test_ops_table.py`` as a module (its folder is not a package)."""
    path = Path(__file__).parents[1] / "autodiff" / "test_ops_table.py"
    spec = importlib.util.spec_from_file_location("_ops_table_for_devices", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TABLE = _table()
CASES = TABLE.CASES

# every op of the table runs there now; one that stops (or a new one that cannot) goes here
NOT_YET: set[str] = set()


def _value_and_grads(name: str, device):
    f, _, shapes, gen = CASES[name]
    xs = [ng.tensor(a, device=device, requires_grad=True) for a in TABLE._inputs(shapes, gen, TABLE._seed(name))]
    out = f(*xs)
    cot = np.random.default_rng(7).standard_normal(out.shape)
    (out * ng.tensor(cot, device=device)).sum().backward()
    return [out, *(x.grad for x in xs)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_table_op_value_and_vjp_equal_numpy(name, device, request):
    if name in NOT_YET and ng.device(device).type != "cuda":
        request.applymarker(pytest.mark.xfail(strict=True, reason=f"{name}: not yet through the array API adapter"))
    assert_device_equals_numpy(lambda dev: _value_and_grads(name, dev), device)
