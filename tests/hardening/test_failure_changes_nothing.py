"""A failed operation changes nothing: weights, optimiser state and files are byte for byte as before."""

import copy
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.io import ModelFileError


def _model(seed=0):
    return ng.nn.Sequential(ng.nn.Linear(3, 4, seed=seed), ng.nn.Tanh(), ng.nn.Linear(4, 2, seed=seed + 1))


def _train(model, opt, steps=3):
    x = np.linspace(-1, 1, 15, dtype=np.float32).reshape(5, 3)
    for _ in range(steps):
        opt.zero_grad()
        (model(x) ** 2).sum().backward()
        opt.step()


def _snapshot(model, opt):
    return copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())


def _assert_same(before, model, opt):
    weights, state = before
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, weights[k])
    now = opt.state_dict()
    assert now["param_groups"] == state["param_groups"]
    assert now["state"].keys() == state["state"].keys()
    for i, buffers in state["state"].items():
        assert now["state"][i].keys() == buffers.keys()
        for k, v in buffers.items():
            np.testing.assert_array_equal(now["state"][i][k], v)


def _saved(tmp_path, optimizer_cls=None, model=None):
    m = model or _model(seed=10)
    opt = optimizer_cls(m.parameters(), lr=0.01) if optimizer_cls else None
    if opt:
        _train(m, opt)
    return ng.io.save(m, tmp_path / "saved.safetensors", optimizer=opt)


def _drop_buffer(path, buffer):
    """The same file with one optimiser buffer removed (a hand-edited or truncated-by-a-tool file)."""
    info, tensors = ng.io.deserialize(path.read_bytes())
    import json

    from safetensors.numpy import save

    kept = {k: np.array(v) for k, v in tensors.items() if not k.endswith(buffer)}
    path.write_bytes(save(kept, metadata={"nablagrad": json.dumps(info)}))
    return path


LOAD_CASES = {
    "no optimiser state in the file": (lambda p: _saved(p), ng.optim.Adam, "holds no optimiser state"),
    "Adam state, SGD given": (lambda p: _saved(p, ng.optim.Adam), ng.optim.SGD, "holds Adam state, not SGD"),
    "SGD state, Adam given": (lambda p: _saved(p, ng.optim.SGD), ng.optim.Adam, "holds SGD state, not Adam"),
    "a missing Adam buffer": (lambda p: _drop_buffer(_saved(p, ng.optim.Adam), "0.exp_avg_sq"), ng.optim.Adam, "missing \\['exp_avg_sq'\\]"),  # noqa: E501
    "a model of another shape": (lambda p: _saved(p, ng.optim.Adam, ng.nn.Sequential(ng.nn.Linear(3, 5), ng.nn.Tanh(), ng.nn.Linear(5, 2))),  # noqa: E501
                                 ng.optim.Adam, "does not fit the model: 0.weight has shape \\(3, 5\\)"),
    "a model with fewer layers": (lambda p: _saved(p, ng.optim.Adam, ng.nn.Sequential(ng.nn.Linear(3, 2))),
                                  ng.optim.Adam, "does not fit the model: missing"),
}  # fmt: skip


@pytest.mark.parametrize("case", LOAD_CASES, ids=list(LOAD_CASES))
def test_load_into_a_model_and_optimiser_is_all_or_nothing(tmp_path, case):
    make_file, opt_cls, message = LOAD_CASES[case]
    path = make_file(tmp_path)
    m = _model()
    opt = opt_cls(m.parameters(), lr=0.05)
    _train(m, opt, steps=2)
    before = _snapshot(m, opt)
    with pytest.raises(ModelFileError, match=message):
        ng.io.load(path, model=m, optimizer=opt)
    _assert_same(before, m, opt)


def test_resume_with_another_optimiser_type_changes_nothing(tmp_path):
    X = np.random.default_rng(0).standard_normal((32, 3)).astype(np.float32)
    y = X @ np.ones((3, 2), np.float32)
    m = _model()
    ng.train.fit(m, "mse", ng.optim.Adam(m.parameters(), lr=0.01), X, y, epochs=2, batch_size=8, seed=0,
                 checkpoint_dir=tmp_path)  # fmt: skip
    m2 = _model(seed=5)
    opt = ng.optim.SGD(m2.parameters(), lr=0.01, momentum=0.9)
    _train(m2, opt)
    before = _snapshot(m2, opt)
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(ModelFileError, match="holds Adam state, not SGD"):
        ng.train.fit(m2, "mse", opt, X, y, epochs=3, batch_size=8, seed=0, checkpoint_dir=tmp_path, resume=True)
    _assert_same(before, m2, opt)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files


