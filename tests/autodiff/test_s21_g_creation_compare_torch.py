"""Factories and comparisons against torch 2.13 itself: PyTorch's keywords of the factories (``size=``, ``end=``,
``steps=``, ``requires_grad=``), one-element tensors as numbers, ``arange``'s refusal of a step of the wrong sign,
``logspace``; and comparisons / bitwise ops on another array library's data (array_api_strict, CuPy) in PyTorch's
common dtype, as on NumPy's."""

import operator

import numpy as np
import pytest

import nablagrad as ng

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.numpy_only("factories and promotion against torch: the devices are named in the tests")


def _same(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6, atol=0)


# --- factories --------------------------------------------------------------------------------------------
_FACTORIES = {
    "zeros size=": lambda m: m.zeros(size=(2, 3)),
    "ones size= dtype": lambda m: m.ones(size=[3], dtype=m.int64),
    "full 0-d float tensor": lambda m: m.full((2,), m.tensor(3.5, dtype=m.float64)),
    "full 0-d int tensor": lambda m: m.full((2, 2), m.tensor(3)),
    "full 0-d bool tensor": lambda m: m.full((1,), m.tensor(True)),
    "full_like 0-d tensor": lambda m: m.full_like(m.zeros(2, dtype=m.float64), m.tensor(2.0)),
    "arange end=": lambda m: m.arange(end=4),
    "arange start= end=": lambda m: m.arange(start=1, end=4),
    "arange end= step float": lambda m: m.arange(1, end=2.5, step=0.5),
    "arange 0-d tensor": lambda m: m.arange(m.tensor(3)),
    "arange 0-d float tensors": lambda m: m.arange(m.tensor(0.5), m.tensor(2.0), 0.5),
    "arange descending": lambda m: m.arange(5, 0, -2),
    "arange empty": lambda m: m.arange(2, 2, -1),
    "linspace steps=": lambda m: m.linspace(0, 1, steps=5),
    "linspace end= steps=": lambda m: m.linspace(-1, end=1, steps=3, dtype=m.float64),
    "linspace 0-d tensors": lambda m: m.linspace(m.tensor(0.0), m.tensor(2.0), 3),
    "logspace": lambda m: m.logspace(0, 2, 3),
    "logspace base": lambda m: m.logspace(-1, 3, 5, base=2),
    "logspace float64": lambda m: m.logspace(-1, 1, 7, dtype=m.float64),
    "logspace int64": lambda m: m.logspace(0, 3, 4, dtype=m.int64),
    "logspace one step": lambda m: m.logspace(2, 5, 1),
}


@pytest.mark.parametrize("name", list(_FACTORIES))
def test_factory_keywords_and_tensor_numbers_as_torch(name):
    _same(_FACTORIES[name](ng), _FACTORIES[name](torch))


def test_rand_and_randn_take_size_as_torch():
    assert ng.rand(size=(2, 3)).shape == tuple(torch.rand(size=(2, 3)).shape)
    assert ng.randn(size=[4], dtype=ng.float64).dtype == np.float64
    with pytest.raises(TypeError, match="once"):
        ng.zeros(2, size=(2,))


@pytest.mark.parametrize("factory", ["rand", "randn"])
@pytest.mark.parametrize("bad", [{"dtype": "int64"}, {"dtype": "bool"}, {"dtype": "U3"}, {"device": "nonsense"}])
def test_a_refused_random_draw_leaves_the_generator_as_it_was(factory, bad):
    """rand/randn refuse an integer or bool dtype as torch's do, and no refusal (dtype, device) draws first: the
    next draw is the one a fresh seed gives."""
    if "int64" in bad.values() or "bool" in bad.values():
        with pytest.raises(RuntimeError):
            getattr(torch, factory)(2, dtype=getattr(torch, bad["dtype"]))
    ng.manual_seed(0)
    want = getattr(ng, factory)(3).numpy()
    ng.manual_seed(0)
    with pytest.raises((TypeError, ValueError)):
        getattr(ng, factory)(2, **bad)
    np.testing.assert_array_equal(getattr(ng, factory)(3).numpy(), want)


def test_arange_and_linspace_require_grad_as_torch():
    ours, theirs = ng.arange(3.0, requires_grad=True), torch.arange(3.0, requires_grad=True)
    (ours * ours).sum().backward()
    (theirs * theirs).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert ng.linspace(0, 1, 4, requires_grad=True).requires_grad
    for lib in (ng, torch):  # an integer range has no gradient (PyTorch's RuntimeError)
        with pytest.raises(RuntimeError, match="floating point"):
            lib.arange(3, requires_grad=True)


