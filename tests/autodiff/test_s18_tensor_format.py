"""A 0-d tensor in an f-string with a format spec, as PyTorch's; NumPy's reductions called on a tensor."""

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("spec", [".3f", "8.2e", "g", "+.1%"])
def test_a_one_element_tensor_formats_its_number_as_torch(spec):
    assert format(ng.tensor(1.5), spec) == format(torch.tensor(1.5), spec)


def test_a_tensor_of_several_entries_refuses_a_number_format():
    with pytest.raises(TypeError, match=r"one-element tensor.*shape \(2,\)"):
        format(ng.tensor([1.0, 2.0]), ".2f")


def test_numpy_sum_and_mean_of_a_tensor():
    t = ng.tensor([[1.0, 2.0], [3.0, 5.0]])
    assert float(np.sum(t)) == 11.0 and float(np.mean(t)) == 2.75
    np.testing.assert_array_equal(np.asarray(np.sum(t, axis=0)), [4.0, 7.0])
    with pytest.raises(TypeError, match="out= is not taken"):
        t.sum(out=np.zeros(()))
