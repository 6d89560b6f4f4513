"""The playground's API: one field table, every validation message, a server that answers every
message (HTTP 4xx or a JSON error on the WebSocket) and keeps serving, uploads, the maths on hover,
divergence, shared sessions and exports."""

import json
import threading

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
from starlette.testclient import TestClient  # noqa: E402

import nablagrad as ng  # noqa: E402
from nablagrad.playground import FIELDS, Config, ConfigError, parse_config, parse_csv, reproduce_script, schema
from nablagrad.playground.server import MAX_SESSIONS, create_app  # noqa: E402
from nablagrad.playground.session import Session  # noqa: E402


@pytest.fixture
def client():
    with TestClient(create_app()) as c:
        yield c


def _serving(client):
    assert client.post("/api/sessions", json={}).status_code == 201


# --- one source of truth -------------------------------------------------------------------------------
def test_schema_is_the_field_table_and_the_config_defaults():
    s = schema()
    assert [f["name"] for f in s["fields"]] == [f.name for f in FIELDS] == list(Config().to_dict())
    assert s["defaults"] == {f.name: f.default for f in FIELDS}
    by_name = {f.name: f for f in FIELDS}
    # the choices are the library's registries
    assert set(by_name["optimizer"].choices) <= set(ng.optim.OPTIMIZERS)
    assert set(by_name["schedule"].choices) == {"none", *ng.optim.SCHEDULES}
    assert by_name["activations"].choices == ng.nn.HIDDEN_ACTIVATIONS
    assert {"step", "abs", "leaky_relu", "prelu", "tanh", "relu", "sigmoid", "identity"} <= set(ng.nn.HIDDEN_ACTIVATIONS)
    assert not {"linear", "softmax", "log_softmax"} & set(ng.nn.HIDDEN_ACTIVATIONS)  # no aliases, only elementwise
    assert set(by_name["dataset"].choices) - {"upload"} <= set(ng.data.DATASETS)
    assert set(by_name["init"].choices) <= set(ng.nn.init.INITIALISERS)
    for f in FIELDS:  # every default passes its own validation
        assert getattr(parse_config({f.name: f.default}), f.name) == f.default


# --- every validation message, and the server keeps serving ----------------------------------------------
BAD = [
    ({"layers": [4, 17]}, "layers[1] must lie between 1 and 16"),
    ({"layers": [2] * 9}, "layers: at most 8 entries"),
    ({"layers": "8,x"}, "layers[1] must be a whole number"),
    ({"layers": [2.5]}, "layers[0] must be a whole number"),
    ({"layers": {"a": 1}}, "layers must be a list"),
    ({"activations": ["swish", "tanh"]}, "activations[0] must be one of"),
    ({"activations": ["tanh", "tanh", "tanh"]}, "activations has 3 entries for 2 hidden layers"),
    ({"lr": "fast"}, "lr must be a number"),
    ({"lr": 1e9}, "lr must lie between 1e-06 and 10"),
    ({"lr": None}, "lr must be a number"),
    ({"lr": "nan"}, "lr must be finite"),
    ({"noise": True}, "noise must be a number"),
    ({"batch_size": 100000}, "batch_size must lie between 1 and 1000"),
    ({"batch_size": 400}, "exceeds the 250 training points"),
    ({"points": 5}, "points must lie between 20 and 1000"),
    ({"classes": 6}, "classes must lie between 2 and 5"),
    ({"features": []}, "at least one input"),
    ({"features": ["x1", "x1"]}, "each once"),
    ({"features": ["x3"]}, "features[0] must be one of"),
    ({"dataset": "mnist"}, "dataset must be one of"),
    ({"dataset": "reg-plane", "problem": "classification"}, "regression problem"),
    ({"dataset": "blobs", "problem": "regression"}, "classification problem"),
    ({"dataset": "upload"}, "needs the id of an uploaded CSV"),
    ({"dataset": "upload", "upload": "nosuchid"}, "no uploaded data 'nosuchid'"),
    ({"upload": "../../etc/passwd"}, "upload must be an id"),
    ({"init": "orthogonal"}, "init must be one of zeros, lecture, xavier_uniform, kaiming_uniform"),
    ({"dropout": 0.95}, "dropout must lie between 0 and 0.9"),
    ({"loss": "hinge"}, "loss must be one of cross_entropy, mse"),
    ({"optimizer": "lbfgs"}, "optimizer must be one of"),
    ({"schedule": "warmup"}, "schedule must be one of none"),
    ({"speed": -1}, "speed must lie between 0 and 1000"),
    ({"colour": "red"}, "unknown parameter(s): colour"),
]


