"""``nn.init`` with PyTorch's signatures: ``kaiming_*(t, a, mode, nonlinearity)``, ``calculate_gain``,
``xavier_*(t, gain)``, ``ones_``, ``trunc_normal_``.  Oracle: torch 2.13's ``torch.nn.init``.

Our weights are (in, out) where torch's are (out, in), so each torch tensor is the transpose of ours:
both then read the same ``fan_in`` and ``fan_out``.  Draws cannot be matched number for number, so
the spread is compared: the largest |w| of a large uniform draw against its bound, the std of a
large draw against torch's ``gain/√fan``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.nn import init

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("compares with torch on host arrays")

IN, OUT = 600, 400  # 240 000 draws: the sample std is within 0.3% of the true one
NAMES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
         "sigmoid", "tanh", "relu", "leaky_relu", "selu"]  # fmt: skip


def _ours(shape=(IN, OUT)) -> ng.nn.Parameter:
    return ng.nn.Parameter(np.zeros(shape))


def _torch_twin(shape=(IN, OUT)) -> torch.Tensor:
    """torch's layout of the same layer: the first two axes swapped."""
    return torch.empty(shape[1], shape[0], *shape[2:], dtype=torch.float64)


def _torch_fan(shape, mode: str) -> int:
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(_torch_twin(shape))
    return fan_in if mode == "fan_in" else fan_out


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("param", [None, 0, 0.2, 3])
def test_calculate_gain_is_torchs(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)


@pytest.mark.parametrize("args", [("identity",), ("softmax",), ("ReLU",), ("leaky_relu", True), ("leaky_relu", "0.1")])
def test_calculate_gain_refuses_what_torch_refuses(args):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(*args)
    with pytest.raises(ValueError, match="calculate_gain"):
        init.calculate_gain(*args)


CASES = [  # (a, mode, nonlinearity, shape)
    (0, "fan_in", "leaky_relu", (IN, OUT)),
    (math.sqrt(5), "fan_in", "leaky_relu", (IN, OUT)),  # torch's Linear default: bound 1/√fan_in
    (0.2, "fan_out", "leaky_relu", (IN, OUT)),
    (0, "fan_in", "relu", (IN, OUT)),
    (0, "fan_out", "relu", (IN, OUT)),
    (0, "fan_in", "tanh", (IN, OUT)),
    (0, "fan_in", "linear", (IN, OUT)),
    (0, "fan_out", "sigmoid", (IN, OUT)),
    (0, "fan_in", "selu", (IN, OUT)),
    (0, "fan_in", "relu", (40, 30, 3, 5)),  # a convolution-shaped weight: fans times the receptive field
    (0, "fan_out", "relu", (40, 30, 3, 5)),
]


@pytest.mark.parametrize("a, mode, nonlinearity, shape", CASES)
def test_kaiming_uniform_has_torchs_bound(a, mode, nonlinearity, shape):
    bound = torch.nn.init.calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _torch_fan(shape, mode))
    w = init.kaiming_uniform_(_ours(shape), a, mode, nonlinearity, seed=0).numpy()
    t = torch.nn.init.kaiming_uniform_(_torch_twin(shape), a=a, mode=mode, nonlinearity=nonlinearity).numpy()
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() == pytest.approx(np.abs(t).max(), rel=1e-3)  # both reach their bound
    assert w.std() == pytest.approx(t.std(), rel=0.02)


@pytest.mark.parametrize("a, mode, nonlinearity, shape", CASES)
def test_kaiming_normal_has_torchs_std(a, mode, nonlinearity, shape):
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(_torch_fan(shape, mode))
    w = init.kaiming_normal_(_ours(shape), a=a, mode=mode, nonlinearity=nonlinearity, seed=0).numpy()
    t = torch.nn.init.kaiming_normal_(_torch_twin(shape), a=a, mode=mode, nonlinearity=nonlinearity).numpy()
    assert w.std() == pytest.approx(std, rel=0.02)
    assert w.std() == pytest.approx(t.std(), rel=0.03)


def test_the_second_argument_is_the_negative_slope_not_a_gain():
    """The finding: ``kaiming_uniform_(w, √5)`` gave 4x torch's weights (√5 taken as the gain)."""
    w = init.kaiming_uniform_(_ours(), math.sqrt(5), seed=0).numpy()
    t = torch.nn.init.kaiming_uniform_(_torch_twin(), math.sqrt(5)).numpy()
    assert np.abs(w).max() <= 1 / math.sqrt(IN)
    assert np.abs(w).max() == pytest.approx(np.abs(t).max(), rel=1e-3)


