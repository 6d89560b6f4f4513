import numpy as np
import pytest

import nablagrad as ng
from nablagrad.backend import to_device
from nablagrad.nn import init


def test_module_collects_parameters_and_state_dict_roundtrip():
    m = ng.nn.MLP([4, 8, 3], activation="tanh", seed=0)
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert m.num_parameters() == 4 * 8 + 8 + 8 * 3 + 3
    sd = m.state_dict()
    m2 = ng.nn.MLP([4, 8, 3], activation="tanh", seed=1)
    m2.load_state_dict(sd)
    x = ng.randn(2, 4)
    np.testing.assert_array_equal(m(x).numpy(), m2(x).numpy())
    assert "Linear(in_features=4, out_features=8, bias=True)" in repr(m)


def test_load_state_dict_checks_shapes_before_writing():
    m = ng.nn.MLP([4, 8, 3], seed=0)
    before = m.state_dict()
    bad = dict(before)
    bad["2.weight"] = np.zeros((3, 8))
    with pytest.raises(ValueError, match=r"2.weight has shape \(3, 8\).*\(8, 3\)"):
        m.load_state_dict(bad)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(to_device(v, "cpu"), to_device(before[k], "cpu"))
    with pytest.raises(KeyError, match="missing"):
        m.load_state_dict({"0.weight": before["0.weight"]})


def test_train_eval_and_zero_grad():
    m = ng.nn.MLP([2, 3, 1], seed=0)
    m.eval()
    assert not any(x.training for x in m.modules())
    m.train()
    (m(ng.ones(1, 2)) ** 2).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_modules_accept_dtype():
    m = ng.nn.Linear(3, 2, dtype="float64")
    assert m.weight.dtype == np.float64
    assert ng.nn.Linear(3, 2).weight.dtype == np.float32


def test_linear_reports_feature_mismatch():
    with pytest.raises(ValueError, match=r"input has 5 features.*expected 3"):
        ng.nn.Linear(3, 2)(ng.zeros(4, 5))


@pytest.mark.parametrize(
    "fn, expected_std",
    [
        (init.xavier_uniform_, np.sqrt(2 / (400 + 300))),
        (init.xavier_normal_, np.sqrt(2 / (400 + 300))),
        (init.kaiming_uniform_, np.sqrt(2 / 400)),
        (init.kaiming_normal_, np.sqrt(2 / 400)),
        (init.lecture_uniform_, (1 / 400) / np.sqrt(12)),
    ],
)
def test_initialisers_have_the_documented_spread_and_are_seeded(fn, expected_std):
    w = ng.nn.Parameter(np.zeros((400, 300)))
    fn(w, seed=5)
    assert w.numpy().std() == pytest.approx(expected_std, rel=0.03)
    w2 = ng.nn.Parameter(np.zeros((400, 300)))
    fn(w2, seed=5)
    np.testing.assert_array_equal(w.numpy(), w2.numpy())


def test_lecture_uniform_bounds_and_relu_bias():
    w = ng.nn.Parameter(np.zeros((50, 10)))
    init.lecture_uniform_(w, seed=0)
    assert np.abs(w.numpy()).max() <= 1 / 100
    lin = ng.nn.Linear(5, 4, init="he_uniform", bias_init=0.1)
    np.testing.assert_allclose(lin.bias.numpy(), 0.1)


def test_regression_init_is_e_yx_over_e_x2(rng):
    X = rng.standard_normal((100, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    w = init.regression_init(X, y)
    np.testing.assert_allclose(w, (X * y[:, None]).mean(0) / (X**2).mean(0))


def _failing_on_call(n, real):
    """``to_device`` that raises on its ``n``-th call (a device running out of memory half-way)."""
    calls = []

    def to_device(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise MemoryError("out of device memory")
        return ng.tensor(real(*args, **kwargs)).data  # a new array, as a move to another device gives

    return to_device


def test_a_failed_module_to_changes_no_parameter(monkeypatch):
    import nablagrad.nn.module as module_mod

    model = ng.nn.MLP([3, 4, 2], seed=0, dtype="float32")
    before = [p.data for p in model.parameters()]
    monkeypatch.setattr(module_mod, "to_device", _failing_on_call(3, module_mod.to_device))
    with pytest.raises(MemoryError):
        model.to("float64")
    assert all(p.data is a and p.dtype == np.float32 for a, p in zip(before, model.parameters(), strict=True))


def test_a_failed_optimizer_to_changes_no_state(monkeypatch):
    import nablagrad.optim.optimizer as optimizer_mod

    model = ng.nn.MLP([3, 4, 2], seed=0, dtype="float64")
    opt = ng.optim.Adam(model.parameters(), lr=1e-2)
    model(ng.tensor(np.ones((2, 3)))).sum().backward()
    opt.step()
    before = {(i, k): v for i, s in opt.state.items() for k, v in s.items()}
    monkeypatch.setattr(optimizer_mod, "to_device", _failing_on_call(3, optimizer_mod.to_device))
    with pytest.raises(MemoryError):
        opt.to("cpu")
    assert all(opt.state[i][k] is v for (i, k), v in before.items())