@pytest.mark.parametrize("body, message", BAD)
def test_bad_parameters_get_422_with_a_message_and_the_server_keeps_serving(client, body, message):
    r = client.post("/api/sessions", json=body)
    assert r.status_code == 422
    assert message in r.json()["error"]
    r = client.post("/api/validate", json=body)
    assert r.status_code == 422 and message in r.json()["error"]
    _serving(client)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not json", "must be JSON"),
        (b"[" * 50_000 + b"]" * 50_000, "larger than 65536 bytes"),
        (b"[" * 30_000 + b"]" * 30_000, "must be JSON"),  # deep nesting: RecursionError inside json
        (b'{"a": ' * 3000 + b"1" + b"}" * 3000, "must be JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b"\xff\xfe\x00", "must be JSON"),
    ],
)
def test_malformed_bodies_get_422(client, content, message):
    for url in ("/api/validate", "/api/sessions"):
        r = client.post(url, content=content, headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and message in r.json()["error"], (url, r.text)
    _serving(client)


def test_bad_path_queries_and_unknown_sessions(client):
    for q, message in [("optimizer=lbfgs", "optimizer must be one of"), ("lr=abc", "lr must be a number"),
                       ("steps=0", "steps must lie between"), ("x=1", "unknown parameter")]:  # fmt: skip
        r = client.get(f"/api/paths?{q}")
        assert r.status_code == 422 and message in r.json()["error"]
    assert client.get("/api/paths?optimizer=adam&lr=0.5&steps=3").json()["path"][0] == [0.0, 0.0]
    assert client.get("/api/sessions/nope/script.py").status_code == 404
    assert client.get("/api/sessions/nope/model.safetensors").status_code == 404


def test_sessions_are_bounded(client):
    ids = [client.post("/api/sessions", json={}).json()["id"] for _ in range(MAX_SESSIONS)]
    r = client.post("/api/sessions", json={})
    assert r.status_code == 429 and "too many sessions" in r.json()["error"]
    client.delete(f"/api/sessions/{ids[0]}")
    _serving(client)


def test_parse_config_accepts_strings_from_the_url():
    cfg = parse_config({"layers": "8,8", "activations": "relu", "features": "x1,x2,sinx1", "lr": "0.1", "batch_size": "20"})
    assert cfg.layers == [8, 8] and cfg.activations == ["relu", "relu"] and cfg.features == ["x1", "x2", "sinx1"]
    assert cfg.lr == 0.1 and cfg.batch_size == 20
    with pytest.raises(ConfigError, match="configuration must be a JSON object"):
        parse_config([1])


# --- the WebSocket answers every message -------------------------------------------------------------------
def _until(ws, predicate, limit=400):
    for _ in range(limit):
        msg = ws.receive_json()
        if predicate(msg):
            return msg
    raise AssertionError("no such message")


def test_websocket_answers_every_bad_frame_with_json_and_keeps_working(client):
    sid = client.post("/api/sessions", json={"dataset": "xor"}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        first = ws.receive_json()
        assert first["epoch"] == 0
        bad = [
            (lambda: ws.send_bytes(b"\x00\xffbinary"), "binary frames are not understood"),
            (lambda: ws.send_text("{not json"), "must be JSON"),
            (lambda: ws.send_text("[" * 100_000), "must be JSON"),
            (lambda: ws.send_text('"play"'), "must be a JSON object"),
            (lambda: ws.send_json({"action": "fly"}), "unknown action 'fly'"),
            (lambda: ws.send_json({"action": "config", "config": {"layers": [17]}}), "layers[0] must lie between 1 and 16"),
            (lambda: ws.send_json({"action": "config", "config": "x"}), "must be a JSON object"),
            (lambda: ws.send_json({"action": "inspect", "layer": 9, "source": 0, "target": 0}), "no weight 9/0/0"),
            (lambda: ws.send_json({"action": "inspect", "layer": "0"}), "inspect needs whole numbers"),
        ]
        for send, message in bad:
            send()
            err = _until(ws, lambda m: m["type"] == "error")
            assert message in err["message"]
            assert err["config"] == parse_config({"dataset": "xor"}).to_dict()  # nothing changed, and the page is told
        ws.send_json({"action": "step"})
        assert _until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] == 1)["epoch"] == 1


