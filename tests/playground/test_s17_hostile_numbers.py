"""Numbers a hostile or careless page can send: a JSON integer beyond any float (answered 422 with
the range, not 500), a value echoed back cut short, an uploaded column spanning ±1e308 (scaled
without overflow, checked against exact rational arithmetic), and frames that are strict JSON
(no NaN, which the browser's JSON.parse refuses)."""

import json
from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
from starlette.testclient import TestClient  # noqa: E402

from nablagrad.playground import parse_csv  # noqa: E402
from nablagrad.playground.server import _dumps, create_app  # noqa: E402

BIG = "1" + "0" * 400  # a JSON integer of 401 digits: float() of it overflows


@pytest.fixture
def client():
    with TestClient(create_app()) as c:
        yield c


def _strict(text: str):
    def refuse(name):
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("field, value, message", [
    ("points", BIG, "points must lie between 20 and 1000, got 1000"),
    ("lr", BIG, "lr must lie between 1e-06 and 10, got 1000"),
    ("seed", BIG, "seed must lie between 0 and 2147483647, got 1000"),
    ("seed", "-" + BIG, "seed must lie between 0 and 2147483647, got -1000"),
    ("layers", f"[4, {BIG}]", "layers[1] must lie between 1 and 16, got 1000"),
    ("seed", "2147483648", "seed must lie between 0 and 2147483647, got 2147483648"),
])  # fmt: skip
@pytest.mark.parametrize("route", ["/api/validate", "/api/sessions"])
def test_integers_beyond_a_float_get_422_with_the_range_and_the_server_keeps_serving(client, route, field, value, message):
    r = client.post(route, content=f'{{"{field}": {value}}}', headers={"content-type": "application/json"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error.startswith(message)
    assert len(error) < 200  # the 401-digit value is cut short, with its length
    if len(value) > 100:
        assert "(401 characters)" in error or "(402 characters)" in error
    assert client.post("/api/sessions", json={}).status_code == 201


def test_the_websocket_answers_a_huge_integer_with_a_json_error(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        ws.send_text(f'{{"action": "config", "config": {{"points": {BIG}}}}}')
        msg = ws.receive_json()
        while msg["type"] != "error":
            msg = ws.receive_json()
        assert msg["message"].startswith("points must lie between 20 and 1000")
        assert msg["config"]["points"] == 500  # nothing changed
        ws.send_text(json.dumps({"action": "x" * 10_000}))
        msg = ws.receive_json()
        while msg["type"] != "error":
            msg = ws.receive_json()
        assert msg["message"].startswith("unknown action 'xxx") and len(msg["message"]) < 200


def _exact_scaled(col: list[float]) -> list[float]:
    """(x − lo)/(hi − lo)·10 − 5 in exact rational arithmetic, rounded once."""
    lo, hi = Fraction(min(col)), Fraction(max(col))
    return [float((Fraction(x) - lo) / (hi - lo) * 10 - 5) for x in col]


@pytest.mark.parametrize("column", [
    [(-1) ** i * 1e308 for i in range(20)],
    [-1.7e308, 1.7e308, *(k * 1e307 for k in range(-9, 9))],
    [i * 1e-320 for i in range(20)],  # subnormal numbers
    np.linspace(-3.0, 7.0, 20).tolist(),
])  # fmt: skip
def test_an_uploaded_column_is_scaled_onto_the_view_without_overflow(column):
    rows = "\n".join(f"{x!r},{i},{i % 2}" for i, x in enumerate(column))
    up = parse_csv(rows.encode())
    assert np.all(np.isfinite(up.X))
    np.testing.assert_allclose(up.X[:, 0], _exact_scaled(column), rtol=0, atol=1e-12)
    assert up.X[:, 0].min() == -5.0 and up.X[:, 0].max() == 5.0


def test_a_session_on_a_huge_range_upload_sends_finite_points_as_strict_json(client):
    rows = "\n".join(f"{(-1) ** i * 1e308},{i},{i % 2}" for i in range(40))
    uid = client.post("/api/uploads", content=rows.encode()).json()["id"]
    sid = client.post("/api/sessions", json={"dataset": "upload", "upload": uid}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        snap = _strict(ws.receive_text())
        points = np.array(snap["points"]["train"] + snap["points"]["test"])
        assert np.all(np.abs(points[:, :2]) <= 5.0)
        ws.send_json({"action": "step"})
        snap = _strict(ws.receive_text())
        assert snap["epoch"] == 1 and snap["status"] == "" and np.isfinite(snap["train_loss"])


def test_frames_are_strict_json_with_null_for_non_finite_numbers():
    payload = {"type": "inspect", "weight": 0.5, "grad": float("nan"), "lines": ["a"], "nested": [[float("inf"), 1.0]],
               "delta": float("-inf"), "n": 3}  # fmt: skip
    assert _strict(_dumps(payload)) == {"type": "inspect", "weight": 0.5, "grad": None, "lines": ["a"],
                                        "nested": [[None, 1.0]], "delta": None, "n": 3}  # fmt: skip
    assert _strict(_dumps({"a": 1.5, "b": "é"})) == {"a": 1.5, "b": "é"}