MODULE_STATE_CASES = {
    "a non-numeric second entry": (lambda sd: {**sd, "2.weight": np.full((4, 2), "x")}, TypeError, "2.weight holds"),
    "None as the second entry": (lambda sd: {**sd, "2.weight": None}, ValueError, "2.weight has shape \\(\\)"),
    "a wrong shape in the last entry": (lambda sd: {**sd, "2.bias": np.zeros(3)}, ValueError, "2.bias has shape \\(3,\\)"),
    "a missing key": (lambda sd: {k: v for k, v in sd.items() if k != "2.bias"}, KeyError, "missing keys \\['2.bias'\\]"),
    "an unexpected key": (lambda sd: {**sd, "9.weight": np.zeros(1)}, KeyError, "unexpected keys \\['9.weight'\\]"),
    "not a dict": (lambda sd: list(sd.values()), TypeError, "expected a dict"),
}


@pytest.mark.parametrize("case", MODULE_STATE_CASES, ids=list(MODULE_STATE_CASES))
def test_module_load_state_dict_checks_every_entry_before_writing(case):
    edit, exc, message = MODULE_STATE_CASES[case]
    m = _model()
    good = {k: v + 1 for k, v in _model(seed=7).state_dict().items()}
    before = m.state_dict()
    with pytest.raises(exc, match=message):
        m.load_state_dict(edit(good))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def _adam_state():
    m = _model(seed=3)
    opt = ng.optim.Adam(m.parameters(), lr=0.01, amsgrad=True)
    _train(m, opt)
    return opt.state_dict()


def _edit_state(fn):
    def edit(sd):
        sd = copy.deepcopy(sd)
        fn(sd)
        return sd

    return edit


OPT_STATE_CASES = {
    "a missing buffer": (_edit_state(lambda sd: sd["state"][1].pop("exp_avg_sq")), "missing \\['exp_avg_sq'\\]"),
    "a missing amsgrad buffer": (_edit_state(lambda sd: sd["state"][3].pop("max_exp_avg_sq")), "missing \\['max_exp_avg_sq'\\]"),
    "an unknown buffer": (_edit_state(lambda sd: sd["state"][0].update(bogus=np.zeros((3, 4)))), "unexpected \\['bogus'\\]"),
    "a buffer of another shape": (_edit_state(lambda sd: sd["state"][2].update(exp_avg=np.zeros((2, 4)))), "exp_avg.*shape \\(2, 4\\)"),  # noqa: E501
    "a negative step": (_edit_state(lambda sd: sd["state"][0].update(step=-1)), "'step' of parameter 0 must be"),
    "a position out of range": (_edit_state(lambda sd: sd["state"].update({7: sd["state"][0]})), "state entry 7"),
    "an invalid saved lr": (_edit_state(lambda sd: sd["param_groups"][0].update(lr=float("nan"))), "lr must be a finite number"),
    "betas of one element": (_edit_state(lambda sd: sd["param_groups"][0].update(betas=(0.9,))), "betas must be a pair"),
    "an unknown option": (_edit_state(lambda sd: sd["param_groups"][0].update(foo=1)), "unknown option"),
    "another number of groups": (_edit_state(lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0]))), "number of parameters or groups"),  # noqa: E501
    "not a state dict": (lambda sd: {"weights": 1}, "expected a dict with 'state' and 'param_groups'"),
}  # fmt: skip


@pytest.mark.parametrize("case", OPT_STATE_CASES, ids=list(OPT_STATE_CASES))
def test_optimizer_load_state_dict_is_refused_up_front(case):
    edit, message = OPT_STATE_CASES[case]
    m = _model()
    opt = ng.optim.Adam(m.parameters(), lr=0.02, amsgrad=True)
    _train(m, opt, steps=1)
    before = _snapshot(m, opt)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(edit(_adam_state()))
    _assert_same(before, m, opt)
    _train(m, opt, steps=1)  # still usable: the next step works and updates every parameter
    assert all(opt.state[id(p)]["step"] == 2 for p in m.parameters())