def test_a_diverging_run_pauses_with_its_reason_and_keeps_the_socket(client):
    sid = client.post("/api/sessions", json={"dataset": "reg-gauss", "lr": 10, "optimizer": "sgd"}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()
        ws.send_json({"action": "play"})
        snap = _until(ws, lambda m: m["type"] == "snapshot" and m["status"])
        assert "Paused" in snap["status"] and "NaN or infinite" in snap["status"] and "learning rate 10" in snap["status"]
        assert snap["playing"] is False
        assert np.isfinite(snap["train_loss"]) and np.isfinite(np.array(snap["weights"][0])).all()
        session = client.app.state.registry.sessions[sid]
        assert all(np.isfinite(p.data).all() for p in session.model.parameters())  # back at a good epoch
        ws.send_json({"action": "config", "config": {"lr": 0.03}})
        ws.send_json({"action": "step"})
        snap = _until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] == 1)
        assert snap["status"] == "" and np.isfinite(snap["test_loss"])


def test_two_pages_share_a_session_and_one_closing_leaves_the_other_working(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as a:
        a.receive_json()
        with client.websocket_connect(f"/ws/{sid}") as b:
            b.receive_json()
        assert client.get(f"/api/sessions/{sid}/script.py").status_code == 200
        assert client.get(f"/api/sessions/{sid}/model.safetensors").status_code == 200
        a.send_json({"action": "step"})
        assert _until(a, lambda m: m["type"] == "snapshot" and m["epoch"] == 1)
    assert client.get(f"/api/sessions/{sid}/script.py").status_code == 404  # the last page closed: it ended


def test_play_trains_many_epochs_per_snapshot_and_speed_paces_it(client):
    sid = client.post("/api/sessions", json={"dataset": "spiral", "layers": [8, 8]}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()
        ws.send_json({"action": "play"})
        snap = _until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] > 0)
        assert snap["playing"]
        ws.send_json({"action": "config", "config": {"speed": 1}})  # live: the run goes on, slowly
        ws.send_json({"action": "pause"})
        paused = _until(ws, lambda m: m["type"] == "snapshot" and not m["playing"])
        assert paused["epoch"] >= snap["epoch"]  # a live change did not restart the run
        session = client.app.state.registry.sessions[sid]
        with session.lock:  # the epoch under way when Pause came is the last one
            epoch = session.epoch
        ws.send_json({"action": "fly"})  # a round trip through the server
        _until(ws, lambda m: m["type"] == "error")
        assert session.cfg.speed == 1 and session.epoch == epoch and not session.playing


def test_a_due_snapshot_ends_the_training_chunk_after_its_epoch():
    """Drawing does not wait for a chunk's time: once a page asks for a snapshot, the chunk under
    way stops after its current epoch; taking the snapshot clears the request."""
    s = Session(parse_config({"dataset": "xor", "layers": [3]}))
    s.snapshot_due.set()
    assert s.train_for(float("inf"), max_epochs=50) == 1 and s.epoch == 1
    snap = s.snapshot()
    assert snap["epoch"] == 1 and not s.snapshot_due.is_set()
    assert s.train_for(float("inf"), max_epochs=5) == 5
    s.snapshot_due.set()
    s.train_epochs(3)  # Step still trains exactly what it was asked
    assert s.epoch == 9


# --- uploads ------------------------------------------------------------------------------------------
def _csv(rows, header="x1,x2,label"):
    return ((header + "\n" if header else "") + "\n".join(",".join(map(str, r)) for r in rows)).encode()


