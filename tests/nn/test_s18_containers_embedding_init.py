"""nn.ParameterList / nn.ParameterDict (registered as torch registers them), nn.Embedding and F.embedding against
torch 2.13 (values, gradients with padding_idx / scale_grad_by_freq / max_norm, from_pretrained, defaults, refusals),
and init.orthogonal_ / eye_ / sparse_ by their defining properties and torch's refusals."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.nn import init

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("compares with torch on host arrays")


def _p(*shape, k=0) -> ng.nn.Parameter:
    return ng.nn.Parameter(np.random.default_rng(k).standard_normal(shape))


# --- ParameterList / ParameterDict ---------------------------------------------------------------------
class _Holder(ng.nn.Module):
    def __init__(self):
        super().__init__()
        self.plist = ng.nn.ParameterList([_p(2, 3), ng.tensor(np.ones(3))])  # a plain tensor becomes a Parameter
        self.pdict = ng.nn.ParameterDict({"alpha": _p(4), "beta": _p(1, k=1)})


class _TorchHolder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.plist = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2, 3)), torch.ones(3)])
        self.pdict = torch.nn.ParameterDict({"alpha": torch.nn.Parameter(torch.zeros(4)),
                                             "beta": torch.nn.Parameter(torch.zeros(1))})  # fmt: skip


def test_containers_register_their_parameters_under_torchs_names():
    ours, theirs = _Holder(), _TorchHolder()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(isinstance(p, ng.nn.Parameter) and p.requires_grad for p in ours.plist)
    assert list(ours.pdict.keys()) == ["alpha", "beta"] and ours.pdict.alpha is ours.pdict["alpha"]
    assert len(list(ours.parameters())) == 4


def test_parameter_list_as_a_list():
    pl = ng.nn.ParameterList()
    pl.append(_p(2)).extend([_p(3), _p(4)])
    pl += [_p(5)]
    assert len(pl) == 4 and [p.shape for p in pl] == [(2,), (3,), (4,), (5,)]
    assert pl[-1].shape == (5,) and [p.shape for p in pl[1:3]] == [(3,), (4,)]
    new = _p(7)
    pl[0] = new
    assert pl[0] is new and pl.state_dict()["0"].shape == (7,)
    with pytest.raises(IndexError):
        pl[4]  # noqa: B018
    with pytest.raises(TypeError):
        pl.append(np.ones(2))  # not a tensor: refused (wrap it in a Parameter)
    with pytest.raises(TypeError):
        pl.extend([_p(1), "x"])
    assert len(pl) == 4  # the refused extend added nothing


def test_parameter_dict_as_a_dict_and_the_optimiser_steps_its_entries():
    pd = ng.nn.ParameterDict()
    pd["w"] = _p(3)
    pd.update([("b", _p(1)), ("c", _p(2))])
    pd.update({"d": ng.tensor(np.zeros(2))})
    assert list(pd) == ["w", "b", "c", "d"] and "c" in pd and len(pd) == 4
    assert pd.pop("c").shape == (2,) and "c" not in pd
    del pd["d"]
    assert pd.get("d") is None and list(pd.keys()) == ["w", "b"]
    with pytest.raises(KeyError):
        pd["nope"]  # noqa: B018
    with pytest.raises(KeyError):
        pd["a.b"] = _p(1)
    before = pd["w"].numpy().copy()
    opt = ng.optim.SGD(pd.parameters(), lr=0.5)
    (pd["w"].sum() + pd["b"].sum()).backward()
    opt.step()
    np.testing.assert_allclose(pd["w"].numpy(), before - 0.5)


# --- Embedding ---------------------------------------------------------------------------------------------
W = np.random.default_rng(1).standard_normal((7, 3))
IDX = np.array([[0, 2, 2, 6], [3, 0, 2, 5]])


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"scale_grad_by_freq": True},
                                {"scale_grad_by_freq": True, "padding_idx": 0}, {"max_norm": 1.0},
                                {"max_norm": 0.5, "norm_type": 1.0}, {"sparse": True}])  # fmt: skip
def test_embedding_values_gradients_and_renorm_are_torchs(kw):
    tw, nw = torch.tensor(W.copy(), requires_grad=True), ng.tensor(W.copy(), requires_grad=True)
    rt = torch.nn.functional.embedding(torch.tensor(IDX), tw, **kw)
    rn = ng.nn.functional.embedding(ng.tensor(IDX), nw, **kw)
    np.testing.assert_allclose(rn.numpy(), rt.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(nw.numpy(), tw.detach().numpy(), rtol=1e-14)  # max_norm rescaled the same rows in place
    up = np.random.default_rng(2).standard_normal(rt.shape)
    (rt * torch.tensor(up)).sum().backward()
    (rn * ng.tensor(up)).sum().backward()
    grad = tw.grad.to_dense() if tw.grad.is_sparse else tw.grad
    np.testing.assert_allclose(nw.grad.numpy(), grad.numpy(), rtol=1e-13, atol=1e-15)


def test_embedding_module_defaults_padding_row_and_training_as_torch():
    e = ng.nn.Embedding(1000, 8, padding_idx=3, seed=0)
    t = torch.nn.Embedding(1000, 8, padding_idx=3)
    assert e.weight.shape == tuple(t.weight.shape) and e.weight.dtype == np.float32 and repr(e) == repr(t)
    assert np.all(e.weight.numpy()[3] == 0) and abs(e.weight.numpy().std() - 1) < 0.05  # N(0, 1), the padding row zeros
    opt = ng.optim.SGD(e.parameters(), lr=0.1)
    e(np.array([3, 1, 3])).sum().backward()
    opt.step()
    assert np.all(e.weight.numpy()[3] == 0) and np.all(e.weight.grad.numpy()[3] == 0)
    assert repr(ng.nn.Embedding(5, 2, max_norm=1.0, scale_grad_by_freq=True)) == repr(
        torch.nn.Embedding(5, 2, max_norm=1.0, scale_grad_by_freq=True))


def test_from_pretrained_copies_and_freezes_by_default():
    pre = np.random.default_rng(3).standard_normal((5, 2))
    frozen = ng.nn.Embedding.from_pretrained(ng.tensor(pre))
    tfrozen = torch.nn.Embedding.from_pretrained(torch.tensor(pre))
    assert frozen.weight.requires_grad is tfrozen.weight.requires_grad is False
    np.testing.assert_array_equal(frozen(np.array([4, 1])).numpy(), tfrozen(torch.tensor([4, 1])).numpy())
    free = ng.nn.Embedding.from_pretrained(pre, freeze=False, padding_idx=1)
    assert free.weight.requires_grad and free.padding_idx == 1
    np.testing.assert_array_equal(free.weight.numpy()[1], pre[1])  # as torch's: the padding row is not zeroed
    pre[0, 0] = 99.0
    assert free.weight.numpy()[0, 0] != 99.0  # a copy


@pytest.mark.parametrize("make", [
    lambda nn, T: nn.Embedding(10, 3)(T(np.array([10]))),
    lambda nn, T: nn.Embedding(10, 3)(T(np.array([-1]))),
    lambda nn, T: nn.Embedding(10, 3)(T(np.array([1.0]))),
    lambda nn, T: nn.Embedding(3, 2, padding_idx=3),
    lambda nn, T: nn.Embedding(3, 2, padding_idx=-4),
    lambda nn, T: nn.Embedding.from_pretrained(T(np.ones(3))),
], ids=["index too large", "negative index", "float indices", "padding_idx too large", "padding_idx too small",
        "1-D pretrained"])  # fmt: skip
def test_embedding_refuses_what_torch_refuses_with_its_error_type(make):
    with pytest.raises(Exception) as theirs:
        make(torch.nn, torch.tensor)
    with pytest.raises(Exception) as ours:
        make(ng.nn, ng.tensor)
    assert isinstance(ours.value, theirs.type), (ours.value, theirs.type)


def test_embedding_indices_are_read_on_every_compiled_call():
    e = ng.nn.Embedding(6, 2, padding_idx=0, seed=1)
    f = ng.jit(lambda idx: e(idx).sum(axis=-1))
    for idx in (np.array([1, 2]), np.array([5, 0])):
        np.testing.assert_allclose(f(ng.tensor(idx)).numpy(), e.weight.numpy()[idx].sum(axis=-1), rtol=1e-6)


# --- init --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 3), (3, 6), (4, 4), (3, 2, 2)])
def test_orthogonal_is_semi_orthogonal_times_gain(shape):
    p = ng.nn.Parameter(np.zeros(shape))
    init.orthogonal_(p, gain=2.0, seed=0)
    w = p.numpy().reshape(shape[0], -1)
    small = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T  # the smaller side orthonormal, as torch's
    np.testing.assert_allclose(small, 4.0 * np.eye(len(small)), atol=1e-12)
    t = torch.empty(shape[::-1][:2][::-1] if len(shape) == 2 else shape, dtype=torch.float64)
    torch.nn.init.orthogonal_(t, gain=2.0)
    tw = t.reshape(t.shape[0], -1).numpy()
    tsmall = tw.T @ tw if tw.shape[0] >= tw.shape[1] else tw @ tw.T
    np.testing.assert_allclose(tsmall, small, atol=1e-12)  # the property torch's draw has


def test_orthogonal_is_reproducible_and_a_linear_layer_keeps_norms():
    a, b = ng.nn.Linear(8, 5), ng.nn.Linear(8, 5)
    init.orthogonal_(a.weight, seed=3)
    init.orthogonal_(b.weight, seed=3)
    np.testing.assert_array_equal(a.weight.numpy(), b.weight.numpy())
    v = np.random.default_rng(0).standard_normal((5,))
    np.testing.assert_allclose(np.linalg.norm(a.weight.numpy().astype(np.float64) @ v), np.linalg.norm(v), rtol=1e-5)


def test_eye_is_torchs_identity_in_our_layout():
    p = ng.nn.Parameter(np.full((3, 5), 7.0))
    t = torch.empty(5, 3, dtype=torch.float64)  # torch's (out, in) twin
    torch.nn.init.eye_(t)
    np.testing.assert_array_equal(init.eye_(p).numpy(), t.numpy().T)


def test_sparse_zeros_each_inputs_share_of_outgoing_weights():
    p = ng.nn.Parameter(np.zeros((200, 50)))
    init.sparse_(p, 0.3, std=0.5, seed=0)
    zeros_per_input = (p.numpy() == 0).sum(axis=1)
    t = torch.empty(50, 200, dtype=torch.float64)  # torch's (out, in): zeros counted per column (per input)
    torch.nn.init.sparse_(t, 0.3, std=0.5)
    np.testing.assert_array_equal(zeros_per_input, (t.numpy() == 0).sum(axis=0))
    nonzero = p.numpy()[p.numpy() != 0]
    assert abs(nonzero.std() - 0.5) < 0.02


@pytest.mark.parametrize("name, args", [("orthogonal_", ()), ("eye_", ()), ("sparse_", (0.1,))])
def test_initialisers_refuse_the_ranks_torch_refuses(name, args):
    with pytest.raises(ValueError):
        getattr(torch.nn.init, name)(torch.empty(3), *args)
    p = ng.nn.Parameter(np.zeros(3))
    with pytest.raises(ValueError, match=name):
        getattr(init, name)(p, *args)
    np.testing.assert_array_equal(p.numpy(), np.zeros(3))
