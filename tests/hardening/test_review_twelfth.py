"""The twelfth review's confirmed problems, each pinned by a test that failed before its fix."""

import json
import struct

import numpy as np
import pytest
from test_hostile_files import _outcome  # the same folder (pytest puts it on the path)

import nablagrad as ng
from nablagrad.io import ModelFileError

KB = 1024


# --- 1, 2: a hostile header is refused before any allocation ----------------------------------------------
def _file(header: dict | str, data: bytes = b"") -> bytes:
    h = (header if isinstance(header, str) else json.dumps(header)).encode()
    return struct.pack("<Q", len(h)) + h + data


def _meta(n_in: int, n_out: int, layers: int = 1) -> dict:
    linear = {"type": "Linear", "in_features": n_in, "out_features": n_out, "bias": False}
    info = {"format": "nablagrad/1", "metadata": {}, "dtype": "float32",
            "architecture": {"type": "Sequential", "layers": [linear] * layers}}  # fmt: skip
    return {"nablagrad": json.dumps(info)}


def _weight(n_in: int, n_out: int, start: int, end: int | None = None) -> dict:
    return {"dtype": "F32", "shape": [n_in, n_out], "data_offsets": [start, start + 4 * n_in * n_out if end is None else end]}


_peak = _outcome  # what a reader raised, and the peak of memory it allocated (test_hostile_files.py's measure)


TILING = {
    "every layer over the same bytes": ({f"model.{i}.weight": _weight(50, 50, 0) for i in range(40)}, 40, 4 * 2500,
                                        "overlaps the tensor before it"),
    "two tensors overlapping by 4 bytes": ({"model.0.weight": _weight(2, 2, 0), "model.1.weight": _weight(2, 2, 12)}, 2, 28,
                                           "overlaps"),
    "a gap between tensors": ({"model.0.weight": _weight(2, 2, 0), "model.1.weight": _weight(2, 2, 20)}, 2, 36,
                              "leaves a gap of 4 bytes"),
    "not starting at byte 0": ({"model.0.weight": _weight(2, 2, 8)}, 1, 24, "leaves a gap of 8 bytes"),
    "data left over after the last tensor": ({"model.0.weight": _weight(2, 2, 0)}, 1, 24, "cover 16 bytes, the data holds 24"),
}  # fmt: skip


@pytest.mark.parametrize("case", TILING, ids=list(TILING))
def test_tensors_must_tile_the_data_section(tmp_path, case):
    tensors, layers, nbytes, message = TILING[case]
    n = tensors["model.0.weight"]["shape"][0]
    raw = _file({**tensors, "__metadata__": _meta(n, n, layers)}, bytes(nbytes))
    path = tmp_path / "overlap.safetensors"
    path.write_bytes(raw)
    for reader in (ng.io.load, ng.io.read_metadata):
        exc, peak = _peak(lambda reader=reader: reader(path))
        assert isinstance(exc, ModelFileError) and message in str(exc), repr(exc)
        assert peak < 4 * len(raw) + 256 * KB  # refused from the header: no layer was built
    assert path.read_bytes() == raw


def test_tensors_in_any_order_of_the_header_still_load(tmp_path):
    tensors = {"model.1.weight": _weight(2, 2, 16), "model.0.weight": _weight(2, 2, 0)}  # listed out of offset order
    path = tmp_path / "ok.safetensors"
    path.write_bytes(_file({**tensors, "__metadata__": _meta(2, 2, 2)}, np.arange(8, dtype="<f4").tobytes()))
    m = ng.io.load(path)
    np.testing.assert_array_equal(m[1].weight.numpy(), [[4, 5], [6, 7]])


def _junk_header(extra: str, n: int = 200_000) -> str:
    meta = json.dumps(_meta(2, 1))
    junk = extra.replace("@", ",".join(["{}"] * n))
    return f'{{"__metadata__": {meta}, "model.0.weight": {{"dtype": "F32", "shape": [2, 1], "data_offsets": [0, 8], {junk}}}}}'


