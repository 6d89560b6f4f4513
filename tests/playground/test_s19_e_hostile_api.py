"""What a hostile user of the playground's API tries after the validation table: addresses and
methods the API does not have (JSON 404/405 naming the fix, as every other refusal), more pages on
one session than the server will draw for, bad values sent over the WebSocket *while the run
plays* (each one answered, the run untouched and still training), and a burst of changes (the last
one wins, nothing is refused)."""

import json

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
from starlette.websockets import WebSocketDisconnect  # noqa: E402
from test_api import _until  # noqa: E402 - the WebSocket helper of the playground's API tests (same folder)

from nablagrad.playground import parse_config  # noqa: E402
from nablagrad.playground.server import MAX_VIEWERS  # noqa: E402


@pytest.mark.parametrize("method, path, allow", [
    ("GET", "/api/sessions", "POST"),
    ("PUT", "/api/sessions/abc", "DELETE"),
    ("POST", "/api/schema", "GET"),
    ("GET", "/api/uploads", "POST"),
])  # fmt: skip
def test_a_method_an_address_does_not_take_is_a_json_405_naming_the_allowed_ones(client, method, path, allow):
    r = client.request(method, path)
    assert r.status_code == 405 and r.headers["content-type"] == "application/json"
    assert allow in r.headers["allow"]
    assert f"{method} '{path}' is not allowed" in r.json()["error"] and allow in r.json()["error"]
    assert client.post("/api/sessions", json={}).status_code == 201


@pytest.mark.parametrize("path", ["/api/nope", "/api/sessions/abc/weights.bin", "/static/nope.js"])
def test_an_unknown_address_is_a_json_404(client, path):
    r = client.get(path)
    assert r.status_code == 404 and "no such page or API address" in r.json()["error"] and "/api/schema" in r.json()["error"]


def test_one_session_is_shown_by_at_most_max_viewers_pages(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    pages = [client.websocket_connect(f"/ws/{sid}") for _ in range(MAX_VIEWERS)]
    try:
        for p in pages:
            p.__enter__().receive_json()
        with client.websocket_connect(f"/ws/{sid}") as extra:
            assert f"too many pages show this session (at most {MAX_VIEWERS})" in extra.receive_json()["message"]
            with pytest.raises(WebSocketDisconnect) as closed:
                extra.receive_json()
            assert closed.value.code == 4429
        assert client.app.state.registry.viewers[sid] == MAX_VIEWERS  # the refused page is not counted
        pages[0].send_json({"action": "step"})
        assert _until(pages[0], lambda m: m.get("epoch") == 1)
    finally:
        for p in pages:
            p.__exit__(None, None, None)


BAD_WHILE_PLAYING = [
    ({"problem": "regression"}, "the data set xor is a classification problem"),
    ({"dataset": "reg-plane", "problem": "classification"}, "the data set reg-plane is a regression problem"),
    ({"lr": 0}, "lr must lie between 1e-06 and 10, got 0"),
    ({"lr": -0.1}, "lr must lie between 1e-06 and 10, got -0.1"),
    ({"lr": "inf"}, "lr must be finite"),
    ({"lr": "NaN"}, "lr must be finite"),
    ({"speed": 10**9}, "speed must lie between 0 and 1000"),
    ({"layers": [16] * 9}, "layers: at most 8 entries"),
    ({"batch_size": 251}, "batch_size 251 exceeds the 250 training points"),
]


def test_bad_values_while_playing_are_answered_and_the_run_goes_on_unchanged(client):
    sid = client.post("/api/sessions", json={"dataset": "xor"}).json()["id"]
    session = client.app.state.registry.sessions[sid]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()
        ws.send_json({"action": "play"})
        _until(ws, lambda m: m.get("epoch", 0) > 0)
        model = session.model
        for cfg, message in BAD_WHILE_PLAYING:
            ws.send_text(json.dumps({"action": "config", "config": cfg}))
            err = _until(ws, lambda m: m["type"] == "error")
            assert message in err["message"], (cfg, err["message"])
            assert err["config"] == parse_config({"dataset": "xor"}).to_dict()
        assert session.model is model and session.playing  # the same run, still playing
        epoch = session.epoch
        assert _until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] > epoch)
        ws.send_json({"action": "config", "config": {"dataset": "reg-plane"}})  # a valid switch restarts as regression
        snap = _until(ws, lambda m: m["type"] == "snapshot" and m["problem"] == "regression")
        assert snap["classification"] is False and session.playing
        ws.send_json({"action": "pause"})


def test_a_burst_of_changes_is_applied_in_order_and_the_last_one_wins(client):
    sid = client.post("/api/sessions", json={"dataset": "xor"}).json()["id"]
    session = client.app.state.registry.sessions[sid]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()
        ws.send_json({"action": "play"})
        for i in range(200):
            ws.send_json({"action": "config", "config": {"lr": [0.01, 0.03, 0.1][i % 3], "layers": [1 + i % 8], "speed": i % 7}})
        ws.send_json({"action": "config", "config": {"lr": 0.003, "layers": [5, 3], "speed": 0}})
        snap = _until(ws, lambda m: m["type"] == "error" or (m["lr"] == 0.003 and len(m["weights"]) == 3), 100_000)
        assert snap["type"] == "snapshot", snap
        assert (session.cfg.lr, session.cfg.layers, session.cfg.speed) == (0.003, [5, 3], 0)
        ws.send_json({"action": "pause"})


def test_adams_step_count_on_hover_is_a_whole_number_whatever_type_the_optimiser_keeps_it_in():
    """PyTorch keeps Adam's ``step`` as a float tensor; the hover formula shows the count ``t``."""
    from nablagrad.playground import Session  # noqa: PLC0415

    s = Session(parse_config({"dataset": "xor", "layers": [3], "optimizer": "adam", "batch_size": 250, "points": 500}))
    s.train_epochs(2)  # one full batch per epoch: two of Adam's steps so far
    info = s.inspect(0, 1, 2)
    assert "(t = 3)" in info["lines"][0], info["lines"][0]  # the step the hover shows is the third
