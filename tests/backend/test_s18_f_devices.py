"""Devices as a PyTorch user names and moves them, against torch 2.13 and NumPy: ``"cpu:0"`` is the CPU,
a ``torch.device`` is read by its name, an empty name is refused with the fix, ``t.to(other)`` and
``model.to(other)`` take ``other``'s device and dtype, and on array-api-strict's ``device1`` (which
refuses NumPy calls and ``None`` in an assignment index) ``x[:, None] = v`` writes what NumPy writes."""

from __future__ import annotations

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
xps = pytest.importorskip("array_api_strict", reason="array-api-strict is in the test dependency group")
DEV = xps.Device("device1")


@pytest.mark.parametrize("name", ["cpu", "cpu:0", "cpu:1"])
def test_cpu_with_an_index_is_the_cpu_as_in_torch(name):
    assert torch.zeros(1, device=name).device.type == "cpu"  # the oracle: torch puts it on the CPU
    t = ng.tensor([1.0, 2.0], device=name)
    assert t.device == "cpu" and type(t.data) is np.ndarray
    assert ng.nn.Linear(2, 1).to(name).weight.device == "cpu"


@pytest.mark.parametrize("spec", [torch.device("cpu"), torch.device("cpu", 0)])
def test_a_torch_device_is_read_by_its_name(spec):
    assert ng.tensor([1.0], device=spec).device == "cpu"


@pytest.mark.parametrize("name", ["", ":0"])
def test_an_empty_device_name_is_refused_with_the_fix(name):
    with pytest.raises(RuntimeError):
        torch.device(name)  # torch refuses it too ("Device string must not be empty")
    with pytest.raises(ValueError, match=r"device name is empty.*'cpu', 'cuda'"):
        ng.tensor([1.0], device=name)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_another_tensor_takes_its_dtype_and_device(dtype):
    tt = torch.tensor([1.5, -2.0]).to(torch.zeros(1, dtype=getattr(torch, dtype)))
    x = ng.tensor([1.5, -2.0], requires_grad=True)
    y = x.to(ng.zeros(1, dtype=dtype))
    assert (y.device, y.dtype.name) == ("cpu", str(tt.dtype).removeprefix("torch."))
    z = x.to(ng.zeros(1, dtype=dtype, device=DEV))
    assert z.device == ng.device(DEV) and z.dtype == np.dtype(dtype)
    (z * z).sum().backward()  # the copy is recorded: the gradient comes back to the CPU leaf
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.5, -2.0]), rtol=1e-6)


def test_module_to_another_tensor_takes_its_device_and_floating_dtype():
    model = ng.nn.Linear(3, 2).to(ng.zeros(1, dtype="float64", device=DEV))
    for p in model.parameters():
        assert p.device == ng.device(DEV) and p.dtype == np.float64
    with pytest.raises(TypeError):  # torch refuses an integer tensor's dtype for a module, so does nablagrad
        torch.nn.Linear(3, 2).to(torch.zeros(1, dtype=torch.int64))
    with pytest.raises(TypeError, match="floating point"):
        ng.nn.Linear(3, 2).to(ng.tensor([1]))


INDICES = [(slice(None), None), (None,), None, (0, None, slice(1, 3)), (Ellipsis, None), (None, 1, None)]


@pytest.mark.parametrize("index", INDICES, ids=str)
@pytest.mark.parametrize("value", ["number", "row", "full"])
def test_assigning_through_a_new_axis_on_a_device_writes_what_numpy_writes(index, value):
    want = np.arange(12.0).reshape(3, 4)
    target = want[index].shape
    v = {"number": 7.0, "row": np.arange(target[-1]) + 0.5, "full": -np.arange(np.prod(target)).reshape(target)}[value]
    got = ng.tensor(want, device=DEV)
    got[index] = v if value == "number" else ng.tensor(v, device=DEV)
    want[index] = v  # the oracle: NumPy's assignment
    assert got.device == ng.device(DEV)
    np.testing.assert_array_equal(got.numpy(), want)


def test_backward_through_a_new_axis_index_on_a_device():
    x = ng.tensor(np.arange(12.0).reshape(3, 4), device=DEV, requires_grad=True)
    (x[:, None] * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 4), 2.0))


def test_backward_from_a_cpu_loss_into_a_device_leaf():
    w = ng.tensor([1.0, -2.0], dtype="float64", device=DEV, requires_grad=True)
    (w.cpu() ** 2).sum().backward()
    assert w.grad.device == ng.device(DEV)
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, -4.0])


def test_a_list_of_device_scalars_becomes_a_tensor_as_in_torch():
    t = ng.tensor([ng.tensor(1.0, device=DEV), ng.tensor(2.5, device=DEV)])
    assert t.dtype == np.float32 and t.numpy().tolist() == [1.0, 2.5]