GOOD = [(i * 0.5, (i % 7) * 2.0, i % 3) for i in range(30)]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"x" * 300_000, "at most 262144 are accepted"),
        (b"\xff\xfe\x00\x01" * 10, "not text (UTF-8)"),
        (b"", "the file is empty"),
        (_csv([(1, 2)] * 20), "has 2 columns; each row needs 3"),
        (_csv(GOOD[:5]), "only 5 data rows; at least 10"),
        (_csv(GOOD * 40), "1200 data rows; at most 1000"),
        (_csv([*GOOD[:10], ("abc", 1, 0)]), "column 1: 'abc' is not a number"),
        (_csv([*GOOD[:10], (1, "nan", 0)]), "column 2 is nan (not finite)"),
        (_csv([*GOOD[:10], (1, 2, "")]), "column 3 (the label) is empty or NaN"),
        (_csv([(i, i, 1) for i in range(20)]), "every label is '1': only one class"),
        (_csv([(i, i, i) for i in range(20)]), "20 classes"),
    ],
)
def test_bad_csv_files_are_refused_with_one_message_each(client, content, message):
    r = client.post("/api/uploads", content=content, headers={"Content-Type": "text/csv"})
    assert r.status_code in (413, 422) and message in r.json()["error"], r.text
    _serving(client)


def test_the_remaining_messages_are_sent_and_the_server_keeps_serving(client):
    """The messages not met above: an unknown session (HTTP and WebSocket), a bad problem type or a
    non-numeric regression target in an upload, a session whose upload is gone."""
    for url in ("/api/sessions/nope/script.py", "/api/sessions/nope/model.safetensors"):
        r = client.get(url)
        assert r.status_code == 404 and "no such session (it ended when its last page closed)" in r.json()["error"]
    with client.websocket_connect("/ws/nope") as ws:
        assert "no such session; reload the page" in ws.receive_json()["message"]
    r = client.post("/api/uploads?problem=ranking", content=_csv(GOOD))
    assert r.status_code == 422 and "problem must be auto, classification or regression, got 'ranking'" in r.json()["error"]
    rows = [(i, i * 2, i * 0.5) for i in range(12)] + [(1, 2, "tall")]
    r = client.post("/api/uploads?problem=regression", content=_csv(rows))
    assert r.status_code == 422 and "line 14, column 3: a regression target must be a finite number" in r.json()["error"]
    with pytest.raises(ConfigError, match="the uploaded data 'gone' is not on the server"):
        Session(parse_config({"dataset": "upload", "upload": "gone"}))
    _serving(client)


def test_an_uploaded_csv_trains_as_a_three_class_problem_and_the_url_restores_it(client):
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (90, 2)) * 10 + 100
    y = np.array(["cat", "dog", "emu"])[np.arange(90) % 3]
    X[:, 0] += np.arange(90) % 3 * 40
    r = client.post("/api/uploads", content=_csv(zip(X[:, 0], X[:, 1], y), header="a;b;c".replace(";", ",")))
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["problem"] == "classification" and up["classes"] == 3 and up["class_names"] == ["cat", "dog", "emu"]
    cfg = {"dataset": "upload", "upload": up["id"], "layers": [4], "activations": ["relu"], "optimizer": "adam", "lr": 0.03}
    sid = client.post("/api/sessions", json=cfg).json()["id"]
    session = client.app.state.registry.sessions[sid]
    assert np.abs(session.X).max() <= 5 + 1e-9  # scaled into the view
    session.train_epochs(30)
    assert session.test_accuracy >= 0.9 and session.outputs == 3
    again = client.post("/api/sessions", json=cfg).json()["id"]  # a reloaded URL names the same upload
    np.testing.assert_array_equal(client.app.state.registry.sessions[again].X, session.X)
    r = client.post("/api/uploads?problem=regression", content=_csv([(i, i * i, i * 0.5) for i in range(12)]))
    assert r.json()["problem"] == "regression"


def test_parse_csv_reads_headers_separators_and_numeric_classes():
    up = parse_csv(b"1;2;0\n" + b"\n".join(f"{i};{i};{i % 2}".encode() for i in range(12)))
    assert up.classes == 2 and len(up.X) == 13 and up.X.min() == -5 and up.X.max() == 5
    up = parse_csv(b"\xef\xbb\xbfx,y,t\n" + b"\n".join(f"{i},{-i},{i / 4}".encode() for i in range(12)))
    assert up.problem == "regression" and np.abs(up.y).max() == 1.0


# --- the maths on screen --------------------------------------------------------------------------------
def _full_batch_loss(session, W, i, j, value):
    old = float(W.data[i, j])
    W.data[i, j] = value
    out = ng.train.predict(session.model, session.F[: session.n_train])
    W.data[i, j] = old
    return float(session.loss_fn(ng.tensor(out.astype(np.float64)), session.T[: session.n_train]).data)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