def test_the_named_he_initialisers_keep_their_relu_gain():
    """``Linear(init="he_uniform")`` and the playground's ``kaiming_uniform`` draw what they drew before:
    U(±√2·√(3/fan_in)), torch's ``kaiming_uniform_(w, nonlinearity="relu")``."""
    for name in ("he_uniform", "kaiming_uniform"):
        w = _ours()
        init.INITIALISERS[name](w, seed=3)
        ref = np.random.default_rng(3).uniform(-math.sqrt(6 / IN), math.sqrt(6 / IN), (IN, OUT))
        np.testing.assert_allclose(w.numpy(), ref, rtol=1e-12)
    for name in ("he_normal", "kaiming_normal"):
        w = _ours()
        init.INITIALISERS[name](w, seed=3)
        np.testing.assert_allclose(w.numpy(), np.random.default_rng(3).normal(0, math.sqrt(2 / IN), (IN, OUT)), rtol=1e-12)
    t = torch.nn.init.kaiming_uniform_(_torch_twin(), nonlinearity="relu").numpy()
    lin = ng.nn.Linear(IN, OUT, init="he_uniform", dtype="float64", seed=1)
    assert np.abs(lin.weight.numpy()).max() == pytest.approx(np.abs(t).max(), rel=1e-3)


@pytest.mark.parametrize("mode", ["fan_avg", "FAN", 3])
def test_kaiming_refuses_an_unknown_mode_naming_it(mode):
    if isinstance(mode, str):
        with pytest.raises(ValueError, match="not supported"):
            torch.nn.init.kaiming_uniform_(_torch_twin(), mode=mode)
    w = _ours((3, 2))
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.raises(ValueError, match=rf"init\.{fn.__name__}: mode {mode!r} not supported.*'fan_in' or 'fan_out'"):
            fn(w, mode=mode)
    np.testing.assert_array_equal(w.numpy(), 0.0)  # refused: nothing written


def test_kaiming_mode_is_case_blind_and_zero_element_tensors_are_left_alone():
    w = init.kaiming_uniform_(_ours(), mode="FAN_OUT", nonlinearity="relu", seed=0).numpy()
    assert np.abs(w).max() <= math.sqrt(2) * math.sqrt(3 / OUT)
    empty = ng.nn.Parameter(np.zeros((0, 3)))
    with pytest.warns(UserWarning):
        torch.nn.init.kaiming_uniform_(torch.empty(3, 0))  # torch: a warned no-op
    assert init.kaiming_uniform_(empty) is empty and init.kaiming_normal_(empty) is empty
    assert empty.shape == (0, 3)


@pytest.mark.parametrize("gain", [1.0, 2.0, 5 / 3])
def test_xavier_keeps_its_gain(gain):
    w = init.xavier_uniform_(_ours(), gain, seed=0).numpy()
    t = torch.nn.init.xavier_uniform_(_torch_twin(), gain).numpy()
    assert np.abs(w).max() <= gain * math.sqrt(6 / (IN + OUT))
    assert np.abs(w).max() == pytest.approx(np.abs(t).max(), rel=1e-3)
    w = init.xavier_normal_(_ours(), gain=gain, seed=0).numpy()
    assert w.std() == pytest.approx(torch.nn.init.xavier_normal_(_torch_twin(), gain=gain).numpy().std(), rel=0.02)


def test_ones_is_torchs():
    np.testing.assert_array_equal(init.ones_(_ours((3, 4))).numpy(), torch.nn.init.ones_(torch.empty(3, 4)).numpy())


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -2.0, 2.0), (0.0, 1.0, 2.0, 3.0),
                                             (1.0, 2.0, 0.0, 1.0), (0.0, 1.0, -3.0, 0.5)])  # fmt: skip
def test_trunc_normal_matches_torchs_distribution(mean, std, a, b):
    w = init.trunc_normal_(_ours(), mean, std, a, b, seed=0).numpy()
    t = torch.nn.init.trunc_normal_(_torch_twin(), mean, std, a, b).numpy()
    assert a <= w.min() and w.max() <= b
    scale = min(std, b - a)
    assert w.mean() == pytest.approx(t.mean(), abs=0.01 * scale)
    assert w.std() == pytest.approx(t.std(), rel=0.02)
    w2 = init.trunc_normal_(_ours(), mean, std, a, b, seed=0).numpy()
    np.testing.assert_array_equal(w, w2)  # seeded


BAD_TRUNCATIONS = [({"std": 0.0}, "std > 0"), ({"a": 1.0, "b": 1.0}, "a < b"), ({"a": 8.0, "b": 9.0}, "nearer the mean"),
                   ({"std": "1"}, "finite number")]  # fmt: skip


@pytest.mark.parametrize("kwargs, match", BAD_TRUNCATIONS)
def test_trunc_normal_refuses_bad_bounds_and_writes_nothing(kwargs, match):
    w = _ours((3, 2))
    with pytest.raises((ValueError, TypeError), match=rf"init\.trunc_normal_: .*{match}"):
        init.trunc_normal_(w, **kwargs)
    np.testing.assert_array_equal(w.numpy(), 0.0)
