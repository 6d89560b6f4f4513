"""The device API as a PyTorch user asks for it: ``ng.tensor(..., device=)``, ``.device``, ``.to``,
``.cpu``, ``.numpy``, the error for operands on two devices and for ``"cuda"`` without CuPy."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.backend import namespace

from .conftest import assert_same, host


def test_cpu_tensors_are_numpy_arrays_on_device_cpu():
    t = ng.tensor([1.0, 2.0])
    assert t.device == "cpu" and str(t.device) == "cpu" and type(t.data) is np.ndarray
    assert t.to("cpu") is t and t.cpu() is t


def test_tensor_on_a_device_and_back(device):
    x = np.arange(6.0).reshape(2, 3)
    t = ng.tensor(x, device=device)
    assert t.device == ng.device(device) and t.device != "cpu"
    assert t.dtype == np.float64 and t.shape == (2, 3)
    back = t.cpu()
    assert back.device == "cpu" and type(back.data) is np.ndarray
    np.testing.assert_array_equal(back.numpy(), x)
    np.testing.assert_array_equal(t.numpy(), x)  # one call copies to the host
    assert t.tolist() == x.tolist() and t[1, 2].item() == 5.0
    assert f"device='{t.device}'" in repr(t)


def test_to_takes_a_dtype_a_device_or_both(device):
    t = ng.tensor(np.ones(3))
    assert t.to("float32").dtype == np.float32 and t.to(np.float32).device == "cpu"
    u = t.to(device, "float32")
    assert u.device == ng.device(device) and u.dtype == np.float32
    assert ng.tensor(u).device == u.device  # a tensor of device data stays there (a copy)


def test_gradient_flows_back_across_a_copy_between_devices(device):
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    w = ng.tensor(x, requires_grad=True)  # on the CPU
    loss = (ng.tanh(w.to(device)) ** 2).sum()
    assert loss.device == ng.device(device)
    loss.backward()
    assert w.grad.device == "cpu"
    assert_same(w.grad, 2 * np.tanh(x) * (1 - np.tanh(x) ** 2))


def test_mixing_devices_names_both_and_the_fix(device):
    a = ng.tensor([1.0, 2.0], dtype="float64")
    b = ng.tensor([1.0, 2.0], dtype="float64", device=device)
    for op in (lambda: a + b, lambda: b * a, lambda: ng.matmul(b, a), lambda: ng.concatenate([a, b])):
        with pytest.raises(RuntimeError, match=r"same device.*cpu.*\.to\(") as info:
            op()
        assert str(ng.device(device)) in str(info.value)


def test_numbers_mix_with_every_device(device):
    b = ng.tensor([1.0, 2.0], dtype="float64", device=device)
    assert_same(2.0 * b + 1 - b / 4.0, np.array([2.75, 4.5]))


def test_cuda_without_cupy_names_the_gpu_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # as on a machine without CuPy
    with pytest.raises(RuntimeError, match=r"nablagrad\[gpu\].*cupy-cuda12x"):
        ng.tensor([1.0], device="cuda")
    with pytest.raises(RuntimeError, match=r"nablagrad\[gpu\]"):
        ng.tensor([1.0]).to("cuda:1")


def test_unknown_device_is_refused():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        ng.tensor([1.0], device="tpu")


def test_device_named_by_string_of_an_array_api_library(device):
    name = str(ng.device(device))
    assert ng.tensor([1.0], device=name).device == ng.device(device)


def test_without_array_api_compat_standard_arrays_still_work(device, monkeypatch):
    """array-api-compat is optional: a standard array's own ``__array_namespace__`` is used without it."""
    if ng.device(device).type == "cuda":
        pytest.skip("CuPy arrays need array-api-compat (in the gpu extra)")
    monkeypatch.setitem(sys.modules, "array_api_compat", None)
    monkeypatch.setattr(namespace, "_CACHE", {})
    a = ng.tensor(np.array([0.5, 1.5]), device=device, requires_grad=True)
    ng.exp(a).sum().backward()
    assert_same(a.grad, np.exp([0.5, 1.5]))
    assert host(a).tolist() == [0.5, 1.5]


def test_equal_devices_hash_alike(device):
    """Two ``Device`` objects for one device are equal and hash alike (one entry in a set)."""
    from nablagrad.backend import Device

    assert len({Device("cpu"), Device("cpu"), ng.backend.CPU}) == 1
    a, b = ng.backend.device(device), ng.backend.device(device)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1


