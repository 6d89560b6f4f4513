"""Views share their base's version counter, as PyTorch's: a write through a view, or through its base,
counts for both — and only for tensors that still share the memory.  The records are not copied by
``pickle`` or ``copy``: a copy has memory of its own."""

import copy
import pickle

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.numpy_only("NumPy arrays say they are views (``base``); other libraries' are not asked")

A = np.array([[0.5, 1.5, 2.5], [1.0, 2.0, 3.0]])
VIEWS = {
    "reshape": lambda x: x.reshape(-1),
    "slice": lambda x: x[0:1],
    "transpose": lambda x: x.T,
    "detach": lambda x: x.detach(),
    "unsqueeze": lambda x: x.unsqueeze(0),
}


def _refused(L, view, write_base: bool) -> bool:
    """``log`` saves x; a write through a view of x (or x written, with the op saving the view)."""
    a = L.tensor(A, requires_grad=True)
    x = a * 1.0
    v = view(x)
    y = (v.log() if write_base else x.log()).sum()
    target = x if write_base else v
    with L.no_grad():
        target.mul_(2.0)
    try:
        y.backward()
    except RuntimeError as exc:
        assert "modified by an inplace operation" in str(exc)
        return True
    return False


@pytest.mark.parametrize(
    "name, write_base",
    [(n, False) for n in VIEWS] + [(n, True) for n in VIEWS if n != "detach"],  # (a detached view has no graph)
    ids=[f"{n}, through the view" for n in VIEWS] + [f"{n}, through the base" for n in VIEWS if n != "detach"],
)
def test_a_write_shared_with_a_saved_value_is_refused_as_torch_refuses_it(name, write_base):
    assert _refused(torch, VIEWS[name], write_base)
    assert _refused(ng, VIEWS[name], write_base)


def test_a_copy_or_an_unrelated_tensor_is_not_counted():
    """clone() and an advanced index copy; a tensor whose data was rebound no longer shares the old memory."""
    a = ng.tensor(A, requires_grad=True)
    x = a * 1.0
    y = x.log().sum()
    c, fancy = x.clone(), x[[0, 1]]
    with ng.no_grad():
        c.mul_(2.0)
        fancy.mul_(2.0)
    y.backward()
    np.testing.assert_allclose(a.grad.numpy(), 1 / A)

    w = ng.tensor(A.copy())
    v = w[0]
    z = ng.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (z * v).sum()
    w.data = A.copy()  # rebound: v keeps the old memory
    w.bump_version_()
    y.backward()
    np.testing.assert_allclose(z.grad.numpy(), A[0])


def test_pickle_and_deepcopy_leave_the_sharing_records_behind():
    model = ng.nn.Linear(3, 2, seed=0)
    alive = model.weight.T  # a view of the parameter, recorded on it
    assert any(t is alive for t in model.weight._shares)
    for copied in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        view = model.weight.T
        w = copied.weight
        assert getattr(w, "_shares", None) is None and w.requires_grad
        np.testing.assert_array_equal(w.numpy(), model.weight.numpy())
        x = ng.tensor(np.ones((1, view.shape[0]), np.float32), requires_grad=True)
        y = (x @ view).sum()  # saves the original's view
        with ng.no_grad():
            w.mul_(2.0)  # the copy's memory: nothing of the original's graph changed
        y.backward()
        np.testing.assert_allclose(x.grad.numpy(), view.numpy().sum(axis=1).reshape(1, -1), rtol=1e-6)
