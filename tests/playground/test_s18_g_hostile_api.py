"""What a hostile or expert user of the playground's API tries next: a parameter name that is not
valid Unicode (a lone surrogate, answered 422, not 500), CSV files quoted as spreadsheets and R's
``write.csv`` write them, binary or absurd uploads, an upload whose problem type or size
contradicts the configuration (``/api/validate`` and ``/api/sessions`` agree), a session whose
upload was pushed out by newer ones, an oversized WebSocket message; and one training step of the
playground against PyTorch."""

import csv
import io

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
from test_api import _until  # noqa: E402 - the WebSocket helper of the playground's API tests (same folder)

from nablagrad.playground import Session, parse_config, parse_csv  # noqa: E402
from nablagrad.playground.server import MAX_MESSAGE, MAX_UPLOADS  # noqa: E402


def _serving(client):
    assert client.post("/api/sessions", json={}).status_code == 201


def _rows(n=40, label=lambda i: i % 2):
    return [(i, (i * 7) % 11, label(i)) for i in range(n)]


def _csv(rows, header=("x1", "x2", "label"), quoting=csv.QUOTE_MINIMAL) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, quoting=quoting, lineterminator="\n")
    if header:
        w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode()


# --- names that are not text ---------------------------------------------------------------------------
@pytest.mark.parametrize("url", ["/api/validate", "/api/sessions"])
def test_a_lone_surrogate_parameter_name_is_a_422_naming_it_escaped(client, url):
    r = client.post(url, content=b'{"lr": 0.1, "\\ud800": 1}', headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "unknown parameter(s): '\\ud800'" in r.json()["error"]
    _serving(client)


def test_the_websocket_answers_a_lone_surrogate_name_and_keeps_working(client):
    sid = client.post("/api/sessions", json={"dataset": "xor"}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()
        ws.send_text('{"action": "config", "config": {"\\ud800": 1}}')
        assert "unknown parameter(s): '\\ud800'" in _until(ws, lambda m: m["type"] == "error")["message"]
        ws.send_json({"action": "step"})
        assert _until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] == 1)