def test_inspect_shows_the_gradient_and_the_update_the_optimiser_applies(optimizer):
    cfg = parse_config({"dataset": "xor", "layers": [3], "activations": "tanh", "optimizer": optimizer, "lr": 0.1,
                        "batch_size": 250, "points": 500})  # fmt: skip
    s = Session(cfg)
    s.train_epochs(2)
    before = {k: np.array(v).tolist() for k, v in s.model.state_dict().items()}  # arrays or Tensors, copied
    info = s.inspect(0, 1, 2)
    assert {k: np.array(v).tolist() for k, v in s.model.state_dict().items()} == before
    W = s._linears()[0].weight
    assert info["weight"] == pytest.approx(float(W.data[1, 2]))
    h = 1e-3  # the gradient against a central difference of the full-batch training loss
    numeric = (_full_batch_loss(s, W, 1, 2, info["weight"] + h) - _full_batch_loss(s, W, 1, 2, info["weight"] - h)) / (2 * h)
    assert info["grad"] == pytest.approx(numeric, rel=2e-2, abs=1e-5)
    s.train_epochs(1)  # one full-batch step: the change the hover promised
    assert float(W.data[1, 2]) - info["weight"] == pytest.approx(info["delta"], rel=1e-4, abs=1e-7)
    assert "Δw" in info["lines"][-1] and f"{info['delta']:.4g}" in info["lines"][-1]
    if optimizer == "sgd":
        assert info["delta"] == pytest.approx(-0.1 * info["grad"], rel=1e-3, abs=1e-7)  # float32 w


# --- sessions: multiclass, architecture, export ------------------------------------------------------------
def test_three_blobs_reach_90_percent_test_accuracy_with_a_softmax_head():
    s = Session(parse_config({"dataset": "blobs", "classes": 3, "noise": 0.2, "layers": [4], "optimizer": "adam"}))
    s.train_epochs(20)
    assert s.outputs == 3 and s.test_accuracy >= 0.9
    snap = s.snapshot(with_points=True)
    assert len(snap["heatmap"]["probs"][0]) == 3 and {p[2] for p in snap["points"]["train"]} == {0, 1, 2}


def test_zero_initialisation_keeps_hidden_units_identical():
    s = Session(parse_config({"dataset": "circle", "layers": [4], "init": "zeros", "bias_init": 0.1, "lr": 0.1}))
    s.train_epochs(5)
    W = s._linears()[1].weight.numpy()
    assert np.ptp(W, axis=0).max() == 0 and np.abs(W).max() > 0  # moved, but every unit alike: symmetry
    k = Session(parse_config({"dataset": "circle", "layers": [4], "init": "kaiming_uniform"}))
    assert np.ptp(k._linears()[1].weight.numpy(), axis=0).max() > 0


def test_per_layer_activations_and_dropout_build_the_network():
    s = Session(parse_config({"layers": [3, 2], "activations": ["step", "prelu"], "dropout": 0.5}))
    kinds = [type(m).__name__ for m in s.model]
    assert kinds == ["Linear", "Step", "Dropout", "Linear", "PReLU", "Dropout", "Linear"]


