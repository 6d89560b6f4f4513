"""The playground's configuration, declared once as a table of :class:`Field` rows.

From :data:`FIELDS` come the :class:`Config` dataclass, the server's validation
(:func:`parse_config`, one message per bad value, :class:`ConfigError`), the page's controls
(``/api/schema`` is :func:`schema`) and the URL, which holds every field.  The choices come from
the library's registries: ``data.DATASETS``, ``nn.ACTIVATIONS``, ``nn.init.INITIALISERS``,
``optim.OPTIMIZERS`` and ``optim.SCHEDULES``.

``activations`` holds one activation per hidden layer; a single one (``"tanh"`` or ``["tanh"]``)
is a documented shorthand for "this activation in every hidden layer", and ``layers`` given
without ``activations`` keeps the last activation for added layers.  Any other length is refused
with both lengths named.  Other names ``nn.ACTIVATIONS`` gives the same activation are accepted and
stored under the registry's first name (``linear`` → ``identity``).
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import asdict, dataclass, field, make_dataclass

from .. import data, nn, optim
from .maths import FEATURES, LOSS_FORMULAS, UPDATE_RULES

MAX_LAYERS, MAX_NEURONS = 8, 16
MAX_POINTS = 1000
MAX_CLASSES = 5
UPLOAD = "upload"  # the data set name that means "the CSV the learner uploaded"
PLAYGROUND_SETS = ("circle", "xor", "gauss", "spiral", "moons", "blobs", "reg-plane", "reg-gauss")


INITS = ("zeros", "lecture", "xavier_uniform", "kaiming_uniform")  # names in nn.init.INITIALISERS
# issue 6's activation menu (the TensorFlow Playground's): choosing one sets every hidden layer
ACTIVATION_MENU = ("relu", "tanh", "sigmoid", "linear", "leaky_relu")


def _aliases(choices: tuple[str, ...]) -> dict[str, str]:
    """The other names ``nn.ACTIVATIONS`` gives a choice's activation: ``{"linear": "identity"}``."""
    first = {nn.ACTIVATIONS[c]: c for c in choices}
    return {name: first[cls] for name, cls in nn.ACTIVATIONS.items() if name not in choices and cls in first}


def is_regression(dataset: str) -> bool:
    return dataset != UPLOAD and dataset not in data.CLASSIFICATION_SETS


def takes_classes(dataset: str) -> bool:
    return dataset != UPLOAD and "classes" in inspect.signature(data.DATASETS[dataset]).parameters


class ConfigError(ValueError):
    """A parameter from the page is missing, of the wrong type or out of range."""


@dataclass(frozen=True)
class Field:
    """One parameter: its name, type, allowed values and default, and how the page shows it.

    ``type``: ``int`` / ``float`` (within ``lo``…``hi``), ``choice`` (one of ``choices``, or a name in
    ``aliases``, stored as the choice it maps to), ``list``
    of ``item`` (``int`` within ``lo``…``hi`` or ``choice``; at most ``max_len``) or ``token``.
    ``control``: ``select`` (of ``choices`` or the numbers ``presets``), ``range`` (``step``),
    ``checkboxes``, ``layers`` or ``none`` (set by buttons or by the URL).  ``live`` fields
    change a running session without restarting it.
    """

    name: str
    type: str
    default: object
    label: str
    group: str
    control: str = "select"
    lo: float | None = None
    hi: float | None = None
    choices: tuple = ()
    aliases: dict = field(default_factory=dict)
    item: str = ""
    max_len: int = 0
    presets: tuple = ()
    step: float | None = None
    live: bool = False
    help: str = ""