HOSTILE_HEADERS = {
    "an entry with a key full of empty objects": (_junk_header('"junk": [@]'), "holds an empty object"),
    "an entry with one more key": (_junk_header('"junk": 1'), "keys ['dtype', 'shape', 'data_offsets', 'junk'] (odd: ['junk'])"),
    "an entry with a duplicate key": (_junk_header('"dtype": "F32"'), "an entry holds exactly dtype, shape and data_offsets"),
    "a shape full of entries": ('{"model.w": {"dtype": "F32", "data_offsets": [0, 0], "shape": ['
                                + ",".join(['{"dtype": "F32", "shape": [], "data_offsets": [0, 4]}'] * 20_000) + "]}}",
                                "shape or data_offsets is not a list of integers", 12),  # each valid-looking entry is built
    "a tensor described by a list": ('{"model.w": [1, 2], "model.v": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}',
                                     "describes tensor 'model.w' with a list"),
    "a float in a shape": ('{"model.w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}', "holds the number 1.5"),
    "NaN in offsets": ('{"model.w": {"dtype": "F32", "shape": [1], "data_offsets": [0, NaN]}}', "holds the number NaN"),
    "metadata holding an object": ('{"__metadata__": {"nablagrad": {"a": 1}}}', "neither a tensor entry"),
    "metadata of another library": ('{"__metadata__": {"format": "pt"}}', "not a nablagrad model (no 'nablagrad' metadata)"),
}  # fmt: skip


@pytest.mark.parametrize("case", HOSTILE_HEADERS, ids=list(HOSTILE_HEADERS))
def test_a_hostile_header_is_refused_while_it_is_parsed(tmp_path, case):
    header, message, *factor = HOSTILE_HEADERS[case]
    raw = _file(header, bytes(8))
    path = tmp_path / "junk.safetensors"
    path.write_bytes(raw)
    exc, peak = _peak(lambda: ng.io.load(path))
    assert isinstance(exc, ModelFileError) and message in str(exc), repr(exc)
    assert peak < (factor or [2])[0] * len(raw) + 256 * KB  # the first bad object stops the parse: no million dicts built


def test_a_header_over_the_cap_is_refused_by_load_and_by_save(tmp_path):
    from nablagrad.io.serialization import _MAX_HEADER

    assert 4 * 1024 * KB <= _MAX_HEADER <= 16 * 1024 * KB  # generous for a real model, small for a hostile one
    path = tmp_path / "big.safetensors"
    path.write_bytes(struct.pack("<Q", _MAX_HEADER + 1) + b" " * (_MAX_HEADER + 1))
    with pytest.raises(ModelFileError, match=f"over the {_MAX_HEADER} a model file's header may take"):
        ng.io.load(path)
    out = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match="keep large metadata in a file of its own"):
        ng.io.save(ng.nn.Linear(2, 1), out, metadata={"notes": "x" * _MAX_HEADER})
    assert not out.exists()


# --- 3: data that would fail mid-run is refused before the first batch --------------------------------------
def _run():
    ng.manual_seed(0)
    m = ng.nn.Sequential(ng.nn.Linear(3, 4), ng.nn.ReLU(), ng.nn.Linear(4, 2))
    return m, ng.optim.Adam(m.parameters(), lr=0.01)


