"""Layers: ``Linear`` (``Z = XW + b`` for a whole mini-batch), activations as modules, ``MLP``."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from .. import backend
from ..autodiff import as_tensor, flatten, log_softmax, relu, sigmoid, softmax, tanh, unflatten
from ..backend.checks import is_int, is_real
from . import functional as Fn
from . import init as init_mod
from .loss_support import device_arg, number
from .module import Module, Parameter, Sequential


class Linear(Module):
    """Fully-connected layer ``Z = X W + b`` (lecture 002), ``W`` of shape (in, out).

    Backward (by the tape): ``∂L/∂W = Xᵀ ∂L/∂Z``, ``∂L/∂X = ∂L/∂Z Wᵀ``, ``∂L/∂b`` = column sums.
    ``init`` names a scheme of :mod:`nablagrad.nn.init` (default: PyTorch's U(±1/√in));
    ``bias_init`` a constant for the bias (e.g. 0.1 before a ReLU, lecture 001).  ``device``, ``dtype``:
    where and of which type the parameters are made (PyTorch's keywords); :meth:`reset_parameters` draws
    them again as at construction.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str | Callable | None = None,
        bias_init: float | None = None,
        dtype=None,
        seed=None,
        *,
        device=None,
    ):
        super().__init__()
        device = device_arg("Linear", device)  # refused before anything is drawn
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not is_int(n) or n <= 0:
                kind = ValueError if is_int(n) else TypeError
                raise kind(f"Linear: {name} must be a positive integer, got {n!r}")
        if init is not None and not callable(init) and init not in init_mod.INITIALISERS:
            raise ValueError(f"Linear: unknown init {init!r}; choose from {sorted(init_mod.INITIALISERS)}")
        in_features, out_features = int(in_features), int(out_features)
        self.in_features, self.out_features = in_features, out_features
        dt = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
        # the scheme and generator, for reset_parameters (no seed: the library-wide generator of that moment)
        self._init, self._bias_init = init, bias_init
        self._rng = None if seed is None else backend.resolve_rng(seed)
        self.weight = _zeros_parameter((in_features, out_features), dt, "Linear")
        self.bias = _zeros_parameter((out_features,), dt, "Linear") if bias else None
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Draw the weight (and bias) again, in place, by the construction's scheme: PyTorch's U(±1/√in) for
        both by default; a named or callable ``init`` for the weight, the bias then 0 (or ``bias_init``)."""
        rng = backend.resolve_rng(self._rng)
        init, fan_in = self._init, self.in_features
        if init is None:
            init_mod.default_linear_(self.weight, fan_in, rng)
        elif callable(init):
            init(self.weight)
        else:
            init_mod.INITIALISERS[init](self.weight, seed=rng)
        if self.bias is None:
            return
        if self._bias_init is not None:
            init_mod.constant_(self.bias, self._bias_init)
        elif init is None:
            init_mod.default_linear_(self.bias, fan_in, rng)
        else:
            init_mod.zeros_(self.bias)

    def forward(self, x, activation: str = "identity"):
        """``σ(x W + b)``; ``activation`` (a name of ``functional.FUSED_ACTIVATIONS``) lets a
        following activation layer run fused into this one (see :class:`MLP`)."""
        x = feature_rows(x, f"Linear({self.in_features}, {self.out_features})", self.in_features, self.weight.dtype)
        return Fn.linear(x, self.weight, self.bias, activation)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _zeros_parameter(shape: tuple[int, ...], dtype, who: str = "nn") -> Parameter:
    """A parameter of zeros for an initialiser to fill, made from one broadcast zero: the parameter's own array
    is the only allocation (``Parameter(np.empty(shape))`` would hold two, the empty one and its copy).  A shape no
    array can take (a dimension beyond NumPy's limit, or more memory than there is) is refused naming it."""
    try:
        return Parameter(np.broadcast_to(np.zeros((), dtype), shape))
    except (ValueError, MemoryError) as e:  # NumPy's "Maximum allowed dimension exceeded" names no layer or size
        raise type(e)(f"{who}: cannot allocate a parameter of shape {shape} ({np.dtype(dtype).name}): {e}; give smaller "
                          "layer sizes") from None  # fmt: skip


def feature_rows(x, who: str, in_features: int, dtype):
    """``x`` as a tensor whose last axis holds ``in_features`` features of the layer's ``dtype``: rows
    (N, in), one example (in,), or any leading axes (…, in); anything else refused, naming the
    layer, the shape and the fix (another dtype too: PyTorch refuses integers and another float alike)."""
    if isinstance(x, str) or x is None:
        raise TypeError(f"{who}: expected a numeric array or tensor of shape (N, {in_features}), got {type(x).__name__}")
    x = as_tensor(x)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"{who}: expected numbers, got dtype {x.dtype}")
    if x.ndim == 0:
        raise ValueError(
            f"{who}: expected an input of shape (N, {in_features}) or ({in_features},), got a scalar (shape ()); "
            f"give one example as a row of {in_features} values"
        )
    if x.shape[-1] != in_features:
        raise ValueError(f"{who}: input has {x.shape[-1]} features (shape {x.shape}), expected {in_features}")
    if x.dtype != dtype:
        fix = "" if x.dtype.kind != "f" else f" or build the layer with dtype='{x.dtype}'"
        raise TypeError(
            f"{who}: input dtype {x.dtype} does not match the layer's {dtype}; cast the input "
            f"(x.astype('{dtype}')){fix}, as PyTorch requires"
        )
    return x


class _Activation(Module):
    fn: Callable = staticmethod(Fn.identity)

    def forward(self, x):
        return type(self).fn(as_tensor(x))


def _inplace(who: str, inplace, hint: str = "") -> bool:
    """PyTorch's ``inplace=`` flag, a bool.  Accepted for PyTorch's signatures; the result is always
    computed out of place, which gives the same values and gradients (and leaves the input intact)."""
    if not isinstance(inplace, bool | np.bool_):
        raise TypeError(f"{who}: inplace must be True or False, got {type(inplace).__name__} {inplace!r}{hint}")
    return bool(inplace)


class _InplaceActivation(_Activation):
    """An activation whose PyTorch twin takes ``inplace=`` (see :func:`_inplace`)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = _inplace(type(self).__name__, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Identity(_Activation):
    """f(z) = z.  Takes and ignores any arguments, as PyTorch's (a placeholder for a layer built with some)."""

    def __init__(self, *args, **kwargs):
        super().__init__()


class Step(_Activation):
    """Heaviside step; its derivative is 0."""

    fn = staticmethod(Fn.step)


class Sigmoid(_Activation):
    """σ(z) = 1/(1+e^{−z}); σ' = σ(1 − σ); saturates for large |z| (lecture 001)."""

    fn = staticmethod(sigmoid)


class Tanh(_Activation):
    """tanh z; tanh' = 1 − tanh²; zero-centred, preferred over σ in hidden layers (lecture 001)."""

    fn = staticmethod(tanh)


class ReLU(_InplaceActivation):
    """max(0, z); one-sided derivative 0 at z = 0.  ``inplace`` (PyTorch's flag) is accepted: the result
    is computed out of place, with the same values and gradients."""

    fn = staticmethod(relu)


class Abs(_Activation):
    """Absolute-value rectification |z| (generalised ReLU with α = −1)."""

    fn = staticmethod(Fn.abs_rectification)


class _ActivationWithOptions(Module):
    """An activation with fixed options: ``forward(x) = fn(x, *options)``, the options (attributes named
    in ``options``, in ``fn``'s order) shown in the module's repr."""

    options: tuple[str, ...] = ()

    def forward(self, x):
        return self.fn(x, *(getattr(self, name) for name in self.options))

    def extra_repr(self) -> str:
        inplace = ["inplace=True"] if getattr(self, "inplace", False) else []  # PyTorch shows it only when set
        return ", ".join([*(f"{name}={getattr(self, name)!r}" for name in self.options), *inplace])


class LeakyReLU(_ActivationWithOptions):
    """max(0, z) + α·min(0, z) with a fixed α (default 0.01).  ``inplace`` as :class:`ReLU`'s."""

    fn, options = staticmethod(Fn.leaky_relu), ("negative_slope",)

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.inplace = _inplace("LeakyReLU", inplace)
        if not is_real(negative_slope):
            raise TypeError(f"LeakyReLU: negative_slope must be a number, e.g. 0.01, got {negative_slope!r}")
        if not math.isfinite(number("LeakyReLU", "negative_slope", negative_slope)):
            raise ValueError(f"LeakyReLU: negative_slope must be finite, e.g. 0.01, got {negative_slope!r}")
        self.negative_slope = negative_slope


class PReLU(Module):
    """Parametric ReLU: max(0, z) + α·min(0, z) with the slopes α learned, one for all channels or one per
    channel (axis 1), as ``torch.nn.PReLU(num_parameters=1, init=0.25)``: α is the parameter ``weight``
    (PyTorch's name; its state dict key ``weight``), ``init`` its starting value; ``device``, ``dtype`` as PyTorch's."""

    unpenalised = ("weight",)  # the slopes shape the activation: L1/L2 penalties leave them, as biases

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        device = device_arg("PReLU", device)
        if not is_int(num_parameters) or num_parameters <= 0:
            raise (ValueError if is_int(num_parameters) else TypeError)(
                f"PReLU: num_parameters must be a positive integer (1, or the channels C of an (N, C, ...) input), "
                f"got {num_parameters!r}")  # fmt: skip
        if not is_real(init):
            raise TypeError(f"PReLU: init must be a number, the starting slope (PyTorch's default 0.25), got {init!r}")
        self.num_parameters, self.init = int(num_parameters), init
        self.weight = Parameter(np.full(self.num_parameters, init, dtype=dtype or backend.get_default_dtype()))
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Every slope back to ``init``, in place (PyTorch's ``reset_parameters``)."""
        init_mod.constant_(self.weight, self.init)

    @property
    def alpha(self) -> Parameter:
        """Deprecated: the slopes were named ``alpha`` before taking PyTorch's name, ``weight``."""
        warnings.warn("PReLU.alpha is now PReLU.weight (PyTorch's name); use .weight", DeprecationWarning, stacklevel=2)
        return self.weight

    def forward(self, x):
        return Fn.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GELU(_ActivationWithOptions):
    """GELU ``x·Φ(x)`` (``approximate="none"``) or its tanh approximation (``"tanh"``), as PyTorch."""

    fn, options = staticmethod(Fn.gelu), ("approximate",)

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if not isinstance(approximate, str) or approximate not in Fn.GELU_APPROXIMATIONS:
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh' (as PyTorch), got {approximate!r}")
        self.approximate = approximate


class SiLU(_InplaceActivation):
    """SiLU (swish) ``x·σ(x)``; derivative ``σ(x)(1 + x(1 − σ(x)))``.  ``inplace`` as :class:`ReLU`'s."""

    fn = staticmethod(Fn.silu)


class ELU(_ActivationWithOptions):
    """ELU: ``x`` for ``x > 0``, ``α(eˣ − 1)`` otherwise (``alpha=1.0``); derivative α at 0, as PyTorch.
    ``inplace`` as :class:`ReLU`'s."""

    fn, options = staticmethod(Fn.elu), ("alpha",)

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.inplace = _inplace("ELU", inplace)
        number("ELU", "alpha", alpha)  # checked here, not first at the forward pass (kept as given, as PyTorch)
        self.alpha = alpha


class Softplus(_ActivationWithOptions):
    """Softplus ``(1/β) log(1 + e^{βx})``, linear where ``βx > threshold`` (``beta=1.0``, ``threshold=20.0``)."""

    fn, options = staticmethod(Fn.softplus), ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        number("Softplus", "beta", beta), number("Softplus", "threshold", threshold)  # (kept as given)
        if beta == 0:
            raise ValueError("Softplus: beta must be non-zero (the formula divides by it); PyTorch's default is beta=1.0")
        self.beta, self.threshold = beta, threshold


class Softmax(Module):
    """softmax along ``dim`` (PyTorch's name) or ``axis`` (NumPy's), the last axis by default (stable)."""

    def __init__(self, dim: int | None = None, *, axis: int | None = None):
        super().__init__()
        if dim is not None and axis is not None:
            raise TypeError(f"{type(self).__name__}: give dim (PyTorch's name) or axis (NumPy's), not both")
        name = "dim" if dim is not None else "axis"
        axis = dim if dim is not None else -1 if axis is None else axis
        if not is_int(axis):
            raise TypeError(f"{type(self).__name__}: {name} must be an integer (the axis of the classes, e.g. -1), got {axis!r}")
        self.axis = int(axis)

    @property
    def dim(self) -> int:
        return self.axis

    def extra_repr(self) -> str:
        return f"dim={self.axis}"

    def forward(self, x):
        return softmax(x, axis=self.axis)


class LogSoftmax(Softmax):
    """log softmax along ``axis`` (stable)."""

    def forward(self, x):
        return log_softmax(x, axis=self.axis)


class Flatten(Module):
    """Axes ``start_dim`` … ``end_dim`` merged into one (PyTorch's ``nn.Flatten``: by default all but the batch
    axis, (N, 1, 28, 28) → (N, 784)); a reshape, its gradient the reshape back."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        for name, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not is_int(v):
                raise TypeError(f"Flatten: {name} must be an int (an axis; negative counts from the end), got {v!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        return flatten(as_tensor(x), self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Axis ``dim`` split into ``unflattened_size`` (one entry may be −1), PyTorch's ``nn.Unflatten``: (N, 784)
    → (N, 1, 28, 28) with ``Unflatten(1, (1, 28, 28))``."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]):
        super().__init__()
        if not is_int(dim):
            raise TypeError(f"Unflatten: dim must be an int (an axis), got {dim!r}")
        if isinstance(unflattened_size, str) or not isinstance(unflattened_size, Sequence) or not all(
                is_int(k) and (k > 0 or k == -1) for k in unflattened_size):  # fmt: skip
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of sizes > 0 (at most one -1), e.g. (1, 28, 28), "
                            f"got {unflattened_size!r}")  # fmt: skip
        self.dim, self.unflattened_size = int(dim), tuple(int(k) for k in unflattened_size)

    def forward(self, x):
        return unflatten(as_tensor(x), self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Inverted dropout: in training, ``y = x · m / (1 − p)`` with ``m ~ Bernoulli(1 − p)`` drawn
    afresh on every call, so ``E[y] = x``; in evaluation (``model.eval()``) ``y = x``.  ``p = 1`` drops
    everything (zeros, as PyTorch's).  ``inplace`` as :class:`ReLU`'s: the same values and gradients,
    computed out of place.  The mask is a random op of the tape (:func:`~nablagrad.autodiff.random.dropout_mask`),
    drawn from ``seed``'s generator (the library-wide one, :func:`ng.manual_seed`, by default): a compiled step
    (``ng.jit``) draws afresh on every call, the masks eager mode draws."""

    def __init__(self, p: float = 0.5, inplace: bool = False, seed=None):
        super().__init__()
        self.inplace = _inplace("Dropout", inplace, "; the seed is a keyword: Dropout(p, seed=...)")
        self.p = Fn.dropout_probability(p, "Dropout")
        self.rng = backend.resolve_rng(seed, "Dropout")

    def forward(self, x):
        return Fn.dropout(x, self.p, self.training, generator=self.rng)

    def jit_guard(self) -> tuple:
        """What a program traced through this layer holds for (``ng.jit`` traces again when it changes): its mode,
        ``p`` and generator (a program draws from the generator it was traced with)."""
        return self.training, self.p, self.rng

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


ACTIVATIONS: dict[str, type[Module]] = {
    "identity": Identity,
    "linear": Identity,
    "step": Step,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "prelu": PReLU,
    "abs": Abs,
    "gelu": GELU,
    "silu": SiLU,
    "elu": ELU,
    "softplus": Softplus,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
}


def _hidden_activations() -> tuple[str, ...]:
    """The elementwise activations, each under its first name (no aliases, no softmax)."""
    first: dict[type, str] = {}
    for name, cls in ACTIVATIONS.items():
        if not issubclass(cls, Softmax):
            first.setdefault(cls, name)
    return tuple(first.values())


HIDDEN_ACTIVATIONS = _hidden_activations()  # a hidden layer's choices, for the command line and the playground


def activation(name: str | Module) -> Module:
    """An activation module from its name (``"relu"``, ``"tanh"``, …)."""
    if isinstance(name, Module):
        return name
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


FUSABLE: dict[type, str] = {ReLU: "relu", Tanh: "tanh", Sigmoid: "sigmoid"}


class MLP(Sequential):
    """A multilayer perceptron ``sizes[0] → … → sizes[-1]``: Linear layers with an activation
    between them and an optional output activation, ``ψ_i(x) = σ_i(W_i x + b_i)`` (lecture 000).

    ``activation`` is one name or module for every hidden layer, or a sequence of names, one per
    hidden layer; ``dropout`` > 0 puts a :class:`Dropout` after each hidden activation.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Module | Sequence[str] = "relu",
        output_activation: str | None = None,
        init: str | None = None,
        bias_init: float | None = None,
        dtype=None,
        seed=None,
        dropout: float = 0.0,
    ):
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least input and output sizes, got {list(sizes)}")
        hidden = len(sizes) - 2
        acts = [activation] * hidden if isinstance(activation, str | Module) else list(activation)
        if len(acts) != hidden:
            raise ValueError(f"MLP: {len(acts)} activations for {hidden} hidden layers; give one per hidden layer")
        rng = backend.resolve_rng(seed)
        layers: list[Module] = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            last = i == hidden
            layers.append(Linear(a, b, init=init, bias_init=None if last else bias_init, dtype=dtype, seed=rng))
            if not last:
                act = acts[i]
                layers.append(globals()["activation"](act) if isinstance(act, str) else act)
                if dropout:
                    layers.append(Dropout(dropout, seed=rng))
        if output_activation is not None:
            layers.append(globals()["activation"](output_activation))
        super().__init__(*layers)
        self.sizes = list(sizes)

    def forward(self, x):
        """The layers in order; a Linear followed by a ReLU, Tanh or Sigmoid runs as one fused op (unless either
        has a forward hook)."""
        layers = list(self._modules.values())
        i = 0
        while i < len(layers):
            pair = i + 1 < len(layers) and type(layers[i]) is Linear and not (layers[i]._hooked() or layers[i + 1]._hooked())
            act = FUSABLE.get(type(layers[i + 1])) if pair else None  # (a hooked layer runs as itself: its hook sees it)
            x = layers[i](x, act) if act else layers[i](x)
            i += 2 if act else 1
        return x