@pytest.mark.parametrize("args", [(5, 0, 1), (0, 5, -1), (1.0, -1.0, 0.5)], ids=["up-step-down", "down-step-up", "float"])
def test_arange_step_against_the_bounds_is_refused_as_torch(args):
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        torch.arange(*args)
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        ng.arange(*args)


def test_arange_zero_step_and_negative_sizes_are_refused_as_torch():
    for f in (lambda m: m.arange(0, 5, 0), lambda m: m.zeros(2, -1), lambda m: m.ones(size=(-3,))):
        with pytest.raises(RuntimeError):
            f(torch)
        with pytest.raises(RuntimeError):
            f(ng)


def test_factories_refuse_a_number_given_twice_or_a_long_tensor():
    with pytest.raises(TypeError, match="once"):
        ng.arange(0, 3, end=4)
    with pytest.raises(TypeError, match="once"):
        ng.linspace(0, 1, 3, steps=3)
    with pytest.raises(TypeError, match="one-element"):
        ng.full((2,), ng.tensor([1.0, 2.0]))


# --- comparisons on another array library -------------------------------------------------------------------
_PAIRS = [
    (np.array([1, 2, 3]), np.array([1.5, 2.0, 2.5])),
    (np.array([True, False, True]), np.array([1, 0, 2])),
    (np.array([1, 2]), np.array([True, False])),
    (np.array([1, 2, 255], np.uint8), np.array(-1)),  # a 0-d int64 tensor is weak: -1 is 255 in uint8
    (np.array([1, 2, 3], np.uint8), -1),  # an int beyond uint8 wraps, as PyTorch casts it
    (np.array([1.5, 2.0]), True),
    (np.array([1, 0]), True),
    (np.array([True, False]), 1),
    (np.array([True, False]), 1.0),
    (np.array([1, 2, 3]), 2.5),
    (np.array([0.1, 0.2], np.float32), 0.1),  # compared in float32, as torch
    (np.array([1.0, 2.0, 3.0], np.float32), np.array(2.0000001)),  # a 0-d float64 tensor is weak
    (np.array([16777217, 2]), np.array([16777216.0, 2.0], np.float32)),  # int64 meets float32 in float32
]
_OPERATORS = [operator.eq, operator.ne, operator.lt, operator.ge, operator.and_, operator.or_, operator.xor]


@pytest.mark.parametrize("library", ["array_api_strict", "cupy"])
@pytest.mark.parametrize("pair", range(len(_PAIRS)))
def test_comparisons_and_bitwise_ops_on_another_library_promote_as_torch(library, pair, namespace_device):
    device = namespace_device(library)
    a, b = _PAIRS[pair]
    for op in _OPERATORS:
        try:
            want = op(torch.tensor(a), torch.tensor(b) if isinstance(b, np.ndarray) else b)
        except RuntimeError:  # (a float operand of a bitwise op)
            with pytest.raises(TypeError, match="integer and Boolean"):
                op(ng.tensor(a, device=device), ng.tensor(b, device=device) if isinstance(b, np.ndarray) else b)
            continue
        for where in ("cpu", device):
            got = op(ng.tensor(a, device=where), ng.tensor(b, device=where) if isinstance(b, np.ndarray) else b)
            assert got.device == ng.device(where)
            _same(got, want)


# --- repr ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.tensor([1, 2], dtype=m.uint8),
        lambda m: m.tensor(3, dtype=m.int16),
        lambda m: m.tensor([[1, 2]], dtype=m.int32),
        lambda m: m.zeros(2, 0, dtype=m.int32),
        lambda m: m.zeros(1, 0, 2),
        lambda m: m.zeros(0, 3, requires_grad=True),
        lambda m: m.tensor([1, 2]),
        lambda m: m.tensor([True, False]),
        lambda m: m.tensor([1.0, 2.0]),
        lambda m: m.tensor([1.0, 2.0], dtype=m.float64),
    ],
)
def test_repr_names_the_dtype_and_an_empty_shape_as_torch(make):
    """The dtype is named unless PyTorch infers it from numbers, and an empty tensor of several dims shows its size
    (the numbers themselves are NumPy's print, and a dtype prints without ``torch.``)."""
    theirs = repr(make(torch)).replace("torch.", "")
    assert repr(make(ng)) == theirs.replace("tensor([True, False])", "tensor([ True, False])")
