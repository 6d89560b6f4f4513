"""Review s20 r3: an ``inspect`` message that holds its three keys but not as whole numbers is refused with
the same words as one that lacks a key (``NEEDS["inspect"]``, one source), and changes nothing."""

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")

from nablagrad.playground.server import NEEDS  # noqa: E402


@pytest.mark.parametrize("where", [{"layer": "0", "source": 0, "target": 0}, {"layer": 0, "source": True, "target": 0},
                                   {"layer": 0, "source": 0, "target": 1.5}])  # fmt: skip
def test_inspect_with_keys_that_are_not_whole_numbers_is_refused_by_name(client, where):
    sid = client.post("/api/sessions", json={}).json()["id"]
    session = client.app.state.registry.sessions[sid]
    with client.websocket_connect(f"/ws/{sid}") as ws:
        ws.receive_json()
        version = session.version
        ws.send_json({"action": "inspect", **where})
        msg = ws.receive_json()
        while msg["type"] != "error":
            msg = ws.receive_json()
        assert msg["message"] == NEEDS["inspect"]
        assert session.version == version