HUGE_STEP = {
    "SGD lr=1e37": lambda ps: ng.optim.SGD(ps, lr=1e37),
    "SGD momentum lr=1e38": lambda ps: ng.optim.SGD(ps, lr=1e38, momentum=0.9),
    "Momentum lr=1e38": lambda ps: ng.optim.Momentum(ps, lr=1e38, forgetting=1.0),
    "AdaGrad lr=1e39": lambda ps: ng.optim.AdaGrad(ps, lr=1e39),
    "RMSProp lr=1e39": lambda ps: ng.optim.RMSProp(ps, lr=1e39, momentum=0.5, centered=True),
    "Adam lr=1e39": lambda ps: ng.optim.Adam(ps, lr=1e39),
    "AdamW lr=1e39 amsgrad": lambda ps: ng.optim.AdamW(ps, lr=1e39, amsgrad=True),
}


@pytest.mark.parametrize("case", HUGE_STEP, ids=list(HUGE_STEP))
def test_a_step_that_overflows_is_rolled_back(case, fast):
    m = _model()
    opt = HUGE_STEP[case](list(m.parameters()))
    for g in opt.param_groups:  # two good steps at a tiny learning rate build up the state
        g["lr"], lr = 1e-3, g["lr"]
    _train(m, opt, steps=2)
    for g in opt.param_groups:
        g["lr"] = lr
    x = np.full((5, 3), 0.5, dtype=np.float32)
    opt.zero_grad()
    ((m(x) - 1000) ** 2).sum().backward()  # gradients ~1e4: lr·g overflows float32
    before = _snapshot(m, opt)
    with pytest.raises(FloatingPointError, match="keep their values from before this step"):
        opt.step()
    _assert_same(before, m, opt)
    assert all(np.isfinite(p.data).all() for p in m.parameters())


STATE_OVERFLOW = {
    "Adam": lambda ps: ng.optim.Adam(ps, lr=1e-3),
    "AdamW amsgrad": lambda ps: ng.optim.AdamW(ps, lr=1e-3, amsgrad=True),
    "AdaGrad": lambda ps: ng.optim.AdaGrad(ps, lr=0.1),
    "RMSProp": lambda ps: ng.optim.RMSProp(ps, lr=1e-3),
}


@pytest.mark.parametrize("case", STATE_OVERFLOW, ids=list(STATE_OVERFLOW))
@pytest.mark.parametrize("first", [True, False], ids=["first step", "later step"])
def test_a_step_that_overflows_only_the_state_is_refused(case, first, fast):
    """g = 1e30 is finite in float32 but g² is not: the second moment would become Inf while the
    parameters stay finite (the step m/√v is 0) — a silent end of training, so it is refused too."""
    m = _model()
    opt = STATE_OVERFLOW[case](list(m.parameters()))
    _train(m, opt, steps=0 if first else 2)
    for p in m.parameters():
        p.grad = ng.tensor(np.full(p.shape, 1e30, np.float32))
    before = _snapshot(m, opt)
    with pytest.raises(FloatingPointError, match="NaN or Inf"):
        opt.step()
    _assert_same(before, m, opt)
    assert all(np.isfinite(v).all() for s in opt.state.values() for v in s.values())


def test_fit_leaves_the_parameters_at_their_last_good_values():
    X = np.random.default_rng(0).standard_normal((16, 3)).astype(np.float32)
    y = np.full((16, 2), 1000, np.float32)
    m = _model()
    before = m.state_dict()
    with pytest.raises(ng.train.TrainingDivergedError, match="last good values"):
        ng.train.fit(m, "mse", ng.optim.SGD(m.parameters(), lr=1e37), X, y, epochs=1, batch_size=16, seed=0)
    for k, v in m.state_dict().items():  # the first step already overflowed: nothing was changed
        np.testing.assert_array_equal(v, before[k])


_WRITER = """
import sys, time
from nablagrad.io import atomic_write_bytes
def writer(fh):
    fh.write(b"partial")
    fh.flush()
    print("writing", flush=True)
    time.sleep(600)
atomic_write_bytes(sys.argv[1], writer=writer)
"""


@pytest.mark.parametrize("kills", [1, 3])
def test_a_killed_save_leaves_no_temporary_behind_after_the_next_save(tmp_path, kills):
    path = tmp_path / "m.safetensors"
    ng.io.save(_model(), path)
    old = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for _ in range(kills):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert path.read_bytes() == old  # the target was never touched
    assert len(list(tmp_path.iterdir())) == 2  # the last killed writer's temporary (each writer removed the earlier ones)
    ng.io.save(_model(seed=4), path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    ng.io.load(path)


def test_the_next_save_keeps_a_live_writers_temporary(tmp_path):
    path = tmp_path / "m.safetensors"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "writing"
        ng.io.save(_model(), path)
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names[1] == "m.safetensors" and names[0].startswith(".m.safetensors.")  # still being written: kept
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
