"""The playground's API: validation (4xx with a message), sessions over WebSocket, exports."""

import numpy as np
import pytest
from starlette.testclient import TestClient

import nablagrad as ng
from nablagrad.playground import ConfigError, parse_config, reproduce_script
from nablagrad.playground.server import MAX_SESSIONS, create_app


@pytest.fixture
def client():
    with TestClient(create_app()) as c:
        yield c


@pytest.mark.parametrize(
    "body, message",
    [
        ({"layers": [4, 9]}, "neurons per layer must lie between 1 and 8"),
        ({"layers": [2, 2, 2, 2, 2, 2, 2]}, "at most 6 hidden layers"),
        ({"activation": "softplus"}, "activation must be one of"),
        ({"lr": "fast"}, "must be a number"),
        ({"lr": 1e9}, "lr (learning rate) must lie between"),
        ({"batch_size": 100000}, "batch_size must lie between"),
        ({"batch_size": 400}, "exceeds the 250 training points"),
        ({"features": []}, "at least one input"),
        ({"features": ["x3"]}, "feature must be one of"),
        ({"dataset": "reg-plane", "problem": "classification"}, "regression problem"),
        ({"noise": True}, "must be a number"),
        ({"colour": "red"}, "unknown parameter"),
    ],
)
def test_bad_parameters_get_422_with_a_message_and_the_server_keeps_serving(client, body, message):
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422
    assert message in r.json()["error"]
    assert client.post("/api/validate", json=body).status_code == 422
    assert client.post("/api/sessions", json={}).status_code == 201  # still serving


def test_non_json_body_and_bad_path_queries(client):
    r = client.post("/api/sessions", content=b"not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["error"]
    assert client.get("/api/paths?optimizer=lbfgs").status_code == 422
    assert client.get("/api/paths?lr=abc").status_code == 422
    assert client.get("/api/sessions/nope/script.py").status_code == 404


def test_sessions_are_bounded(client):
    ids = [client.post("/api/sessions", json={}).json()["id"] for _ in range(MAX_SESSIONS)]
    r = client.post("/api/sessions", json={})
    assert r.status_code == 429 and "too many sessions" in r.json()["error"]
    client.delete(f"/api/sessions/{ids[0]}")
    assert client.post("/api/sessions", json={}).status_code == 201


def test_websocket_session_trains_with_the_engine_and_exports(client, tmp_path):
    sid = client.post("/api/sessions", json={"dataset": "xor", "layers": [8, 8], "optimizer": "adam"}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        first = ws.receive_json()
        assert first["epoch"] == 0 and len(first["points"]["train"]) == 250
        assert len(first["heatmap"]["values"]) == first["heatmap"]["size"] ** 2
        assert [len(layer) for layer in first["neurons"]["layers"]] == [2, 8, 8, 1]
        for _ in range(5):
            ws.send_json({"action": "step"})
            snap = ws.receive_json()
        assert snap["epoch"] == 5 and snap["test_loss"] < first["test_loss"]
        ws.send_json({"action": "config", "config": {"layers": [12]}})
        assert "neurons per layer" in ws.receive_json()["message"]
        ws.send_json({"action": "fly"})
        assert "unknown action" in ws.receive_json()["message"]
        model_bytes = client.get(f"/api/sessions/{sid}/model.safetensors").content
        script = client.get(f"/api/sessions/{sid}/script.py").text
    (tmp_path / "m.safetensors").write_bytes(model_bytes)
    model = ng.io.load(tmp_path / "m.safetensors")
    assert model.metadata["playground_config"]["dataset"] == "xor" and model.metadata["epoch"] == 5
    compile(script, "playground_run.py", "exec")
    assert sid not in client.app.state.registry.sessions  # closing the page ended the session


def test_exported_script_reproduces_the_run(tmp_path):
    """The script trains the same network on the same data as the session does."""
    from nablagrad.playground.session import Session

    cfg = parse_config({"dataset": "circle", "layers": [4], "optimizer": "adam", "lr": 0.03})
    s = Session(cfg)
    s.train_epochs(3)
    script = reproduce_script(cfg, 3)
    ns = {}
    exec(compile(script, "run.py", "exec"), ns)
    for a, b in zip(s.model.state_dict().values(), ns["model"].state_dict().values()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_parse_config_accepts_strings_from_the_url():
    cfg = parse_config({"layers": "8,8", "features": "x1,x2,sinx1", "lr": "0.1", "batch_size": "20"})
    assert cfg.layers == [8, 8] and cfg.features == ["x1", "x2", "sinx1"] and cfg.lr == 0.1 and cfg.batch_size == 20
    with pytest.raises(ConfigError):
        parse_config({"layers": "8,x"})