def test_default_device_places_new_tensors_as_torch_set_default_device(device):
    """ng.set_default_device puts host data, factories and new parameters on the device; *_like keeps
    the argument's device; the CPU comes back after ``set_default_device("cpu")``."""
    ng.set_default_device(device)
    try:
        assert ng.get_default_device() == ng.device(device)
        made = [
            ng.tensor([1.0, 2.0]),
            ng.tensor(np.ones(3)),
            ng.zeros(2, 3),
            ng.ones(2),
            ng.full((2,), 7.0),
            ng.eye(3),
            ng.arange(4),
            ng.linspace(0.0, 1.0, 5),
            ng.randn(2, 2),
            ng.rand(3),
            ng.nn.Linear(3, 2).weight,
        ]
        for t in made:
            assert t.device == ng.device(device), t
        host = np.arange(6.0).reshape(2, 3)
        t = ng.tensor(host)
        host[0, 0] = 100.0  # a tensor owns a copy of host data
        assert t.numpy()[0, 0] == 0.0
        assert ng.zeros_like(t).device == t.device and ng.ones_like(t).dtype == t.dtype
        np.testing.assert_array_equal(ng.ones_like(t).numpy(), np.ones((2, 3)))
    finally:
        ng.set_default_device("cpu")
    assert ng.get_default_device() == "cpu" and ng.tensor([1.0]).device == "cpu"
    assert isinstance(ng.zeros(2).data, np.ndarray)


def test_factories_take_device_and_seeded_values_agree_across_devices(device):
    ng.manual_seed(3)
    on_device = ng.randn(4, 3, dtype="float64", device=device)
    ng.manual_seed(3)
    on_host = ng.randn(4, 3, dtype="float64")
    assert on_device.device == ng.device(device) and on_host.device == "cpu"
    np.testing.assert_array_equal(on_device.numpy(), on_host.numpy())
    assert ng.zeros(2, device="cpu").device == "cpu"


def test_a_cpu_model_stays_on_the_cpu_under_another_default_device(device):
    """Library code that wraps its own host arrays (the flat optimiser buffer, moved gradients, fit's
    batches, clipping, slogdet's sign, the classical estimators, jit) names their device: a non-CPU
    default device moves only the user's new host data, as torch.set_default_device."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((32, 3))
    y = (X[:, 0] > 0).astype(np.int64)
    model = ng.nn.MLP([3, 8, 2], seed=0, dtype="float64")
    ng.set_default_device(device)
    try:
        for opt in (ng.optim.Adam(model.parameters(), lr=0.01), ng.optim.SGD(model.parameters(), lr=0.1)):
            loss = ng.nn.functional.cross_entropy(model(ng.tensor(X, device="cpu")), ng.tensor(y, device="cpu"))
            opt.zero_grad()
            loss.backward()
            ng.nn.utils.clip_grad_norm_(model.parameters(), 0.01)
            opt.step()
        model.to(device)
        model.to("cpu")
        assert all(p.device == "cpu" and p.grad.device == "cpu" for p in model.parameters())
        history = ng.train.fit(model, "cross_entropy", ng.optim.SGD(model.parameters(), lr=0.1), X, y,
                               epochs=1, batch_size=16, seed=0, device="cpu")  # fmt: skip
        assert np.isfinite(history.history["loss"][-1])
        a = ng.tensor(np.array([[2.0, 1.0], [1.0, 3.0]]), device="cpu")
        sign, logabsdet = ng.linalg.slogdet(a)
        assert sign.device == "cpu" and logabsdet.device == "cpu"
        w = ng.tensor(np.ones(3), device="cpu")
        got = ng.jit(lambda x: (x @ w).sum())(ng.tensor(X, device="cpu"))
        assert got.device == "cpu" and abs(got.item() - X.sum()) < 1e-9
        clf = ng.ml.LogisticRegression().fit(X, y)
        assert clf.score(X, y) > 0.9
        assert all(p.device == "cpu" for p in model.parameters())
        on_device = ng.jit(lambda x: (x * x).sum())(np.ones(3))  # host data of an op goes to the default device
        assert isinstance(on_device, ng.Tensor) and on_device.device == ng.device(device) and on_device.item() == 3.0
    finally:
        ng.set_default_device("cpu")


def test_a_zero_dim_cpu_value_joins_a_device_op_as_a_number(device):
    """As PyTorch lets a 0-dim CPU tensor join a GPU op: of either float dtype, as a weak scalar."""
    t = ng.tensor(np.arange(3.0, dtype=np.float32), device=device)
    for scalar in (ng.tensor(np.ones(4, dtype=np.float32)).sum(), ng.tensor(np.ones(4)).sum()):
        got = t * scalar
        assert got.device == t.device and got.dtype == np.float32
        np.testing.assert_array_equal(got.numpy(), np.arange(3.0, dtype=np.float32) * 4)


def test_cpu_device_objects_are_the_one_cpu():
    ng.set_default_device(ng.Device("cpu"))
    try:
        assert ng.get_default_device() is ng.device("cpu")
    finally:
        ng.set_default_device("cpu")


def test_the_default_device_is_per_thread_as_torch(device):
    import threading

    seen = []
    ng.set_default_device(device)
    try:
        worker = threading.Thread(target=lambda: seen.append((ng.get_default_device(), ng.zeros(2).device)))
        worker.start()
        worker.join()
        assert ng.zeros(2).device == ng.device(device)
    finally:
        ng.set_default_device("cpu")
    assert seen == [(ng.device("cpu"), ng.device("cpu"))]