def test_a_websocket_message_beyond_the_limit_is_refused_unread(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()
        ws.send_text('{"action": "config", "config": {"upload": "' + "a" * MAX_MESSAGE + '"}}')
        err = _until(ws, lambda m: m["type"] == "error")
        assert f"a message is larger than {MAX_MESSAGE} characters" in err["message"]
        assert err["config"] == parse_config({}).to_dict()
        ws.send_json({"action": "step"})
        assert _until(ws, lambda m: m["type"] == "snapshot" and m["epoch"] == 1)


# --- CSV as spreadsheets write it ------------------------------------------------------------------------
@pytest.mark.parametrize("quoting", [csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])
def test_quoted_cells_read_as_the_unquoted_file(client, quoting):
    """R's write.csv and spreadsheets quote strings (or every cell); the data are the same."""
    rows = _rows(label=lambda i: "cat, big" if i % 3 else 'the "dog"')
    plain = parse_csv(_csv(rows, quoting=csv.QUOTE_MINIMAL))
    r = client.post("/api/uploads", content=_csv(rows, quoting=quoting))
    assert r.status_code == 201, r.text
    assert r.json()["class_names"] == ["cat, big", 'the "dog"'] == plain.class_names
    quoted = parse_csv(_csv(rows, quoting=quoting))
    np.testing.assert_array_equal(quoted.X, plain.X)
    np.testing.assert_array_equal(quoted.y, np.array([0 if i % 3 else 1 for i in range(40)]))


@pytest.mark.parametrize(
    "content, message",
    [
        ("x1,x2,y\n1,2,0\n".encode("utf-16"), "not text"),
        (_csv(_rows()) + b"\n1,2,\x00", "NUL bytes"),
        (_csv([*_rows(), (1, 2, "z" * 100)]), "line 42, column 3: a label of 100 characters; at most 64"),
        (_csv([*_rows(), (1, 2, "z" * 140_000)]), "line 42"),  # beyond csv's own field limit
        (_csv([*_rows(), (1, "1" + "0" * 400, 0)]), "line 42, column 2 is '100000"),  # cut short, not echoed whole
    ],
)
def test_hostile_files_get_one_message_and_no_500(client, content, message):
    r = client.post("/api/uploads", content=content)
    assert r.status_code == 422 and message in r.json()["error"], r.text
    assert len(r.json()["error"]) < 300
    _serving(client)


# --- an upload's size and problem type bind the configuration ------------------------------------------------
def test_validate_and_sessions_agree_on_a_batch_larger_than_the_upload(client):
    uid = client.post("/api/uploads", content=_csv(_rows(12))).json()["id"]
    for url in ("/api/validate", "/api/sessions"):
        r = client.post(url, json={"dataset": "upload", "upload": uid, "batch_size": 10})
        assert r.status_code == 422 and "batch_size 10 exceeds the 6 training points; choose at most 6" in r.json()["error"]
    assert client.post("/api/validate", json={"dataset": "upload", "upload": uid, "batch_size": 6}).status_code == 200


def test_an_uploads_problem_type_and_classes_are_the_configurations(client):
    three = client.post("/api/uploads", content=_csv(_rows(label=lambda i: "abc"[i % 3]))).json()["id"]
    cfg = client.post("/api/sessions", json={"dataset": "upload", "upload": three}).json()["config"]
    assert (cfg["problem"], cfg["classes"]) == ("classification", 3)
    r = client.post("/api/validate", json={"dataset": "upload", "upload": three, "problem": "regression"})
    assert r.status_code == 422
    assert "the uploaded data are a classification problem; choose problem=classification" in r.json()["error"]
    reg = client.post("/api/uploads?problem=regression", content=_csv(_rows())).json()["id"]
    r = client.post("/api/sessions", json={"dataset": "upload", "upload": reg})
    assert r.json()["config"]["problem"] == "regression"
    assert client.app.state.registry.sessions[r.json()["id"]].problem == "regression"
    r = client.post("/api/validate", json={"dataset": "upload", "upload": reg, "problem": "classification"})
    assert r.status_code == 422 and "a regression problem; choose problem=regression" in r.json()["error"]


def test_a_session_keeps_its_upload_after_newer_uploads_push_it_out(client):
    uid = client.post("/api/uploads", content=_csv(_rows())).json()["id"]
    sid = client.post("/api/sessions", json={"dataset": "upload", "upload": uid}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()
        for _ in range(MAX_UPLOADS):
            client.post("/api/uploads", content=_csv(_rows()))
        assert uid not in client.app.state.registry.uploads
        ws.send_json({"action": "config", "config": {"lr": 0.1, "speed": 10}})
        ws.send_json({"action": "step"})
        snap = _until(ws, lambda m: m["type"] in ("error", "snapshot") and (m["type"] == "error" or m["epoch"] == 1))
        assert snap["type"] == "snapshot" and snap["lr"] == 0.1
    r = client.post("/api/sessions", json={"dataset": "upload", "upload": uid})  # a new page: the upload is gone
    assert r.status_code == 422 and f"no uploaded data '{uid}'" in r.json()["error"]


# --- one step of the playground is one step of gradient descent, as PyTorch takes it -----------------------------
@pytest.mark.parametrize(
    "raw",
    [
        {"dataset": "circle", "layers": [3], "regularization": "l2", "reg_rate": 0.1, "lr": 0.3, "noise": 0.1},
        {"dataset": "xor", "layers": [4, 2], "activations": ["relu", "sigmoid"], "loss": "mse", "regularization": "l1",
         "reg_rate": 0.01, "lr": 0.1},
        {"dataset": "blobs", "classes": 3, "layers": [5], "lr": 0.1},
        {"dataset": "reg-plane", "layers": [3], "lr": 0.01, "features": ["x1", "x2", "x1x2", "sinx1"]},
    ],
)  # fmt: skip
def test_a_full_batch_sgd_step_equals_torchs(raw):
    """Batch = the training set: one epoch is w ← w − η ∇(L + penalty on the weights, not the biases)."""
    torch = pytest.importorskip("torch")
    cfg = parse_config({**raw, "batch_size": 250, "points": 500, "optimizer": "sgd"})
    s = Session(cfg)
    n, linears = s.n_train, s._linears()
    Ws = [torch.tensor(m.weight.numpy(), dtype=torch.float64, requires_grad=True) for m in linears]
    bs = [torch.tensor(m.bias.numpy(), dtype=torch.float64, requires_grad=True) for m in linears]
    act = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}
    h = torch.tensor(s.F[:n], dtype=torch.float64)
    for i, (W, b) in enumerate(zip(Ws, bs)):
        h = h @ W + b
        h = act[cfg.activations[i]](h) if i < len(cfg.layers) else h
    if s.classification and cfg.loss == "cross_entropy":
        loss = torch.nn.functional.cross_entropy(h, torch.tensor(s.y[:n], dtype=torch.int64))
    elif s.classification:  # tanh outputs against ±1, as the TensorFlow Playground
        loss = torch.nn.functional.mse_loss(torch.tanh(h)[:, 0], torch.tensor(2.0 * s.y[:n] - 1))
    else:
        loss = torch.nn.functional.mse_loss(h[:, 0], torch.tensor(s.y[:n], dtype=torch.float64))
    penalty = {"l1": lambda W: W.abs().sum(), "l2": lambda W: (W * W).sum()}.get(cfg.regularization)
    if penalty:
        loss = loss + cfg.reg_rate * sum(penalty(W) for W in Ws)
    loss.backward()
    s.train_epochs(1)
    for m, W, b in zip(linears, Ws, bs):
        np.testing.assert_allclose(m.weight.numpy(), (W - cfg.lr * W.grad).detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m.bias.numpy(), (b - cfg.lr * b.grad).detach().numpy(), rtol=1e-5, atol=1e-6)