FIELDS: tuple[Field, ...] = (
    Field("dataset", "choice", "circle", "Data set", "data", choices=(*PLAYGROUND_SETS, UPLOAD),
          help="generated as the TensorFlow Playground does; 'upload' is your CSV"),
    Field("classes", "int", 2, "Classes (blobs, spiral)", "data", lo=2, hi=MAX_CLASSES, presets=(2, 3, 4, 5)),
    Field("upload", "token", "", "Uploaded data", "data", control="none"),
    Field("noise", "float", 0.0, "Noise", "data", control="range", lo=0, hi=0.5, step=0.05),
    Field("train_ratio", "int", 50, "Ratio of training data (%)", "data", control="range", lo=10, hi=90, step=10),
    Field("points", "int", 500, "Points", "data", lo=20, hi=MAX_POINTS, presets=(100, 200, 500, 1000)),
    Field("seed", "int", 0, "Seed", "data", control="none", lo=0, hi=2**31 - 1),
    Field("features", "list", ["x1", "x2"], "Features", "features", control="checkboxes", item="choice",
          choices=tuple(FEATURES), max_len=len(FEATURES)),
    Field("layers", "list", [4, 2], "Neurons per hidden layer", "network", control="layers", item="int",
          lo=1, hi=MAX_NEURONS, max_len=MAX_LAYERS),
    Field("activations", "list", ["tanh", "tanh"], "Activation per hidden layer", "network", control="layers",
          item="choice", choices=nn.HIDDEN_ACTIVATIONS, aliases=_aliases(nn.HIDDEN_ACTIVATIONS), max_len=MAX_LAYERS,
          help="one per hidden layer, or a single one for every layer"),
    Field("init", "choice", "xavier_uniform", "Initialisation", "network", choices=INITS,
          help="zeros shows the symmetry problem; lecture is U(±1/(2n))"),
    Field("bias_init", "float", 0.0, "Initial bias", "network", lo=-1, hi=1, presets=(0, 0.1),
          help="0.1 keeps ReLU units active at the start (lecture 001)"),
    Field("dropout", "float", 0.0, "Dropout", "network", lo=0, hi=0.9, presets=(0, 0.1, 0.2, 0.5)),
    Field("problem", "choice", "classification", "Problem type", "training", choices=("classification", "regression")),
    Field("loss", "choice", "cross_entropy", "Loss (classification)", "training", choices=tuple(LOSS_FORMULAS),
          help="cross_entropy: softmax head; mse: tanh outputs against ±1, as the TensorFlow Playground"),
    Field("lr", "float", 0.03, "Learning rate", "training", lo=1e-6, hi=10,
          presets=(0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)),
    Field("batch_size", "int", 10, "Batch size", "training", lo=1, hi=MAX_POINTS, presets=(1, 2, 5, 10, 20, 30, 50, 100, 250)),
    Field("regularization", "choice", "none", "Regularization", "training", choices=("none", "l1", "l2")),
    Field("reg_rate", "float", 0.0, "Regularization rate", "training", lo=0, hi=10,
          presets=(0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)),
    Field("optimizer", "choice", "sgd", "Optimizer", "training", choices=tuple(UPDATE_RULES)),
    Field("schedule", "choice", "none", "Learning-rate schedule", "training", choices=("none", *optim.SCHEDULES)),
    Field("speed", "int", 0, "Speed (epochs/s)", "training", lo=0, hi=1000,
          presets=(0, 1, 3, 10, 30, 100), live=True, help="0 (max): as fast as the engine allows"),
)  # fmt: skip
FIELD = {f.name: f for f in FIELDS}

Config = make_dataclass(
    "Config",
    [(f.name, object, field(default_factory=lambda d=f.default: list(d) if isinstance(d, list) else d)) for f in FIELDS],
    namespace={"to_dict": lambda self: asdict(self), "__doc__": "A validated playground configuration."},
)