_X = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
_Y = np.arange(20) % 2
_LAST_BAD = np.where(np.arange(20) == 19, 5, _Y)  # one label out of range, in the last batch
FIT_DATA = {
    "validation X with 7 features": (dict(validation_data=(np.ones((5, 7), np.float32), _Y[:5])), ValueError,
                                     r"fit: validation X does not fit the model: Linear\(3, 4\): input has 7 features"),
    "validation labels out of range": (dict(validation_data=(_X[:5], _Y[:5] + 7)), ValueError,
                                       r"fit: validation y does not fit the loss: cross_entropy: labels must lie in \[0, 1\]"),
    "validation labels as floats": (dict(validation_data=(_X[:5], _Y[:5] + 0.5)), ValueError,
                                    "validation y does not fit the loss"),
    "validation data with 0 rows": (dict(validation_data=(_X[:0], _Y[:0])), ValueError, r"no validation X \(0 rows\)"),
    "a bad label in the last training batch": (dict(y=_LAST_BAD, shuffle=False), ValueError,
                                               r"fit: y does not fit the loss: .*got range \[0, 5\]"),
    "a loss returning a float": (dict(loss_fn=lambda p, t: 3.0), TypeError,
                                 "loss_fn must return the batch's loss as a one-element"),
    "a loss returning a vector": (dict(loss_fn=lambda p, t: (p * p).sum(axis=1)), TypeError, r"got a Tensor of shape \(20,\)"),
}  # fmt: skip


@pytest.mark.parametrize("case", FIT_DATA, ids=list(FIT_DATA))
def test_fit_refuses_data_that_would_fail_mid_run_before_the_first_batch(case):
    kwargs, error, message = FIT_DATA[case]
    m, opt = _run()
    before = [p.numpy().copy() for p in m.parameters()]
    args = {"epochs": 1, "batch_size": 8, "loss_fn": "cross_entropy", "y": _Y, **kwargs}
    with pytest.raises(error, match=message):
        ng.train.fit(m, args.pop("loss_fn"), opt, _X, args.pop("y"), **args)
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(before, m.parameters()))  # nothing trained
    assert not opt.state  # the optimiser never stepped


def test_the_check_before_training_draws_no_random_number_and_keeps_the_mode():
    weights = []
    for validation in (None, (_X, _Y)):
        ng.manual_seed(1)
        m = ng.nn.Sequential(ng.nn.Linear(3, 4), ng.nn.Dropout(0.5), ng.nn.Linear(4, 2))
        ng.train.fit(m, "cross_entropy", ng.optim.SGD(m.parameters(), lr=0.1), _X, _Y, epochs=2, seed=3,
                     validation_data=validation)  # fmt: skip
        assert m.training and m[1].training
        weights.append([p.numpy() for p in m.parameters()])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)  # the same masks drawn: the check used no random number


# --- 4: learning-rate schedules never write a negative or NaN rate; failures change nothing ----------------
def _two_groups():
    m = ng.nn.Sequential(ng.nn.Linear(3, 4), ng.nn.Linear(4, 2))
    ps = list(m.parameters())
    return ng.optim.SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.5}], lr=0.1)


O = ng.optim
SCHEDULE_ARGS = {
    "InverseTimeLR gamma -1": (lambda o: O.InverseTimeLR(o, gamma=-1), ValueError, "gamma must be a finite number >= 0"),
    "InverseTimeLR gamma 'a'": (lambda o: O.InverseTimeLR(o, gamma="a"), TypeError, "gamma must be a number, got 'a'"),
    "InverseTimeLR gamma None": (lambda o: O.InverseTimeLR(o, gamma=None), TypeError, "gamma must be a number, got None"),
    "ExponentialLR gamma -0.5": (lambda o: O.ExponentialLR(o, gamma=-0.5), ValueError, "got -0.5"),
    "ExponentialLR gamma nan": (lambda o: O.ExponentialLR(o, gamma=float("nan")), ValueError, "got nan"),
    "StepLR gamma -1": (lambda o: O.StepLR(o, 1, gamma=-1), ValueError, "StepLR: gamma must be a finite number >= 0"),
    "StepLR gamma True": (lambda o: O.StepLR(o, 1, gamma=True), TypeError, "gamma must be a number, got True"),
    "Cosine T_max inf": (lambda o: O.CosineAnnealingLR(o, T_max=float("inf")), ValueError, "finite, got inf"),
    "Cosine eta_min -1": (lambda o: O.CosineAnnealingLR(o, T_max=2, eta_min=-1), ValueError, "eta_min must be a finite"),
    "Cosine eta_min nan": (lambda o: O.CosineAnnealingLR(o, T_max=2, eta_min=float("nan")), ValueError, "got nan"),
    "Cosine eta_min None": (lambda o: O.CosineAnnealingLR(o, T_max=2, eta_min=None), TypeError, "eta_min must be a number"),
}  # fmt: skip


