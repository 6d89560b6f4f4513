"""The Tensor's remaining torch differences, each against torch 2.13 itself: ``clone``/``contiguous``/
``is_contiguous`` with ``memory_format``, ``.T``/``.mT``/``.H``/``.mH`` on every rank (errors and deprecation
warnings), the ``new_*`` constructors' ``size`` argument, the message for a tensor detached in place, the dtype
shortcuts (``half``, ``short``, ``char``, ``byte``), ``get_device``/``is_signed``/``is_same_size``/``is_nonzero``
and ``apply_``."""

import warnings

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("strides, layouts and Python callbacks against torch on the CPU: one code path")

_RNG = np.random.default_rng(19)
_FORMATS = ("preserve_format", "contiguous_format", "channels_last")


def _pair(shape, requires_grad=False):
    a = _RNG.standard_normal(shape)
    return ng.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def _caught(fn):
    """``fn()``'s result and the messages of the warnings it gave."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in seen]


# --- memory formats ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", [*_FORMATS, "channels_last_3d"])
def test_clone_memory_format_gives_torch_layout_values_and_gradient(fmt):
    shape = (2, 3, 2, 4, 5) if fmt.endswith("3d") else (2, 3, 4, 5)
    ours, theirs = _pair(shape, requires_grad=True)
    weights = _RNG.standard_normal(shape)
    out_ng = ours.clone(memory_format=getattr(ng, fmt))
    out_t = theirs.clone(memory_format=getattr(torch, fmt))
    (out_ng * ng.tensor(weights)).sum().backward()
    (out_t * torch.tensor(weights)).sum().backward()
    assert out_ng.stride() == out_t.stride()
    np.testing.assert_array_equal(out_ng.numpy(), out_t.detach().numpy())
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
    function = ng.clone(ours, memory_format=getattr(ng, fmt))
    assert function.stride() == torch.clone(theirs, memory_format=getattr(torch, fmt)).stride()


def test_clone_takes_torch_memory_format_objects_and_none_as_torch():
    ours, theirs = _pair((2, 3, 4, 5))
    assert ours.clone(memory_format=torch.channels_last).stride() == theirs.clone(memory_format=torch.channels_last).stride()
    assert ours.clone(memory_format=None).stride() == theirs.clone(memory_format=None).stride()
    permuted = ours.permute(0, 2, 3, 1)  # preserve_format keeps a dense layout, as torch's
    assert permuted.clone().stride() == theirs.permute(0, 2, 3, 1).clone().stride()


def test_clone_memory_format_refusals_as_torch():
    ours, theirs = _pair((2, 3))
    with pytest.raises(RuntimeError, match="rank 4"):
        theirs.clone(memory_format=torch.channels_last)
    with pytest.raises(RuntimeError, match="rank 4") as info:
        ours.clone(memory_format=ng.channels_last)
    assert isinstance(info.value, ValueError) and "(2, 3)" in str(info.value)
    with pytest.raises(RuntimeError, match="rank 5"):
        ng.ones(2, 3, 4, 5).clone(memory_format=ng.channels_last_3d)
    for bad in ("C", 3):
        with pytest.raises(TypeError):
            theirs.clone(memory_format=bad)
        with pytest.raises(TypeError, match="memory_format"):
            ours.clone(memory_format=bad)


@pytest.mark.parametrize("fmt", ["contiguous_format", "channels_last"])
def test_contiguous_memory_format_as_torch(fmt):
    ours, theirs = _pair((2, 3, 4, 5))
    for o, t in ((ours, theirs), (ours.clone(memory_format=ng.channels_last), theirs.clone(memory_format=torch.channels_last))):
        out_ng, out_t = o.contiguous(memory_format=getattr(ng, fmt)), t.contiguous(memory_format=getattr(torch, fmt))
        assert out_ng.stride() == out_t.stride()
        assert (out_ng is o) == (out_t is t)
        np.testing.assert_array_equal(out_ng.numpy(), out_t.numpy())
        for check in _FORMATS[1:]:
            assert o.is_contiguous(memory_format=getattr(ng, check)) == t.is_contiguous(memory_format=getattr(torch, check))


def test_contiguous_refusals_and_other_ranks_as_torch():
    ours, theirs = _pair((2, 3))
    assert (ours.contiguous(memory_format=ng.preserve_format) is ours) == (
        theirs.contiguous(memory_format=torch.preserve_format) is theirs
    )
    with pytest.raises(RuntimeError, match="preserve"):
        theirs.mT.contiguous(memory_format=torch.preserve_format)
    with pytest.raises(RuntimeError, match="preserve"):
        ours.mT.contiguous(memory_format=ng.preserve_format)
    with pytest.raises(RuntimeError, match="rank 4"):
        ours.contiguous(memory_format=ng.channels_last)
    for fmt in ("channels_last", "channels_last_3d", "preserve_format"):
        assert ours.is_contiguous(memory_format=getattr(ng, fmt)) == theirs.is_contiguous(memory_format=getattr(torch, fmt))
    single = np.ones((2, 1, 4, 5))  # size-1 channels: both layouts at once
    assert ng.tensor(single).is_contiguous(memory_format=ng.channels_last) == torch.tensor(single).is_contiguous(
        memory_format=torch.channels_last
    )


# --- .T, .mT, .H, .mH ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["mT", "mH"])
def test_batch_transposes_refuse_a_vector_as_torch(name):
    with pytest.raises(RuntimeError, match="matrices"):
        getattr(torch.ones(3), name)
    with pytest.raises(RuntimeError, match="matrices") as info:
        getattr(ng.ones(3), name)
    assert isinstance(info.value, ValueError) and "(3,)" in str(info.value)


@pytest.mark.parametrize("shape", [(3,), (2, 2, 2)])
def test_conjugate_transpose_refuses_other_ranks_as_torch(shape):
    for lib in (torch, ng):
        with pytest.raises(RuntimeError, match="2-D"):
            _ = lib.ones(shape).H


@pytest.mark.parametrize("name", ["T", "mT", "H", "mH"])
def test_transposes_of_a_0d_tensor_are_the_identity_with_torch_warning(name):
    theirs = getattr(torch.tensor(2.5), name)  # (torch warns once per process: its count is not compared)
    ours, our_warnings = _caught(lambda: getattr(ng.tensor(2.5), name))
    assert ours.shape == tuple(theirs.shape) == () and ours.item() == theirs.item()
    assert len(our_warnings) == 1
    assert "deprecated on 0-D tensors" in our_warnings[0] and f"Tensor.{name}" in our_warnings[0]


def test_T_reverses_other_ranks_with_torch_warning_and_warns_not_on_matrices():
    ours, theirs = _pair((2, 3, 4), requires_grad=True)
    out_t, (out_ng, warned) = theirs.T, _caught(lambda: ours.T)  # (torch warns once per process)
    np.testing.assert_array_equal(out_ng.numpy(), out_t.detach().numpy())
    assert len(warned) == 1 and "x.mT" in warned[0] and "deprecated" in warned[0]
    weights = _RNG.standard_normal((4, 3, 2))
    (out_ng * ng.tensor(weights)).sum().backward()
    (out_t * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())
    out, warned = _caught(lambda: ng.ones(2, 3).T)
    assert not warned and out.shape == (3, 2)
    out, warned = _caught(lambda: ng.ones(3).T)  # a vector too: "dimension other than 2", as torch
    assert len(warned) == 1 and out.shape == tuple(torch.ones(3).T.shape)


# --- new_zeros / new_ones / new_empty ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["new_zeros", "new_ones", "new_empty"])
def test_new_constructors_take_size_by_keyword_and_require_it_as_torch(name):
    ours, theirs = _pair((2,))
    for kw in ({"size": (2, 3)}, {"size": [4]}, {"size": ()}):
        made_ng, made_t = getattr(ours, name)(**kw), getattr(theirs, name)(**kw)
        assert made_ng.shape == tuple(made_t.shape) and str(made_ng.dtype) == str(made_t.dtype).removeprefix("torch.")
    made_ng = getattr(ours, name)(size=(2,), dtype=ng.float64, requires_grad=True)
    made_t = getattr(theirs, name)(size=(2,), dtype=torch.float64, requires_grad=True)
    assert (str(made_ng.dtype), made_ng.requires_grad) == ("float64", made_t.requires_grad)
    with pytest.raises(TypeError):
        getattr(theirs, name)()
    with pytest.raises(TypeError, match="size"):
        getattr(ours, name)()
    with pytest.raises(TypeError):
        getattr(theirs, name)(2, size=(2,))
    with pytest.raises(TypeError, match="size"):
        getattr(ours, name)(2, size=(2,))


# --- detach_() after an op used the tensor ---------------------------------------------------------------
def test_backward_through_a_tensor_detached_in_place_names_detach_as_torch():
    for lib in (torch, ng):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y * y  # mul saves y
        y.detach_()
        with pytest.raises(RuntimeError, match=r"detached in-place.*detach\(\)"):
            z.sum().backward()


# --- dtype shortcuts and predicates ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["half", "short", "char", "byte", "float", "double", "long", "int", "bool"])
def test_dtype_shortcuts_as_torch(name):
    values = np.array([[0.0, 1.5, -2.5], [3.25, 7.0, -0.0]])  # in range of every dtype
    ours, theirs = getattr(ng.tensor(values), name)(), getattr(torch.tensor(values), name)()
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_half_keeps_the_gradient_and_bfloat16_is_refused_with_the_fix():
    ours, theirs = _pair((3,), requires_grad=True)
    ours.half().float().sum().backward()
    theirs.half().float().sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    with pytest.raises(TypeError, match="half"):
        ours.bfloat16()


@pytest.mark.parametrize("dtype", ["float16", "float64", "int8", "int64", "uint8", "bool", "complex64"])
def test_predicates_as_torch(dtype):
    ours, theirs = ng.zeros(2, 3, dtype=dtype), torch.zeros(2, 3, dtype=getattr(torch, dtype))
    assert ours.is_signed() == theirs.is_signed()
    assert ours.get_device() == theirs.get_device() == -1
    assert ours.is_same_size(ng.ones(2, 3)) == theirs.is_same_size(torch.ones(2, 3)) is True
    assert ours.is_same_size(ng.ones(3, 2)) == theirs.is_same_size(torch.ones(3, 2)) is False
    assert (ours.is_sparse, ours.is_quantized, ours.is_meta) == (theirs.is_sparse, theirs.is_quantized, theirs.is_meta)


def test_is_nonzero_as_torch():
    for values in ([2.0], [0.0], [[-0.5]], 0.0, [float("nan")]):
        assert ng.tensor(values).is_nonzero() == torch.tensor(values).is_nonzero()
    for values in ([1.0, 2.0], []):
        with pytest.raises(RuntimeError):
            torch.tensor(values).is_nonzero()
        with pytest.raises(RuntimeError, match="ambiguous"):
            ng.tensor(values).is_nonzero()


# --- apply_ -------------------------------------------------------------------------------------------------
def test_apply_in_place_as_torch():
    for values, fn in (([1, 2, -3], lambda v: v * 2.7), ([[1.0, 2.0], [3.0, 4.0]], lambda v: v**2 - 1)):
        ours, theirs = ng.tensor(values), torch.tensor(values)
        assert ours.apply_(fn) is ours and theirs.apply_(fn) is theirs
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ng.zeros(0).apply_(lambda v: v + 1).shape == (0,)


def test_apply_refuses_a_tensor_that_requires_grad_and_a_failure_changes_nothing():
    with pytest.raises(RuntimeError, match="requires grad"):
        torch.ones(2, requires_grad=True).apply_(lambda v: v)
    x = ng.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.apply_"):
        x.apply_(lambda v: v)
    y = ng.tensor([1.0, 2.0, 3.0])
    version = y._version
    with pytest.raises(ZeroDivisionError):
        y.apply_(lambda v: 1 / 0 if v > 2 else v + 10)
    np.testing.assert_array_equal(y.numpy(), [1.0, 2.0, 3.0])
    assert y._version == version


# --- view: no copy, size=, dtype ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda m: m.ones(2, 3).T, (-1,)),  # a transpose: no view can flatten it
        (lambda m: m.ones(4, 3)[:, :2], (8,)),  # a column slice
        (lambda m: m.ones(3).expand(2, 3), (6,)),  # a broadcast
    ],
)
def test_view_refuses_a_layout_that_needs_a_copy_as_torch(make, shape):
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        make(torch).view(*shape)
    with pytest.raises(RuntimeError, match=r"reshape") as info:
        make(ng).view(*shape)
    assert isinstance(info.value, ValueError)
    assert make(ng).reshape(*shape).shape == tuple(make(torch).reshape(*shape).shape)


def test_view_of_strided_layouts_torch_allows_shares_memory():
    for make, shape in (
        (lambda m: m.zeros(4, 3)[:, :2], (4, 1, 2)),
        (lambda m: m.zeros(4, 3)[1:3], (-1,)),
        (lambda m: m.zeros(2, 3).T, (3, 2)),
        (lambda m: m.zeros(3).expand(2, 3), (2, 1, 3)),
        (lambda m: m.zeros(0, 3).T, (-1,)),
    ):
        base_ng, base_t = make(ng), make(torch)
        view_ng, view_t = base_ng.view(*shape), base_t.view(*shape)
        assert view_ng.shape == tuple(view_t.shape)
        if view_ng.numel() and not base_ng.stride(0) == 0:
            with ng.no_grad():
                view_ng.reshape(-1)[0] = 7.0
            view_t.reshape(-1)[0] = 7.0
            np.testing.assert_array_equal(base_ng.numpy(), base_t.numpy())


def test_view_takes_size_by_keyword_and_keeps_the_gradient():
    ours, theirs = _pair((2, 3), requires_grad=True)
    weights = np.arange(6.0).reshape(3, 2)
    (ours.view(size=(3, 2)) * ng.tensor(weights)).sum().backward()
    (theirs.view(size=(3, 2)) * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    with pytest.raises(TypeError, match="once"):
        ours.view(3, 2, size=(3, 2))


@pytest.mark.parametrize(
    ("values", "source", "target"),
    [
        ([1.0, 2.0, -0.5, 8.0], "float32", "int32"),
        ([[1.0, 2.0], [3.0, 4.0]], "float32", "float16"),
        ([1.0, 2.0, 3.0, 4.0], "float32", "float64"),
        ([0, 1, 2], "uint8", "bool"),
        ([1.0, 2.0], "float64", "int64"),
        (1.5, "float32", "int32"),
    ],
)
def test_view_dtype_reads_the_bytes_as_torch(values, source, target):
    ours = ng.tensor(np.asarray(values, source))
    theirs = torch.tensor(np.asarray(values, source))
    out_ng, out_t = ours.view(getattr(ng, target) if target != "bool" else "bool"), theirs.view(getattr(torch, target))
    assert out_ng.shape == tuple(out_t.shape) and str(out_ng.dtype) == target
    np.testing.assert_array_equal(out_ng.numpy(), out_t.numpy())
    with ng.no_grad():
        out_ng.reshape(-1)[0] = 0  # shared memory: the write reaches the base, as torch's
    out_t.reshape(-1)[0] = 0
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_view_dtype_has_no_gradient_and_refusals_as_torch():
    for lib, f32 in ((torch, torch.float32), (ng, ng.float32)):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        assert x.view(f32).requires_grad is False and x.view(f32) is not x
    for make, target in (
        (lambda m: m.ones(3), "float64"),  # last dimension not a multiple
        (lambda m: m.ones(2, 4).T, "float64"),  # last dimension not contiguous
        (lambda m: m.tensor(1.0), "float16"),  # 0-d with another element size
    ):
        with pytest.raises(RuntimeError):
            make(torch).view(getattr(torch, target))
        with pytest.raises(RuntimeError, match="view"):
            make(ng).view(getattr(ng, target))


# --- to(memory_format=), numpy(force=), ng.numel -----------------------------------------------------------
def test_to_memory_format_and_numpy_force_and_numel_as_torch():
    ours, theirs = _pair((2, 3, 4, 5), requires_grad=True)
    for kw_ng, kw_t in (({}, {}), ({"dtype": ng.float32}, {"dtype": torch.float32})):
        out_ng = ours.to(memory_format=ng.channels_last, **kw_ng)
        out_t = theirs.to(memory_format=torch.channels_last, **kw_t)
        assert out_ng.stride() == out_t.stride() and str(out_ng.dtype) == str(out_t.dtype).removeprefix("torch.")
        np.testing.assert_allclose(out_ng.detach().numpy(), out_t.detach().numpy(), rtol=1e-6)
    kept = ours.clone(memory_format=ng.channels_last)
    assert kept.to(memory_format=ng.channels_last) is kept
    assert kept.to(memory_format=ng.channels_last, copy=True) is not kept
    np.testing.assert_array_equal(ours.numpy(force=True), theirs.numpy(force=True))
    assert ng.numel(ours) == torch.numel(theirs) == 120 and ng.numel(ng.zeros(0, 3)) == 0
