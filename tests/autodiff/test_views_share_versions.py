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


# --- recorded writes (a value that requires grad): the view and its base follow each other, as PyTorch's ----------
def _rows_written(L):
    x = L.tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = L.zeros((2, 2), dtype=L.float64)
    out[0][1] = x[0] * 5  # through the view out[0]
    out[1].copy_(x * 2)
    return x, out


def _slice_scaled(L):
    x = L.tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    y = x * 1.0
    y[1:3].mul_(10.0)
    return x, y**2


def _base_written(L):
    x = L.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    b = x * 1.0
    v = b[0]
    b.mul_(2.0)  # v sees it
    return x, v * v


def _reshape_written(L):
    x = L.tensor(A, requires_grad=True)
    w = L.tensor(np.arange(6.0), requires_grad=True)
    y = x * 1.0
    y.reshape(-1).mul_(w)  # through a reshape view
    return x, y.sin() + w.sum()


def _transpose_written(L):
    x = L.tensor(A, requires_grad=True)
    y = x * 2.0
    y.T[1].add_(x[:, 0] * 3.0)  # a row of the transpose: a column of y
    return x, y * y


RECORDED = {"rows of a buffer": _rows_written, "a slice scaled": _slice_scaled, "the base written": _base_written,
            "through a reshape": _reshape_written, "through a transpose": _transpose_written}  # fmt: skip


@pytest.mark.parametrize("name", RECORDED)
def test_recorded_writes_through_views_give_torch_s_values_and_gradients(name):
    results = []
    for L in (ng, torch):
        x, out = RECORDED[name](L)
        values = out.detach().numpy().copy()
        out.sum().backward()
        results.append((values, x.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_a_recorded_write_through_a_view_inside_grad_as_torch_func():
    def f(L):
        def g(x):
            y = x.clone()
            y[1:3].mul_(10.0)
            return (y**2).sum()

        return g

    ours = ng.value_and_grad(f(ng))(ng.tensor([1.0, 2.0, 3.0, 4.0], dtype="float64"))
    theirs = torch.func.grad_and_value(f(torch))(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    np.testing.assert_allclose(ours[0].numpy(), theirs[1].numpy())
    np.testing.assert_allclose(ours[1].numpy(), theirs[0].numpy())


@pytest.mark.parametrize("view", ["slice", "reshape"])
def test_a_recorded_write_through_a_view_of_a_leaf_is_refused_as_torch_refuses_it(view):
    for L in (torch, ng):
        leaf = L.tensor(A, requires_grad=True)
        w = L.tensor(2.0, dtype=L.float64, requires_grad=True)
        v = leaf[0] if view == "slice" else leaf.reshape(-1)
        with pytest.raises(RuntimeError, match="view of a leaf"):
            v.mul_(w)
    np.testing.assert_array_equal(leaf.numpy(), A)  # refused before anything was written


def test_a_view_write_that_overwrites_a_saved_output_is_refused_as_torch_refuses_it():
    for L in (torch, ng):
        x = L.tensor(A, requires_grad=True)
        y = x.exp()  # exp's backward reads its output
        y.T[1].add_(x[:, 0] * 3.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (y * y).sum().backward()


def test_a_recorded_write_through_a_broadcast_view_is_refused():
    x = ng.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 1.0
    wide = ng.broadcast_to(y, (3, 2))
    with pytest.raises((RuntimeError, ValueError), match="several entries are one|read-only"):
        wide.mul_(x)
    np.testing.assert_array_equal(y.detach().numpy(), [1.0, 2.0])


def test_a_write_into_a_detached_view_reaches_the_base_s_values_not_its_graph():
    for L in (ng, torch):
        x = L.tensor(np.array([1.0, 2.0]), requires_grad=True)
        t = L.tensor(np.array([3.0, 4.0]), requires_grad=True)
        h = x * 2.0
        d = h.detach()
        d.add_(t)  # recorded on d; h's values change, h's graph does not
        np.testing.assert_array_equal(h.detach().numpy(), [5.0, 8.0])
        h.sum().backward()
        assert t.grad is None
        np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])
        leaf = L.tensor(np.array([1.0, 2.0]), requires_grad=True)
        leaf.detach().add_(t)  # allowed: the leaf's values, no graph
        np.testing.assert_array_equal(leaf.detach().numpy(), [4.0, 6.0])


def test_views_of_views_follow_a_recorded_write():
    for L in (ng, torch):
        x = L.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
        h = x * 1.0
        inner = h[1:][0:1]
        h[0:1].add_(x[:1])  # recorded: h made anew, its views (and theirs) too
        with L.no_grad():
            h[1:2].fill_(100.0)
        np.testing.assert_array_equal(inner.detach().numpy(), [100.0])
