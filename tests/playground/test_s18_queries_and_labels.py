"""Ambiguous input the playground used to read silently: uploaded labels equal as numbers (``1`` and
``1.0``) counted as two classes — now one, coded as scikit-learn's ``LabelEncoder`` codes the floats
(the oracle); a query parameter given twice (``/api/paths?lr=1&lr=2``) used the last value — now a
400 naming it; a JSON object repeating a key used the last value — now a 422.  The server keeps
serving after each."""

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
from sklearn.preprocessing import LabelEncoder  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from nablagrad.playground import parse_csv  # noqa: E402
from nablagrad.playground.server import create_app  # noqa: E402


@pytest.fixture
def client():
    with TestClient(create_app()) as c:
        yield c


def _csv(labels) -> bytes:
    return "\n".join(f"{i},{(i * 7) % 11},{c}" for i, c in enumerate(labels)).encode()


def _serving(client):
    assert client.post("/api/sessions", json={}).status_code == 201
    assert client.get("/api/paths?lr=0.5&steps=3").status_code == 200


@pytest.mark.parametrize("spellings", [
    ["1", "1.0", "2", "2.00", "1e0", "3"],
    ["0", "-0", "0.0", "1", "+1", "1.", "10", "1e1"],
    ["-1", "-1.0", "1", "1.000"],
    [" 5", "5.0", "7", "7.0 "],
])  # fmt: skip
def test_labels_equal_as_numbers_are_one_class_as_label_encoder_on_floats(spellings):
    labels = [spellings[i % len(spellings)] for i in range(24)]
    up = parse_csv(_csv(labels))
    enc = LabelEncoder().fit(np.array(labels, dtype=np.float64))
    assert up.problem == "classification" and up.classes == len(enc.classes_)
    np.testing.assert_array_equal(up.y, enc.transform(np.array(labels, dtype=np.float64)))
    # each class is named by its first spelling in the file, and that spelling means the class's value
    assert [float(n) for n in up.class_names] == enc.classes_.tolist()
    assert all(n.strip() in [s.strip() for s in labels] for n in up.class_names)


def test_the_issue_example_1_and_1_0_over_the_api(client):
    labels = ["1", "1.0", "2"] * 5
    r = client.post("/api/uploads", content=_csv(labels), headers={"Content-Type": "text/csv"})
    assert r.status_code == 201, r.text
    assert r.json()["classes"] == 2 and r.json()["class_names"] == ["1", "2"]
    one = client.post("/api/uploads?problem=classification", content=_csv(["1", "1.0", "1e0"] * 5))
    assert one.status_code == 422 and "only one class" in one.json()["error"]


def test_words_stay_classes_of_their_own_and_numbers_still_merge():
    labels = ["cat", "1", "1.0", "dog", "cat", "2"] * 3
    up = parse_csv(_csv(labels), "classification")
    assert up.class_names == ["1", "2", "cat", "dog"]
    assert up.y.tolist() == [[2, 0, 0, 3, 2, 1][i % 6] for i in range(18)]


@pytest.mark.parametrize("label", ["NaN", "-nan", "+NAN", "na", ""])
def test_a_nan_label_in_any_spelling_is_refused(label):
    with pytest.raises(ValueError, match="line 4, column 3 \\(the label\\) is empty or NaN"):
        parse_csv(_csv(["0", "1", "0", label] + ["1"] * 8), "classification")


@pytest.mark.parametrize("query, name, values", [
    ("lr=1&lr=2", "'lr'", "'1', '2'"),
    ("optimizer=sgd&optimizer=adam&steps=3", "'optimizer'", "'sgd', 'adam'"),
    ("steps=3&lr=0.1&steps=3", "'steps'", "'3', '3'"),  # the same value twice is still ambiguous input
])  # fmt: skip
def test_a_repeated_path_parameter_is_a_400_naming_it(client, query, name, values):
    r = client.get(f"/api/paths?{query}")
    assert r.status_code == 400
    assert r.json()["error"] == f"parameter(s) given more than once: {name} ({values}); give each parameter one value"
    _serving(client)


def test_a_repeated_upload_parameter_is_a_400_and_nothing_is_stored(client):
    before = len(client.app.state.registry.uploads)
    r = client.post("/api/uploads?problem=auto&problem=regression", content=_csv(["0", "1"] * 6))
    assert r.status_code == 400 and "'problem' ('auto', 'regression')" in r.json()["error"]
    assert len(client.app.state.registry.uploads) == before
    r = client.post("/api/uploads?problm=regression", content=_csv(["0", "1"] * 6))  # a typo is not ignored either
    assert r.status_code == 422 and r.json()["error"] == "unknown parameter(s): problm; known: problem"
    assert client.post("/api/uploads?problem=regression", content=_csv(["0", "1.5"] * 6)).json()["problem"] == "regression"
    _serving(client)


def test_single_parameters_still_work_and_default(client):
    one = client.get("/api/paths?optimizer=adam&lr=0.5&steps=3").json()
    assert one["lr"] == 0.5 and len(one["path"]) == 4
    assert client.get("/api/paths").json()["lr"] == 0.1


@pytest.mark.parametrize("url", ["/api/validate", "/api/sessions"])
def test_a_json_body_repeating_a_key_is_refused(client, url):
    r = client.post(url, content=b'{"lr": 0.1, "layers": [4], "lr": 0.2}', headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["error"] == "the message gives 'lr' more than once (0.1 and 0.2); give each parameter once"
    assert client.post("/api/validate", content=b'{"lr": 0.2}').json()["config"]["lr"] == 0.2
    _serving(client)


def test_a_websocket_message_repeating_a_key_changes_nothing(client):
    sid = client.post("/api/sessions", json={"lr": 0.03}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()  # the first snapshot
        ws.send_text('{"action": "config", "config": {"lr": 0.5}, "config": {"lr": 0.7}}')
        while (msg := ws.receive_json()).get("type") != "error":
            pass
        assert "gives 'config' more than once" in msg["message"] and msg["config"]["lr"] == 0.03
    _serving(client)
