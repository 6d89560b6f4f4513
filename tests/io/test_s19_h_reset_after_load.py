"""A model built by ``ng.io.load`` draws again with ``reset_parameters()`` as one built by hand."""

import numpy as np

import nablagrad as ng


def test_reset_parameters_after_load_draws_the_default_scheme(tmp_path):
    m = ng.nn.Sequential(ng.nn.Linear(4, 3), ng.nn.ReLU(), ng.nn.Linear(3, 1))
    ng.io.save(m, tmp_path / "m.safetensors")
    loaded = ng.io.load(tmp_path / "m.safetensors")
    first = loaded[0]
    w, b = first.weight.numpy().copy(), first.bias.numpy().copy()
    first.reset_parameters()
    bound = 1 / np.sqrt(4)  # PyTorch's U(±1/√in) for weight and bias
    assert not np.array_equal(first.weight.numpy(), w) and not np.array_equal(first.bias.numpy(), b)
    assert np.abs(first.weight.numpy()).max() <= bound and np.abs(first.bias.numpy()).max() <= bound
    assert np.any(first.bias.numpy() != 0)  # not zeroed, as a loaded layer's reset did before