@pytest.mark.parametrize("case", SCHEDULE_ARGS, ids=list(SCHEDULE_ARGS))
def test_schedule_arguments_that_give_bad_rates_are_refused(case):
    make, error, message = SCHEDULE_ARGS[case]
    with pytest.raises(error, match=message):
        make(_two_groups())


def test_schedule_arguments_pytorch_accepts_still_work():
    o = _two_groups()
    s = O.ExponentialLR(o, gamma=0)
    s.step()
    assert [g["lr"] for g in o.param_groups] == [0.0, 0.0]
    s = O.StepLR(_two_groups(), 1, gamma=np.float32(2.0))  # a growing schedule is allowed, as in PyTorch
    s.step()
    assert s.get_last_lr() == [0.2, 1.0]


class _NegativeForTheSecondGroup(O.LRScheduler):
    def lr_at(self, base_lr, t):
        return base_lr if base_lr < 0.3 else -base_lr


@pytest.mark.parametrize("make", [lambda o: _NegativeForTheSecondGroup(o),
                                  lambda o: O.ExponentialLR(o, gamma=2.0)], ids=["negative", "overflow"])  # fmt: skip
def test_a_refused_step_writes_no_rate_and_keeps_the_epoch(make):
    o = _two_groups()
    s = make(o)
    if isinstance(s, O.ExponentialLR):
        s.load_state_dict({"last_epoch": 1023, "base_lrs": [0.1, 0.5]})  # 2.0 ** 1024 overflows a float
    before, epoch = [g["lr"] for g in o.param_groups], s.last_epoch
    with pytest.raises(ValueError, match=f"step: the learning rate at step {epoch + 1} would be"):
        s.step()
    assert [g["lr"] for g in o.param_groups] == before and s.last_epoch == epoch


LOAD_STATES = {
    "base_lrs with a string": ({"last_epoch": 1, "base_lrs": [0.1, "a"], "last_lr": [0.1, 0.5]}, TypeError,
                               r"base_lrs\[1\] must be a number"),
    "base_lrs negative": ({"last_epoch": 1, "base_lrs": [0.1, -1]}, ValueError, r"base_lrs\[1\] must be a finite number >= 0"),
    "base_lrs of another length": ({"last_epoch": 1, "base_lrs": [0.1]}, ValueError, "one rate per parameter group"),
    "last_lr a number": ({"last_epoch": 1, "base_lrs": [0.1, 0.1], "last_lr": 5}, ValueError, "last_lr must hold one rate"),
    "last_lr NaN": ({"last_epoch": 1, "base_lrs": [0.1, 0.1], "last_lr": [0.1, float("nan")]}, ValueError, r"last_lr\[1\]"),
    "last_epoch 2.5": ({"last_epoch": 2.5, "base_lrs": [0.1, 0.1]}, ValueError, "last_epoch must be an int >= -1"),
    "last_epoch True": ({"last_epoch": True, "base_lrs": [0.1, 0.1]}, ValueError, "last_epoch must be an int >= -1"),
    "last_epoch whose rate overflows": ({"last_epoch": 10**6, "base_lrs": [0.1, 0.5]}, ValueError,
                                        "at step 1000000 would be inf"),
}  # fmt: skip


