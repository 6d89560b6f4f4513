"""``DELETE /api/sessions/{id}`` while pages show the session: its training stops, the server lets
it go, and every page is told ``{"type": "ended", ...}`` once and disconnected with code 4410 (no
snapshot after it, no page left waiting on a session that no longer exists).  An id that names no
session is a 404 with a message, and the server keeps serving."""

import time

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from nablagrad.playground.server import CLOSE_CODES, ENDED  # noqa: E402


def _rest(ws) -> tuple[list[dict], WebSocketDisconnect]:
    """Every message a page still receives, and how its socket closed."""
    msgs = []
    while True:
        try:
            msgs.append(ws.receive_json())
        except WebSocketDisconnect as closed:
            return msgs, closed


def _settled(predicate, limit=5.0) -> bool:
    end = time.monotonic() + limit
    while time.monotonic() < end and not predicate():
        time.sleep(0.01)
    return predicate()


def test_deleting_a_playing_session_stops_it_and_tells_every_page(client):
    registry = client.app.state.registry
    sid = client.post("/api/sessions", json={"dataset": "xor"}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as a, client.websocket_connect(f"/ws/{sid}") as b:
        a.receive_json(), b.receive_json()
        a.send_json({"action": "play"})
        while a.receive_json()["epoch"] == 0:  # training under way
            pass
        session, runner = registry.sessions[sid], registry.runners[sid]
        r = client.delete(f"/api/sessions/{sid}")
        assert r.status_code == 204
        for ws in (a, b):
            msgs, closed = _rest(ws)
            assert msgs[-1] == {"type": "ended", "message": ENDED}  # said once, and nothing after it
            assert [m["type"] for m in msgs].count("ended") == 1
            assert closed.code == CLOSE_CODES["ended"] and closed.reason == ENDED
        assert "reload" in ENDED
        assert session.playing is False and _settled(runner.done)  # no stepping task left
        assert not (registry.sessions or registry.runners or registry.viewers or registry.wakes or registry.ended)
        assert session.train_for(10.0, while_playing=True) == 0  # a chunk under way would stop here
    assert client.get(f"/api/sessions/{sid}/script.py").status_code == 404
    assert client.post("/api/sessions", json={}).status_code == 201  # the server keeps serving


def test_deleting_a_session_no_page_shows_releases_it_and_a_late_page_is_told(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert sid not in client.app.state.registry.sessions
    with client.websocket_connect(f"/ws/{sid}") as ws:
        msgs, closed = _rest(ws)
    assert "no such session" in msgs[0]["message"] and closed.code == 4404


@pytest.mark.parametrize("sid", ["nope", "%2e%2e", "x" * 500])
def test_deleting_an_unknown_session_is_a_404_with_a_message(client, sid):
    other = client.post("/api/sessions", json={}).json()["id"]
    r = client.delete(f"/api/sessions/{sid}")
    assert r.status_code == 404 and "no such session" in r.json()["error"] and "reload" in r.json()["error"]
    assert list(client.app.state.registry.sessions) == [other]  # nothing else went


def test_deleting_twice_is_a_404_the_second_time(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    assert client.delete(f"/api/sessions/{sid}").status_code == 404


def test_a_page_left_after_another_closes_is_still_served_and_deleting_then_ends_it(client):
    sid = client.post("/api/sessions", json={}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as a:
        a.receive_json()
        with client.websocket_connect(f"/ws/{sid}") as b:
            b.receive_json()
        a.send_json({"action": "step"})
        while a.receive_json().get("epoch") != 1:
            pass
        assert client.delete(f"/api/sessions/{sid}").status_code == 204
        msgs, closed = _rest(a)
        assert msgs[-1]["type"] == "ended" and closed.code == CLOSE_CODES["ended"]
