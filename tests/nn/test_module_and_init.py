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


def _pair_of_nets():
    torch = pytest.importorskip("torch")
    ours = ng.nn.Sequential(ng.nn.Linear(3, 4), ng.nn.ReLU(), ng.nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    return torch, ours, theirs


def test_load_state_dict_returns_missing_and_unexpected_keys_as_torch():
    torch, ours, theirs = _pair_of_nets()
    assert ours.load_state_dict(ours.state_dict()) == tuple(theirs.load_state_dict(theirs.state_dict())) == ([], [])
    ours_sd, theirs_sd = dict(ours.state_dict()), dict(theirs.state_dict())
    for sd, extra in ((ours_sd, np.zeros(2)), (theirs_sd, torch.zeros(2))):
        del sd["0.bias"]
        sd["extra"] = extra
    got, want = ours.load_state_dict(ours_sd, strict=False), theirs.load_state_dict(theirs_sd, strict=False)
    assert (got.missing_keys, got.unexpected_keys) == (want.missing_keys, want.unexpected_keys) == (["0.bias"], ["extra"])
    assert repr(ours.load_state_dict(ours.state_dict())) == "<All keys matched successfully>"


def test_module_traversal_and_registration_follow_torch():
    torch, ours, theirs = _pair_of_nets()
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_parameters(recurse=False)] == [n for n, _ in theirs.named_parameters(recurse=False)] == []
    order, torch_order = [], []
    assert ours.apply(lambda m: order.append(type(m).__name__)) is ours
    theirs.apply(lambda m: torch_order.append(type(m).__name__))
    assert order == torch_order  # children first, then the module itself
    assert ours.requires_grad_(False) is ours and not any(p.requires_grad for p in ours.parameters())
    ours.requires_grad_()
    assert all(p.requires_grad for p in ours.parameters())
    ours.add_module("act", ng.nn.Tanh())
    ours.register_parameter("scale", ng.nn.Parameter(np.ones(1)))
    theirs.add_module("act", torch.nn.Tanh())
    theirs.register_parameter("scale", torch.nn.Parameter(torch.ones(1)))
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert len(ours) == len(theirs) == 4
    with pytest.raises(KeyError, match="'.'"):
        ours.add_module("a.b", ng.nn.ReLU())
    with pytest.raises(KeyError, match="already has an attribute 'forward'"):
        ours.add_module("forward", ng.nn.ReLU())
    with pytest.raises(TypeError, match="not a Parameter"):
        ours.register_parameter("w", np.ones(2))


def test_sequential_indexing_and_train_mode_as_torch():
    torch, ours, theirs = _pair_of_nets()
    head = ours[0:2]
    assert isinstance(head, ng.nn.Sequential) and len(head) == len(theirs[0:2]) == 2 and head[0] is ours[0]
    assert ours[-1] is ours[2]
    with pytest.raises(IndexError, match="index 3 is out of range for 3 modules"):
        ours[3]
    with pytest.raises(TypeError, match="int or a slice"):
        ours["0"]
    with pytest.raises(ValueError, match="boolean"):
        theirs.train("no")
    with pytest.raises(ValueError, match="mode must be True or False"):
        ours.train("no")
    assert ours.training  # the refused call changed nothing


def test_module_zero_grad_set_to_none_false_zeroes_in_place_as_torch():
    torch, ours, theirs = _pair_of_nets()
    ours(ng.randn(2, 3)).sum().backward()
    theirs(torch.randn(2, 3)).sum().backward()
    grads, torch_grads = [p.grad for p in ours.parameters()], [p.grad for p in theirs.parameters()]
    ours.zero_grad(set_to_none=False)
    theirs.zero_grad(set_to_none=False)
    for p, g, tp, tg in zip(ours.parameters(), grads, theirs.parameters(), torch_grads):
        assert p.grad is g and tp.grad is tg
        assert p.grad.shape == p.shape and not p.grad.numpy().any() and not tp.grad.any()
    ours.zero_grad()
    assert all(p.grad is None for p in ours.parameters())