@pytest.mark.parametrize("case", LOAD_STATES, ids=list(LOAD_STATES))
def test_schedule_load_state_dict_checks_everything_and_applies_nothing_on_error(case):
    state, error, message = LOAD_STATES[case]
    o = _two_groups()
    s = O.ExponentialLR(o, gamma=2.0)
    s.step()
    before, lrs = s.state_dict(), [g["lr"] for g in o.param_groups]
    with pytest.raises(error, match=message):
        s.load_state_dict(state)
    assert s.state_dict() == before and [g["lr"] for g in o.param_groups] == lrs
    s.step()  # and it goes on as before
    assert s.get_last_lr() == [0.4, 2.0]


# --- 5: an optimiser's saved state with NaN buffers or a bad step count is refused, applying nothing -------
def _adam_after_two_steps(amsgrad=False):
    ng.manual_seed(0)
    m = ng.nn.Sequential(ng.nn.Linear(3, 4), ng.nn.Linear(4, 2))
    opt = ng.optim.Adam(m.parameters(), lr=0.01, amsgrad=amsgrad)
    x = ng.tensor(np.ones((2, 3), np.float32))
    for _ in range(2):
        opt.zero_grad()
        (m(x) ** 2).sum().backward()
        opt.step()
    return m, opt


def _poisoned(sd: dict, pos: int, key: str, value) -> dict:
    sd["state"][pos][key] = value
    return sd


