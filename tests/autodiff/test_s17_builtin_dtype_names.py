"""``ng.float``, ``ng.int`` and ``ng.bool`` name the dtypes torch.float, torch.int and torch.bool name (torch 2.13
as the oracle), without shadowing Python's builtins on ``from nablagrad import *``."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only


@pytest.mark.parametrize("name", ["float", "int", "bool"])
def test_builtin_named_dtypes_match_torch(name):
    ours = ng.tensor([0.0, 1.5, -2.0]).to(getattr(ng, name))
    theirs = torch.tensor([0.0, 1.5, -2.0]).to(getattr(torch, name))
    assert np.dtype(ours.dtype) == np.dtype(str(theirs.dtype).removeprefix("torch."))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_star_import_keeps_the_builtins():
    namespace: dict = {}
    exec("from nablagrad import *", namespace)  # noqa: S102 - the import a user writes
    assert "float" not in namespace and "int" not in namespace and "bool" not in namespace
