"""A session deleted on the server (``DELETE /api/sessions/{id}``) while its page plays, in a real
headless Chromium: the page stops its loop — no message is sent to the server any more, not even
when a control changes — disables play/pause/step/reset, and says "session ended - reload ..."
instead of erroring; reloading starts a new session."""

import re
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
pytest.importorskip("playwright", reason="Playwright is not installed (the test dependency group)")

# the live server, Chromium and page fixtures of the playground's browser suite, and its helpers
from test_browser import CHROMIUM, _open, _wait, browser, page, server  # noqa: E402, F401

from nablagrad.playground.server import ENDED  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt install chromium)"),
]


def _session_id(p) -> str:
    return re.search(r"/api/sessions/([^/]+)/", p.get_attribute("#export_model", "href")).group(1)


def test_deleting_the_session_of_a_playing_page_stops_the_page_with_a_message(server, page):  # noqa: F811
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    _open(page, server + "?dataset=xor")
    page.click("[data-testid=play]")
    assert _wait(lambda: page.evaluate("window.playground.last().epoch") > 0, 30)
    sid = _session_id(page)
    with urllib.request.urlopen(urllib.request.Request(f"{server}api/sessions/{sid}", method="DELETE")) as r:
        assert r.status == 204
    assert _wait(lambda: ENDED in (page.text_content("#status") or ""), 10), page.text_content("#status")
    for control in ("play", "pause", "step", "reset"):
        assert page.is_disabled(f"[data-testid={control}]"), control
    assert page.get_attribute("#export_model", "href") is None  # no link to a session that is gone
    before = len(sent)
    page.select_option("[data-testid=optimizer]", "sgd")  # a change now goes to the URL only
    page.wait_for_timeout(300)  # longer than the page's 50 ms wait before it sends a change
    assert len(sent) == before, sent[before:]
    assert "optimizer=sgd" in page.url and ENDED in page.text_content("#status")
    page.reload()  # a reload starts a new session with the URL's configuration
    page.wait_for_function("window.playground && window.playground.last() !== null", timeout=30_000)
    assert _session_id(page) != sid and page.is_enabled("[data-testid=play]")
    assert page.eval_on_selector("[data-testid=optimizer]", "e => e.value") == "sgd"
    assert ENDED not in (page.text_content("#status") or "")