def schema() -> dict:
    """What the page needs to build its controls: the field table, the formulas, the limits."""
    return {
        "fields": [{k: v for k, v in asdict(f).items() if v not in ((), None, "", {})} for f in FIELDS],
        "defaults": Config().to_dict(),
        "datasets": {d: {"regression": is_regression(d), "classes": takes_classes(d)} for d in PLAYGROUND_SETS},
        "feature_labels": {k: v[0] for k, v in FEATURES.items()},
        "activation_menu": ACTIVATION_MENU,
        "losses": LOSS_FORMULAS,
        "optimizers": {k: v[0] for k, v in UPDATE_RULES.items()},
        "limits": {"layers": MAX_LAYERS, "neurons": MAX_NEURONS, "points": MAX_POINTS, "classes": MAX_CLASSES},
    }


def _shown(value, width: int = 40) -> str:
    """``repr(value)``, cut to ``width`` characters: a message must not echo a 60 kB value back."""
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 1]}… ({len(text)} characters)"


def shown_name(name: str) -> str:
    """A parameter name from the page as a message shows it: plain if short and printable, else
    :func:`_shown` (quoted, escaped and cut), so that ``"\\ud800"`` or a 60 kB key cannot break the reply."""
    return name if isinstance(name, str) and name.isprintable() and len(name) <= 40 else _shown(name)


