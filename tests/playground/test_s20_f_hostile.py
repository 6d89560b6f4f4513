"""What a hostile user of the playground tries after the obvious: numbers Python's ``float`` reads
but no page, JSON or spreadsheet writes (``"1_0"`` is not 10, ``"١"`` is not 1), a CSV saved by a
spreadsheet with a decimal comma, a WebSocket message with a key its action does not take
(``{"action": "step", "n": 1000}`` must not silently step once) or without what it needs, and the
exported script of a regression upload whose targets are whole numbers."""

import json

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
from test_api import _until  # noqa: E402 - the WebSocket helper of the playground's API tests (same folder)

from nablagrad.playground import Session, parse_config, parse_csv, reproduce_script  # noqa: E402
from nablagrad.playground.config import apply_upload  # noqa: E402
from nablagrad.playground.upload import UploadError  # noqa: E402


# the spellings JSON, JavaScript's Number() and CSV readers share are numbers; Python-only ones are not
@pytest.mark.parametrize("text, value", [("0.1", 0.1), (" 0.1 ", 0.1), ("+.5", 0.5), ("5.", 5.0), ("1E-3", 1e-3)])
def test_plain_number_text_is_read(client, text, value):
    r = client.post("/api/validate", json={"lr": text})
    assert r.status_code == 200 and r.json()["config"]["lr"] == value


@pytest.mark.parametrize("text", ["1_0", "\u0661", "\uff11", "0x1", "1e", "--1", "1.2.3"])
def test_number_text_python_alone_reads_is_refused_everywhere(client, text):
    message = f"lr must be a number (digits, '.', 'e'), got {text!r}"
    for r in (client.post("/api/validate", json={"lr": text}), client.post("/api/sessions", json={"lr": text}),
              client.get("/api/paths", params={"lr": text})):  # fmt: skip
        assert r.status_code == 422 and r.json()["error"] == message, r.text
    assert client.post("/api/sessions", json={}).status_code == 201  # the server keeps serving


def _rows(label) -> bytes:
    return "\n".join(f"{i},{i % 7},{label(i)}" for i in range(20)).encode()


def test_a_label_that_only_python_reads_as_a_number_is_a_word_class_of_its_own():
    up = parse_csv(_rows(lambda i: "1" if i % 2 else "\u0661"))  # "١" (Arabic-Indic one) is not the number 1
    assert up.class_names == ["1", "\u0661"] and up.y.tolist() == [1, 0] * 10


def test_a_feature_written_with_an_underscore_is_refused_naming_line_and_column():
    with pytest.raises(UploadError, match=r"^line 2, column 1: '1_0' is not a number$"):
        parse_csv(b"x1,x2,y\n1_0,1,0\n" + _rows(lambda i: i % 2))


def test_a_spreadsheets_decimal_comma_file_is_split_on_semicolons_and_the_fix_named(client):
    raw = "x1;x2;y\n" + "\n".join(f"{i},5;{i % 7};{i % 2}" for i in range(20))
    r = client.post("/api/uploads", content=raw.encode())
    assert r.status_code == 422
    assert r.json()["error"] == "line 2, column 1: '0,5' is not a number (write decimals with '.', not ',')"
    up = parse_csv(raw.replace(",", ".").encode())  # the same file with decimal points is read
    np.testing.assert_allclose(up.X[:, 0], np.linspace(-5, 5, 20))  # 0.5 … 19.5 onto the view
    assert not client.app.state.registry.uploads  # the refused file was not kept


BAD_MESSAGES = [
    ({"action": "step", "n": 1000}, "step takes only action; remove n"),
    ({"action": "play", "speed": 3}, "play takes only action; remove speed"),
    ({"action": "config", "config": {"lr": 0.1}, "lr": 0.1}, "config takes only action, config; remove lr"),
    ({"action": "config"}, 'config needs "config", an object of parameters'),
    ({"action": "inspect", "layer": 0, "source": 0}, "inspect needs whole numbers layer, source and target; missing: target"),
    ({"action": "reset", "\ud800": 1}, "reset takes only action; remove '\\ud800'"),
]


def test_a_message_with_a_key_its_action_does_not_take_or_without_one_it_needs_changes_nothing(client):
    sid = client.post("/api/sessions", json={"dataset": "reg-plane", "lr": 0.01}).json()["id"]
    session = client.app.state.registry.sessions[sid]
    before = session.cfg.to_dict()
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()
        for msg, message in BAD_MESSAGES:
            ws.send_text(json.dumps(msg))
            ws.send_json({"action": "fly"})  # answered in order: whatever came before it answers msg
            got = []
            while not got or "unknown action 'fly'" not in got[-1].get("message", ""):
                got.append(ws.receive_json())
            err = next(m for m in got if m["type"] == "error")
            assert message in err["message"], (msg, err["message"])
            assert err["config"] == before
            assert session.epoch == 0 and not session.playing and session.cfg.to_dict() == before
        ws.send_json({"action": "step"})  # the page keeps working
        assert _until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] == 1)["epoch"] == 1


def test_the_script_of_a_regression_upload_with_whole_number_targets_replays_it(tmp_path, monkeypatch):
    raw = "\n".join(f"{x},{(x * 7) % 11},{(x * 3) % 5}" for x in range(20)).encode()  # targets 0..4: "auto" says classes
    up = parse_csv(raw, "regression")
    cfg = parse_config({"dataset": "upload", "upload": "mine", "layers": [3], "optimizer": "adam"})
    apply_upload(cfg, {"dataset": "upload", "upload": "mine"}, up)
    assert cfg.problem == "regression"
    s = Session(cfg, up)
    s.train_epochs(1)
    (tmp_path / "data.csv").write_bytes(raw)
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(reproduce_script(cfg, 1), "run.py", "exec"), ns)
    assert ns["up"].problem == "regression"
    for a, b in zip(s.model.state_dict().values(), ns["model"].state_dict().values(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
