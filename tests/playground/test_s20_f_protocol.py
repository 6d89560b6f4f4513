"""The WebSocket protocol's constants have one source, the server: ``/api/schema`` carries its close
codes and its "session ended" text (``protocol``), the server closes with exactly those codes (and
says why in the close reason), and the page (``app.js``) reads them instead of repeating them."""

import re
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")

from nablagrad.playground import server  # noqa: E402

APP_JS = Path(server.STATIC) / "app.js"


from test_s19_e_delete_session import _rest as _closed  # noqa: E402 - every message left, and the close


def test_the_schema_tells_the_page_the_close_codes_and_the_ended_text(client):
    served = client.get("/api/schema").json()["protocol"]
    assert served == {"close_codes": server.CLOSE_CODES, "ended": server.ENDED}
    codes = served["close_codes"]
    assert set(codes) == {"no_session", "ended", "too_many_pages"}
    assert len(set(codes.values())) == 3 and all(4000 <= c <= 4999 for c in codes.values())  # private-use range


def test_the_page_repeats_no_close_code_and_reads_the_servers():
    js = APP_JS.read_text(encoding="utf-8")
    assert not re.search(r"\b4\d{3}\b", js), re.findall(r".*\b4\d{3}\b.*", js)
    assert "schema.protocol" in js and "close_codes" in js


def test_a_changed_code_is_what_the_schema_says_and_what_a_deleted_session_closes_with(client, monkeypatch):
    monkeypatch.setitem(server.CLOSE_CODES, "ended", 4999)
    assert client.get("/api/schema").json()["protocol"]["close_codes"]["ended"] == 4999
    sid = client.post("/api/sessions", json={}).json()["id"]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()
        assert client.delete(f"/api/sessions/{sid}").status_code == 204
        msgs, closed = _closed(ws)
    assert msgs[-1] == {"type": "ended", "message": server.ENDED}
    assert closed.code == 4999 and closed.reason == server.ENDED


def test_a_refused_page_gets_the_schemas_code_and_the_reason_in_the_close(client):
    codes = client.get("/api/schema").json()["protocol"]["close_codes"]
    with client.websocket_connect("/ws/no-such-session") as ws:
        msgs, closed = _closed(ws)
    assert msgs == [{"type": "error", "message": server.NO_SESSION_PAGE}]
    assert closed.code == codes["no_session"] and closed.reason == server.NO_SESSION_PAGE
    sid = client.post("/api/sessions", json={}).json()["id"]
    pages = [client.websocket_connect(f"/ws/{sid}") for _ in range(server.MAX_VIEWERS)]
    try:
        for p in pages:
            p.__enter__().receive_json()
        with client.websocket_connect(f"/ws/{sid}") as extra:
            msgs, closed = _closed(extra)
        assert msgs == [{"type": "error", "message": server.TOO_MANY_PAGES}]
        assert closed.code == codes["too_many_pages"] and closed.reason == server.TOO_MANY_PAGES
        assert len(closed.reason.encode()) <= 123  # what a WebSocket close frame can carry
    finally:
        for p in pages:
            p.__exit__(None, None, None)