def _bound(x: float) -> str:
    """A range's end as the user types it: whole numbers in full (2147483647, not 2.14748e+09)."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


# A number as text, in the grammar of JSON, CSV readers and JavaScript's Number(): ASCII digits, an
# optional sign, point and exponent (plus inf/infinity/nan).  Python's float() also reads "1_0" as 10
# and "١" (Arabic-Indic one) as 1, which no page or spreadsheet means.
NUMBER = re.compile(r"\s*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|inf(?:inity)?|nan)\s*", re.ASCII | re.IGNORECASE)


def parse_number(text: str) -> float | None:
    """``float(text)`` if ``text`` is a number written as :data:`NUMBER` reads it, else ``None``."""
    return float(text) if NUMBER.fullmatch(text) else None


def _number(f: Field, value, name: str | None = None):
    name = name or f.name
    kind = "whole number" if f.type == "int" or f.item == "int" else "number"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{name} must be a {kind}, got {_shown(value)}")
    try:
        x = float(value) if not isinstance(value, str) else parse_number(value)
    except OverflowError:  # a JSON integer beyond 1.8e308 (float() of a str gives inf instead)
        raise ConfigError(f"{name} must lie between {_bound(f.lo)} and {_bound(f.hi)}, got {_shown(value)}") from None
    if x is None:
        raise ConfigError(f"{name} must be a {kind} (digits, '.', 'e'), got {_shown(value)}")
    if not math.isfinite(x):
        raise ConfigError(f"{name} must be finite, got {_shown(value)}")
    if kind == "whole number":
        if x != int(x):
            raise ConfigError(f"{name} must be a whole number, got {_shown(value)}")
        x = int(x)
    if not f.lo <= x <= f.hi:
        raise ConfigError(f"{name} must lie between {_bound(f.lo)} and {_bound(f.hi)}, got {_shown(value)}")
    return x


def _choice(f: Field, value, name: str | None = None) -> str:
    if isinstance(value, str) and value in f.aliases:
        return f.aliases[value]
    if not isinstance(value, str) or value not in f.choices:
        also = f" (or {', '.join(f'{a} = {c}' for a, c in f.aliases.items())})" if f.aliases else ""
        raise ConfigError(f"{name or f.name} must be one of {', '.join(f.choices)}{also}; got {_shown(value)}")
    return value


def _list(f: Field, value) -> list:
    if isinstance(value, str):
        value = [v for v in value.split(",") if v != ""]
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{f.name} must be a list or a comma-separated string, got {_shown(value)}")
    if len(value) > f.max_len:
        raise ConfigError(f"{f.name}: at most {f.max_len} entries, got {len(value)}")
    one = _number if f.item == "int" else _choice
    return [one(f, v, f"{f.name}[{i}]") for i, v in enumerate(value)]


def _token(f: Field, value) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{0,32}", value):
        raise ConfigError(f"{f.name} must be an id of letters, digits, '-' or '_', got {_shown(value)}")
    return value


PARSERS = {"int": _number, "float": _number, "choice": _choice, "list": _list, "token": _token}


def parse_config(raw: dict, base=None):
    """A validated :class:`Config` from ``raw`` (unknown keys are refused), on top of ``base``."""
    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a JSON object of parameters")
    unknown = sorted(set(raw) - set(FIELD))
    if unknown:
        raise ConfigError(f"unknown parameter(s): {', '.join(map(shown_name, unknown[:8]))}; known: {', '.join(FIELD)}")
    values = (base or Config()).to_dict()
    for key, value in raw.items():
        f = FIELD[key]
        values[key] = PARSERS[f.type](f, value)
    cfg = Config(**values)
    _check_together(cfg, raw)
    return cfg


def _check_together(cfg, raw: dict) -> None:
    """The rules that tie fields together (and fill in what follows from the others)."""
    if not cfg.features or len(set(cfg.features)) != len(cfg.features):
        raise ConfigError("features must name at least one input, each once")
    cfg.features = [f for f in FEATURES if f in cfg.features]
    n = len(cfg.layers)  # one activation is the shorthand for all layers (module docstring)
    if len(cfg.activations) == 1 or ("activations" not in raw and len(cfg.activations) != n):
        fill = (cfg.activations or FIELD["activations"].default)[-1]  # layers alone: keep the last activation
        cfg.activations = (cfg.activations[:n] if len(cfg.activations) > 1 else []) + [fill] * n
        cfg.activations = cfg.activations[:n]
    if len(cfg.activations) != len(cfg.layers):
        raise ConfigError(f"activations has {len(cfg.activations)} entries for {len(cfg.layers)} hidden layers; "
                          "give one per hidden layer (or a single one for all)")  # fmt: skip
    if cfg.dataset == UPLOAD and not cfg.upload:
        raise ConfigError("dataset=upload needs the id of an uploaded CSV (upload=…); upload a file first")
    if cfg.dataset != UPLOAD:
        regression = is_regression(cfg.dataset)
        if "problem" in raw and (cfg.problem == "regression") != regression:
            raise ConfigError(f"the data set {cfg.dataset} is a {'regression' if regression else 'classification'} "
                              f"problem; choose problem={'regression' if regression else 'classification'}")  # fmt: skip
        cfg.problem = "regression" if regression else "classification"
        if not takes_classes(cfg.dataset):
            cfg.classes = 2
    if cfg.dataset != UPLOAD:
        check_batch(cfg, cfg.points)


def training_points(cfg, points: int) -> int:
    """How many of ``points`` rows train (the first ``train_ratio`` %, at least one)."""
    return max(1, points * cfg.train_ratio // 100)


def check_batch(cfg, points: int) -> None:
    """A batch can be no larger than the training set: ``batch_size ≤ points · train_ratio / 100``."""
    n_train = training_points(cfg, points)
    if cfg.batch_size > n_train:
        raise ConfigError(f"batch_size {cfg.batch_size} exceeds the {n_train} training points; choose at most {n_train}")


def apply_upload(cfg, raw: dict, upload) -> None:
    """Tie ``cfg`` to the uploaded data set ``upload`` (an :class:`~.upload.Upload`): its problem
    type and class count are the file's (``problem`` given otherwise is refused, as for a generated
    set), and the batch must fit its training rows."""
    if "problem" in raw and cfg.problem != upload.problem:
        raise ConfigError(f"the uploaded data are a {upload.problem} problem; choose problem={upload.problem} "
                          f"(or upload the file again with problem={cfg.problem})")  # fmt: skip
    cfg.problem = upload.problem
    cfg.classes = upload.classes if upload.problem == "classification" else FIELD["classes"].default
    check_batch(cfg, len(upload.X))
