"""``Tensor`` methods generated from the rule table, called as a PyTorch user calls them: each
against the same method of a ``torch.Tensor`` (value and gradient), and no row whose name is a
``torch.Tensor`` method lacks the method here."""

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.autodiff.primitive import TABLE

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(5)
A = RNG.standard_normal((2, 3, 4))
M = RNG.standard_normal((3, 3)) + 3 * np.eye(3)  # well-conditioned
SPD = M @ M.T
MASK = A > 0

# (method name, input, positional args, keyword args) — the same call on both libraries
CASES = [
    ("sign", A, (), {}),
    ("swapaxes", A, (0, 2), {}),
    ("swapdims", A, (1, -1), {}),
    ("movedim", A, (0, -1), {}),
    ("moveaxis", A, ((0, 1), (2, 0)), {}),
    ("repeat", A[0], (2, 1, 3), {}),  # PyTorch's repeat: tiles
    ("repeat", A[0], ((1, 2),), {}),
    ("repeat_interleave", A[0], (2,), {"dim": 1}),
    ("take", A, (np.array([[0, 5], [23, 5]]),), {}),
    ("ravel", A, (), {}),
    ("flatten", A, (), {}),
    ("flatten", A, (1,), {}),
    ("flatten", A, (0, 1), {}),
    ("unsqueeze", A, (-1,), {}),
    ("squeeze", A[:1], (0,), {}),
    ("squeeze", A[:1, :, :1], (), {}),
    ("squeeze", A, (1,), {}),  # not of size 1: left alone, as PyTorch
    ("broadcast_to", A[0, :1], ((2, 3, 4),), {}),
    ("where", A, (MASK, 0.5), {}),
    ("clamp", A, (), {"min": -0.5, "max": 0.3}),
    ("clip", A, (-0.5,), {}),
    ("argsort", A, (), {"dim": 1, "descending": True}),
    ("norm", A, (), {}),
    ("norm", A, (1,), {}),
    ("norm", A, (3,), {"dim": -1, "keepdim": True}),
    ("norm", A, ("fro",), {"dim": (1, 2)}),
    ("norm", A[0], ("nuc",), {}),
    ("norm", A, ("nuc",), {"dim": (0, 2), "keepdim": True}),
    ("det", M, (), {}),
    ("inverse", M, (), {}),
    ("pinverse", A[0], (), {}),
    ("matrix_power", M, (3,), {}),
    ("trace", M, (), {}),
    ("cholesky", SPD, (), {}),
    ("std", A, (), {"dim": 1}),
    ("var", A, (), {}),
    ("logsumexp", A, (), {"dim": 2}),
    ("cumsum", A, (), {"dim": 1}),
    ("cumprod", A, (0,), {}),
    ("prod", A, (), {"dim": 2}),
    ("diff", A, (), {"dim": 1}),
    ("flip", A, ((0, 2),), {}),
    ("roll", A, (1, 2), {}),
    ("tril", M, (), {"diagonal": -1}),
    ("triu", M, (1,), {}),
    ("diagonal", A, (), {"offset": 1, "dim1": 1, "dim2": 2}),
    ("diag", M, (), {}),
    ("tile", A[0], ((2, 1),), {}),
    ("chunk", A, (2,), {"dim": 2}),
    ("split", A, (1,), {"dim": 0}),
]


def _torch_arg(a):
    return torch.tensor(a) if isinstance(a, np.ndarray) else a


def _leaves(out):
    return list(out) if isinstance(out, tuple | list) else [out]


@pytest.mark.parametrize("name, x, args, kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_method_matches_torch_method(name, x, args, kwargs):
    t = ng.tensor(x, requires_grad=True)
    tt = torch.tensor(x, requires_grad=True)
    outs = _leaves(getattr(t, name)(*args, **kwargs))
    refs = _leaves(getattr(tt, name)(*map(_torch_arg, args), **kwargs))
    assert len(outs) == len(refs)
    for out, ref in zip(outs, refs):
        assert out.shape == tuple(ref.shape), name
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    if refs[0].dtype.is_floating_point:
        cots = [RNG.standard_normal(r.shape) for r in refs]
        sum((o * ng.tensor(c)).sum() for o, c in zip(outs, cots)).backward()
        sum((r * torch.tensor(c)).sum() for r, c in zip(refs, cots)).backward()
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_qr_and_slogdet_methods_match_torch():
    q, r = ng.tensor(A[0].T).qr()
    tq, tr = torch.tensor(A[0].T).qr()
    np.testing.assert_allclose(np.abs(q.numpy()), np.abs(tq.numpy()), rtol=1e-12)
    np.testing.assert_allclose(np.abs(r.numpy()), np.abs(tr.numpy()), rtol=1e-12, atol=1e-14)
    sign, logabs = ng.tensor(-M).slogdet()
    tsign, tlogabs = torch.tensor(-M).slogdet()
    assert sign.item() == tsign.item()
    np.testing.assert_allclose(logabs.item(), tlogabs.item(), rtol=1e-13)


def test_every_row_named_like_a_torch_method_is_a_method():
    missing = [n for n, row in TABLE.items() if hasattr(torch.Tensor, n) and not row.method]
    assert not missing
    assert not [n for n, row in TABLE.items() if row.method and not hasattr(ng.Tensor, n)]
