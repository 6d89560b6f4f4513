"""The playground's configuration: every value from the page is checked (type, range, sizes)
before it reaches the engine; a bad one raises :class:`ConfigError` with a message for the user."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

DATASETS = ("circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss")
FEATURES = ("x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "leaky_relu")
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
SCHEDULES = ("none", "inverse_time", "step", "exponential", "cosine")
REGULARIZATION = ("none", "l1", "l2")
PROBLEMS = ("classification", "regression")
MAX_LAYERS, MAX_NEURONS = 6, 8
MAX_POINTS = 1000


class ConfigError(ValueError):
    """A parameter from the page is missing, of the wrong type or out of range."""


@dataclass
class Config:
    dataset: str = "circle"
    noise: float = 0.0
    train_ratio: int = 50
    points: int = 500
    seed: int = 0
    features: list[str] = field(default_factory=lambda: ["x1", "x2"])
    layers: list[int] = field(default_factory=lambda: [4, 2])
    activation: str = "tanh"
    problem: str = "classification"
    lr: float = 0.03
    batch_size: int = 10
    regularization: str = "none"
    reg_rate: float = 0.0
    optimizer: str = "sgd"
    schedule: str = "none"

    def to_dict(self) -> dict:
        return asdict(self)


def _number(name: str, value, lo: float, hi: float, integer: bool = False):
    if isinstance(value, bool):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    if integer:
        if x != int(x):
            raise ConfigError(f"{name} must be a whole number, got {value!r}")
        x = int(x)
    if not lo <= x <= hi:
        raise ConfigError(f"{name} must lie between {lo:g} and {hi:g}, got {value!r}")
    return x


def _choice(name: str, value, options) -> str:
    if value not in options:
        raise ConfigError(f"{name} must be one of {', '.join(options)}; got {value!r}")
    return value


def _list(value) -> list:
    if isinstance(value, str):
        return [v for v in value.split(",") if v != ""]
    if isinstance(value, list | tuple):
        return list(value)
    raise ConfigError(f"expected a list or a comma-separated string, got {value!r}")


def parse_config(raw: dict, base: Config | None = None) -> Config:
    """A validated :class:`Config` from ``raw`` (unknown keys are refused), on top of ``base``."""
    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a JSON object")
    cfg = Config(**(base or Config()).to_dict())
    known = set(Config.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"unknown parameter(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for key, value in raw.items():
        if key == "dataset":
            cfg.dataset = _choice("dataset", value, DATASETS)
        elif key == "noise":
            cfg.noise = _number("noise", value, 0, 0.5)
        elif key == "train_ratio":
            cfg.train_ratio = _number("train_ratio", value, 10, 90, integer=True)
        elif key == "points":
            cfg.points = _number("points", value, 20, MAX_POINTS, integer=True)
        elif key == "seed":
            cfg.seed = _number("seed", value, 0, 2**31 - 1, integer=True)
        elif key == "features":
            feats = _list(value)
            for f in feats:
                _choice("feature", f, FEATURES)
            if not feats or len(set(feats)) != len(feats):
                raise ConfigError("features must name at least one input, each once")
            cfg.features = [f for f in FEATURES if f in feats]
        elif key == "layers":
            layers = [_number("neurons per layer", v, 1, MAX_NEURONS, integer=True) for v in _list(value)]
            if len(layers) > MAX_LAYERS:
                raise ConfigError(f"at most {MAX_LAYERS} hidden layers, got {len(layers)}")
            cfg.layers = layers
        elif key == "activation":
            cfg.activation = _choice("activation", value, ACTIVATIONS)
        elif key == "problem":
            cfg.problem = _choice("problem", value, PROBLEMS)
        elif key == "lr":
            cfg.lr = _number("lr (learning rate)", value, 1e-6, 10)
        elif key == "batch_size":
            cfg.batch_size = _number("batch_size", value, 1, MAX_POINTS, integer=True)
        elif key == "regularization":
            cfg.regularization = _choice("regularization", value, REGULARIZATION)
        elif key == "reg_rate":
            cfg.reg_rate = _number("reg_rate", value, 0, 10)
        elif key == "optimizer":
            cfg.optimizer = _choice("optimizer", value, OPTIMIZERS)
        elif key == "schedule":
            cfg.schedule = _choice("schedule", value, SCHEDULES)
    if cfg.dataset.startswith("reg-") and cfg.problem == "classification":
        if "problem" in raw:
            raise ConfigError(f"the data set {cfg.dataset} is a regression problem; choose problem=regression")
        cfg.problem = "regression"
    if not cfg.dataset.startswith("reg-") and cfg.problem == "regression" and "problem" not in raw and "dataset" in raw:
        cfg.problem = "classification"
    n_train = max(1, cfg.points * cfg.train_ratio // 100)
    if cfg.batch_size > n_train:
        raise ConfigError(f"batch_size {cfg.batch_size} exceeds the {n_train} training points; choose at most {n_train}")
    return cfg