@pytest.mark.parametrize(
    "raw",
    [
        {"dataset": "circle", "layers": [4], "optimizer": "adam", "lr": 0.03},
        {"dataset": "spiral", "classes": 3, "layers": [5, 4], "activations": ["relu", "abs"], "dropout": 0.2,
         "init": "lecture", "optimizer": "momentum", "schedule": "step", "regularization": "l2", "reg_rate": 0.001},
        {"dataset": "blobs", "classes": 4, "loss": "mse", "layers": [3], "features": ["x1", "x2", "x1x2"]},
        {"dataset": "reg-gauss", "layers": [4], "optimizer": "rmsprop", "schedule": "cosine"},
    ],
)  # fmt: skip
def test_exported_script_reproduces_the_run(raw):
    cfg = parse_config(raw)
    s = Session(cfg)
    s.train_epochs(3)
    ns = {}
    exec(compile(reproduce_script(cfg, 3), "run.py", "exec"), ns)
    for a, b in zip(s.model.state_dict().values(), ns["model"].state_dict().values()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_websocket_session_trains_with_the_engine_and_exports(client, tmp_path):
    sid = client.post("/api/sessions", json={"dataset": "xor", "layers": [8, 8], "optimizer": "adam"}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        first = ws.receive_json()
        assert first["epoch"] == 0 and len(first["points"]["train"]) == 250
        assert len(first["heatmap"]["values"]) == first["heatmap"]["size"] ** 2
        assert [len(layer) for layer in first["neurons"]["layers"]] == [2, 8, 8, 2]
        for _ in range(5):
            ws.send_json({"action": "step"})
        snap = _until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] == 5)
        assert snap["test_loss"] < first["test_loss"]
        model_bytes = client.get(f"/api/sessions/{sid}/model.safetensors").content
        script = client.get(f"/api/sessions/{sid}/script.py").text
    (tmp_path / "m.safetensors").write_bytes(model_bytes)
    model = ng.io.load(tmp_path / "m.safetensors")
    assert model.metadata["playground_config"]["dataset"] == "xor" and model.metadata["epoch"] == 5
    compile(script, "playground_run.py", "exec")
    assert json.loads(json.dumps(first))  # plain JSON: no NaN
    assert sid not in client.app.state.registry.sessions  # closing the page ended the session


def test_the_script_of_an_uploaded_run_replays_it_from_the_csv(tmp_path, monkeypatch):
    raw = _csv([(x, (x * 7) % 11, int(x % 3 == 0)) for x in range(40)])
    cfg = parse_config({"dataset": "upload", "upload": "mine", "layers": [3], "optimizer": "adam"})
    s = Session(cfg, parse_csv(raw))
    s.train_epochs(2)
    (tmp_path / "data.csv").write_bytes(raw)
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(reproduce_script(cfg, 2), "run.py", "exec"), ns)
    for a, b in zip(s.model.state_dict().values(), ns["model"].state_dict().values()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_two_sessions_train_at_once_without_disturbing_each_other_or_the_caller(client, tmp_path):
    """Each session trains in its own worker thread: two at once reach exactly the weights of a
    serial run of the same epochs, and the caller's tape keeps recording meanwhile (grad mode is
    per thread: a worker's no_grad must not switch it off here — the CI failure)."""
    torch = pytest.importorskip("torch")
    raws = [
        {"dataset": "spiral", "layers": [4], "activations": ["tanh"], "optimizer": "adam", "dropout": 0.1, "seed": 1},
        {"dataset": "xor", "layers": [3, 3], "activations": ["relu", "sigmoid"], "optimizer": "momentum", "seed": 2},
    ]
    sids = [client.post("/api/sessions", json=raw).json()["id"] for raw in raws]
    before = set(threading.enumerate())
    with client.websocket_connect(f"/ws/{sids[0]}") as a, client.websocket_connect(f"/ws/{sids[1]}") as b:
        for ws in (a, b):
            ws.receive_json()
            ws.send_json({"action": "play"})
        rng = np.random.default_rng(0)
        for ws in (a, b):  # both play; meanwhile this thread differentiates, checked against PyTorch
            while _until(ws, lambda m: m["type"] == "snapshot")["epoch"] < 10:
                x = rng.normal(size=(3, 4))
                t = ng.tensor(x, requires_grad=True)
                ng.tanh(t * t).sum().backward()
                tt = torch.tensor(x, requires_grad=True)
                torch.tanh(tt * tt).sum().backward()
                np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-9)
        trainers = {t for t in threading.enumerate() if t.name.startswith("playground-training")} - before
        assert len(trainers) == 2  # one thread of its own per session
        for ws in (a, b):
            ws.send_json({"action": "pause"})
            _until(ws, lambda m: m["type"] == "snapshot" and not m["playing"])
        files = []
        for sid in sids:
            session = client.app.state.registry.sessions[sid]
            with session.lock:
                assert not session.playing
            files.append(tmp_path / f"{sid}.safetensors")
            files[-1].write_bytes(client.get(f"/api/sessions/{sid}/model.safetensors").content)
    for raw, path in zip(raws, files):
        model = ng.io.load(path)
        serial = Session(parse_config(raw))  # the same run, alone, in this thread
        serial.train_epochs(model.metadata["epoch"])
        assert serial.epoch >= 10
        for p, q in zip(model.parameters(), serial.model.parameters()):
            np.testing.assert_array_equal(p.numpy(), q.numpy())
