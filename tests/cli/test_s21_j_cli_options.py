"""``nablagrad train``: an option the chosen optimiser or schedule would ignore is refused (one line, exit 2, nothing
written); one it takes reaches it (``--momentum`` with RMSprop, as ``torch.optim.RMSprop(momentum=…)``); a config
file's list of layer sizes; Ctrl-C during training ends in one line with exit status 130 and writes nothing."""

import pytest

import nablagrad as ng
from nablagrad.cli.main import main

QUICK = ["--dataset", "xor", "--epochs", "1", "--layers", "4", "--limit", "60", "--no-progress"]


def _train(capsys, tmp_path, *args):
    rc = main(["train", *QUICK, "--out", str(tmp_path / "run"), *args])
    return rc, capsys.readouterr()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--optimizer", "adam", "--momentum", "0.9"], "--momentum 0.9 does nothing with --optimizer adam, which takes "
         "no momentum; choose --optimizer sgd or rmsprop, or drop --momentum"),  # fmt: skip
        (["--optimizer", "sgd", "--forgetting", "0.2"], "choose --optimizer momentum, or drop --forgetting"),
        (["--gamma", "0.1"], "--gamma 0.1 does nothing with --schedule cosine, which takes no gamma"),
        (["--schedule", "exponential", "--step-size", "3"], "choose --schedule step, or drop --step-size"),
        (["--schedule", "none", "--gamma", "0.9"], "--gamma 0.9 does nothing with --schedule none"),
    ],
)
def test_an_option_the_optimiser_or_schedule_ignores_is_refused(capsys, tmp_path, args, words):
    rc, out = _train(capsys, tmp_path, *args)
    assert rc == 2 and out.out == ""
    assert out.err.count("\n") == 1 and words in out.err and "Traceback" not in out.err
    assert not (tmp_path / "run").exists()


def test_the_default_value_of_an_unused_option_is_fine(capsys, tmp_path):
    rc, out = _train(capsys, tmp_path, "--optimizer", "adam", "--momentum", "0", "--schedule", "step", "--gamma", "0.5")
    assert rc == 0, out.err
    assert (tmp_path / "run" / "model.safetensors").exists()


@pytest.mark.parametrize(
    "args, group",
    [
        (["--optimizer", "rmsprop", "--momentum", "0.9"], {"momentum": 0.9, "lr": 1e-3}),
        (["--optimizer", "sgd", "--momentum", "0.5", "--lr", "0.1"], {"momentum": 0.5, "lr": 0.1}),
        (["--optimizer", "momentum", "--forgetting", "0.3"], {"forgetting": 0.3}),
        (["--optimizer", "adamw", "--weight-decay", "0.05"], {"weight_decay": 0.05}),
    ],
)
def test_optimiser_options_reach_the_optimiser_and_ctrl_c_writes_nothing(capsys, tmp_path, monkeypatch, args, group):
    seen = {}

    def interrupted_fit(model, loss, optimizer, *a, **kw):
        seen.update(optimizer.param_groups[0])
        raise KeyboardInterrupt  # as Ctrl-C during the first epoch

    monkeypatch.setattr(ng.train, "fit", interrupted_fit)
    rc, out = _train(capsys, tmp_path, "--schedule", "none", *args)
    assert rc == 130 and out.err == "interrupted\n"
    assert {k: seen[k] for k in group} == group
    assert not (tmp_path / "run").exists()


def test_a_config_file_may_list_the_layer_sizes(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[train]\ndataset = "xor"\nlayers = [8, 6]\nepochs = 1\n')
    rc = main(["train", "--config", str(cfg), "--no-progress", "--out", str(tmp_path / "run")])
    assert rc == 0, capsys.readouterr().err
    model = ng.io.load(tmp_path / "run" / "model.safetensors")
    assert [m.weight.shape for m in model.modules() if isinstance(m, ng.nn.Linear)] == [(2, 8), (8, 6), (6, 2)]
    cfg.write_text('[train]\ndataset = "xor"\nlayers = [8, 6.5]\nepochs = 1\n')
    rc = main(["train", "--config", str(cfg), "--no-progress", "--out", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert rc == 2 and "--layers expects comma-separated integers like 256,128, got [8, 6.5]" in err
    assert not (tmp_path / "bad").exists()