BAD_STATES = {
    "NaN in exp_avg_sq": (3, "exp_avg_sq", lambda a: np.full_like(a, np.nan), "buffer 'exp_avg_sq' of parameter 3 holds NaN"),
    "Inf in exp_avg": (0, "exp_avg", lambda a: np.where(np.arange(a.size).reshape(a.shape) == 0, np.inf, a),
                       "buffer 'exp_avg' of parameter 0 holds NaN or infinite"),
    "step -1": (1, "step", lambda a: -1, r"buffer 'step' of parameter 1 must be an array or a step count \(an integer"),
    "step 2.5": (1, "step", lambda a: 2.5, "got 2.5"),
    "step 1e300": (1, "step", lambda a: 1e300, "got 1e\\+300"),
    "step 2**60": (1, "step", lambda a: 2**60, "0..2\\*\\*53"),
    "step a string": (1, "step", lambda a: "x", "got 'x'"),
    "step True": (1, "step", lambda a: True, "got True"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_STATES, ids=list(BAD_STATES))
def test_optimizer_load_state_dict_refuses_non_finite_buffers_and_bad_step_counts(case):
    pos, key, make, message = BAD_STATES[case]
    _, saved = _adam_after_two_steps()
    sd = saved.state_dict()
    sd = _poisoned(sd, pos, key, make(sd["state"][pos][key]))
    m, opt = _adam_after_two_steps()
    before = opt.state_dict()
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(sd)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i, buffers in before["state"].items():
        for k, v in buffers.items():
            np.testing.assert_array_equal(after["state"][i][k], v)


def test_io_load_with_an_optimizer_refuses_a_nan_buffer_and_changes_nothing(tmp_path):
    m, opt = _adam_after_two_steps()
    path = ng.io.save(m, tmp_path / "ck.safetensors", optimizer=opt)
    raw = bytearray(path.read_bytes())
    n = struct.unpack("<Q", raw[:8])[0]
    start, end = json.loads(raw[8 : 8 + n])["optim.0.exp_avg_sq"]["data_offsets"]
    raw[8 + n + start : 8 + n + end] = np.full((end - start) // 4, np.nan, np.float32).tobytes()
    path.write_bytes(bytes(raw))
    m2, opt2 = _adam_after_two_steps()
    weights, state = [p.numpy().copy() for p in m2.parameters()], opt2.state_dict()
    with pytest.raises(ModelFileError, match="buffer 'exp_avg_sq' of parameter 0 holds NaN or infinite values"):
        ng.io.load(path, model=m2, optimizer=opt2)
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(weights, m2.parameters()))
    np.testing.assert_array_equal(opt2.state_dict()["state"][0]["exp_avg_sq"], state["state"][0]["exp_avg_sq"])


# --- 6: a model's parameters stay floating point -------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int32", np.int64, "bool", "uint8", int])
def test_module_to_a_non_floating_dtype_is_refused_and_changes_nothing(dtype):
    m = ng.nn.Linear(3, 2)
    before = m.weight.numpy().copy()
    with pytest.raises(TypeError, match="Module.to: parameters must stay floating point"):
        m.to(dtype=dtype)
    with pytest.raises(TypeError, match="must stay floating point"):
        m.to(dtype)
    assert m.weight.dtype == np.float32 and m.weight.requires_grad
    np.testing.assert_array_equal(m.weight.numpy(), before)


def test_module_to_a_float_dtype_still_casts_and_a_bogus_one_is_named():
    m = ng.nn.Linear(3, 2)
    assert m.to(dtype="float64").weight.dtype == np.float64
    with pytest.raises(TypeError, match="Module.to: 'bogus' is not a dtype"):
        m.to(dtype="bogus")


# --- 7, 8: the command line -------------------------------------------------------------------------------
def _cli(capsys, *args) -> tuple[int, str, str]:
    from nablagrad.cli.main import main

    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_train_without_a_validation_split_prints_its_epochs(tmp_path, capsys):
    status, out, err = _cli(capsys, "train", "--dataset", "moons", "--epochs", "2", "--validation", "0", "--layers", "4",
                            "--out", tmp_path / "run", "--no-progress")  # fmt: skip
    assert status == 0, err
    assert "epoch   2  loss" in out and "validation" not in out
    assert (tmp_path / "run" / "model.safetensors").exists()


@pytest.fixture(scope="module")
def odd_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("odd")
    ng.io.save(ng.nn.KAN([2, 3, 2]), d / "kan.safetensors", metadata={"dataset": "moons"})
    ng.io.save(ng.nn.Sequential(ng.nn.Linear(2, 5), ng.nn.ReLU(), ng.nn.Linear(3, 2)), d / "nochain.safetensors",
               metadata={"dataset": "moons"})  # fmt: skip
    ng.io.save(ng.nn.Sequential(ng.nn.Linear(784, 5), ng.nn.ReLU(), ng.nn.Linear(3, 10)), d / "nochain784.safetensors",
               metadata={"dataset": "mnist"})  # fmt: skip
    ng.io.save(ng.nn.KAN([784, 2, 10]), d / "kan784.safetensors", metadata={"dataset": "mnist"})
    return d


ODD = [
    ("a 2-feature KAN on mnist", ["evaluate", "kan.safetensors", "--dataset", "mnist"], "takes 2 input features (trained on moons) but mnist has 784"),  # noqa: E501
    ("a 784-feature KAN on moons", ["evaluate", "kan784.safetensors", "--dataset", "moons"], "takes 784 input features (trained on mnist) but moons has 2"),  # noqa: E501
    ("layers that do not chain", ["evaluate", "nochain.safetensors"], r"cannot take the moons examples \(2 features\): Linear\(3, 2\): input has 5 features"),  # noqa: E501
    ("predict with layers that do not chain", ["predict", "nochain784.safetensors", "digit.png"], r"cannot take a 28×28 picture \(784 features\): Linear\(3, 10\)"),  # noqa: E501
    ("predict with a 2-feature KAN", ["predict", "kan.safetensors", "digit.png"], "takes 2 input features (trained on moons); predict needs"),  # noqa: E501
]  # fmt: skip


@pytest.mark.parametrize("case", ODD, ids=[c[0] for c in ODD])
def test_evaluate_and_predict_name_a_model_that_does_not_fit_as_a_usage_error(odd_models, capsys, case):
    import re

    _, args, message = case
    if "digit.png" in args:
        from PIL import Image

        Image.fromarray(np.zeros((28, 28), np.uint8)).save(odd_models / "digit.png")
    status, _, err = _cli(capsys, *[odd_models / a if a.endswith((".safetensors", ".png")) else a for a in args])
    assert status == 2, err
    assert err.count("\n") == 1 and "unexpected" not in err and "Traceback" not in err
    assert re.search(message if "\\" in message else re.escape(message), err), err


def test_evaluate_reads_a_kan_model_on_its_own_data_set(odd_models, capsys):
    status, out, err = _cli(capsys, "evaluate", odd_models / "kan.safetensors")
    assert status == 0, err
    assert "moons test accuracy" in out


# --- 9: arguments refused with a clear error instead of a raw traceback (or silently) ----------------------
def _linear_params():
    return list(ng.nn.Linear(2, 2).parameters())


BAD_ARGUMENTS = {
    "HuberLoss(delta='a')": (lambda: ng.nn.HuberLoss(delta="a"), TypeError, "HuberLoss: delta must be a number, got 'a'"),
    "SmoothL1Loss(beta=None)": (lambda: ng.nn.SmoothL1Loss(beta=None), TypeError, "SmoothL1Loss: beta must be a number"),
    "Adam params None": (lambda: ng.optim.Adam([{"params": None}]), TypeError,
                         "a group's 'params' must be a parameter or an iterable"),
    "SGD params 5": (lambda: ng.optim.SGD([{"params": 5}], lr=0.1), TypeError, "got int"),
    "LeakyReLU('a')": (lambda: ng.nn.LeakyReLU("a"), TypeError, "LeakyReLU: negative_slope must be a number"),
    "LeakyReLU(nan)": (lambda: ng.nn.LeakyReLU(float("nan")), ValueError, "negative_slope must be finite"),
    "Softmax(axis='a')": (lambda: ng.nn.Softmax(axis="a"), TypeError, "Softmax: axis must be an integer"),
    "LogSoftmax(axis=1.5)": (lambda: ng.nn.LogSoftmax(axis=1.5), TypeError, "LogSoftmax: axis must be an integer"),
    "DataLoader(drop_last='x')": (lambda: ng.data.DataLoader(np.ones((4, 2)), np.ones(4), drop_last="x"), TypeError,
                                  "DataLoader: drop_last must be True or False, got 'x'"),
    "DataLoader(shuffle='no')": (lambda: ng.data.DataLoader(np.ones((4, 2)), np.ones(4), shuffle="no"), TypeError,
                                 "shuffle must be True or False"),
    "load_state_dict(strict='no')": (lambda: ng.nn.Linear(2, 2).load_state_dict(ng.nn.Linear(2, 2).state_dict(), strict="no"),
                                     TypeError, "load_state_dict: strict must be True or False, got 'no'"),
    "LinearRanker 30 rows, 10 targets": (lambda: ng.ml.LinearRanker().fit(np.ones((30, 3)), np.arange(10)), ValueError,
                                         r"inconsistent numbers of samples: \[30, 10\]"),
    "LinearRanker groups of another length": (lambda: ng.ml.LinearRanker().fit(np.ones((4, 3)), np.arange(4), groups=[0, 1]),
                                              ValueError, "groups has 2 entries but X has 4 rows"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_ARGUMENTS, ids=list(BAD_ARGUMENTS))
def test_bad_arguments_are_named(case):
    call, error, message = BAD_ARGUMENTS[case]
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("flag, value, choices", [("progress", "bogus", "True, False or 'always'"),
                                                  ("jit", "yes", "True or False"), ("shuffle", "no", "True or False"),
                                                  ("distributed", 1, "True or False")])  # fmt: skip
def test_fit_refuses_a_flag_that_is_not_true_or_false_before_training(flag, value, choices):
    m, opt = _run()
    before = [p.numpy().copy() for p in m.parameters()]
    with pytest.raises(TypeError, match=f"fit: {flag} must be {choices}, got {value!r}"):
        ng.train.fit(m, "cross_entropy", opt, _X, _Y, epochs=1, **{flag: value})
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(before, m.parameters())) and not opt.state


def test_save_below_a_file_names_the_file_and_writes_nothing(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"save: cannot write .*afile/m.safetensors.*afile' is a file, not a folder"):
        ng.io.save(ng.nn.Linear(2, 2), tmp_path / "afile" / "m.safetensors")
    assert (tmp_path / "afile").read_text() == "x"


@pytest.mark.parametrize("slope", ["NaN", "Infinity", str(10**400)])
def test_a_file_declaring_a_non_finite_leaky_relu_slope_is_a_model_file_error(tmp_path, slope):
    arch = f'{{"type": "Sequential", "layers": [{{"type": "LeakyReLU", "negative_slope": {slope}}}]}}'
    info = f'{{"format": "nablagrad/1", "metadata": {{}}, "dtype": "float32", "architecture": {arch}}}'
    path = tmp_path / "m.safetensors"
    path.write_bytes(_file({"__metadata__": {"nablagrad": info}}))
    with pytest.raises(ModelFileError, match="LeakyReLU: negative_slope must be a finite number"):
        ng.io.load(path)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: ng.arange(0, 5, 0), ValueError, "arange: step must be non-zero"),
        (lambda: ng.arange(float("nan")), TypeError, "arange: start must be a finite number"),
        (lambda: ng.zeros(-1), ValueError, "zeros: sizes must be non-negative, got -1"),
        (lambda: ng.ones((2, -3)), ValueError, "ones: sizes must be non-negative, got -3"),
        (lambda: ng.eye(-2), ValueError, "eye: sizes must be non-negative, got -2"),
        (lambda: ng.zeros("a"), TypeError, "zeros: sizes must be integers, got 'a'"),
        (lambda: ng.randn(2.5), TypeError, "randn: sizes must be integers, got 2.5"),
        (lambda: ng.full((2, 2), "a"), TypeError, "full: fill_value must be a number, got 'a'"),
        (lambda: ng.randint(0, 3, (2, -1)), ValueError, "randint: sizes must be non-negative"),
    ],
)
def test_factories_name_a_bad_size_or_value(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_factories_take_the_shapes_torch_takes():
    assert ng.zeros(2, 3).shape == ng.zeros((2, 3)).shape == ng.zeros([2, 3]).shape == (2, 3)
    assert ng.zeros(np.int64(3)).shape == (3,) and ng.zeros(()).shape == ()
    assert ng.full(3, 1.5).shape == (3,) and ng.full((2,), True).dtype == np.bool_
    assert ng.randint(0, 3, 4).shape == (4,) and ng.eye(2, 3).shape == (2, 3)


@pytest.mark.parametrize(
    "grid, match",
    [({"alpha": 1.0}, r"must be a non-empty list of candidate values, got 1.0; wrap a single value in a list"),
     ({"alpha": []}, r"must be a non-empty list of candidate values, got \[\]; give at least one candidate")],
)
def test_grid_search_names_a_grid_entry_that_is_not_a_list(grid, match):
    from nablagrad.ml import GridSearchCV, Ridge  # noqa: PLC0415

    X = np.random.default_rng(0).random((20, 3))
    with pytest.raises(ValueError, match=match):
        GridSearchCV(Ridge(), grid).fit(X, X.sum(1))


def test_penalties_take_a_module_or_its_parameters_and_name_anything_else():
    lin = ng.nn.Linear(3, 2, seed=0)
    by_list = float(ng.nn.l1_penalty(lin.parameters(), 0.1))  # every tensor given (a list has no names)
    assert by_list == pytest.approx(0.1 * sum(float(abs(p).sum()) for p in lin.parameters()), rel=1e-6)
    with pytest.raises(TypeError, match="expected a Module .* or an iterable of tensors, got int"):
        ng.nn.l2_penalty(3, 0.1)
