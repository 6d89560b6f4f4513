"""A page URL that gives a parameter twice (``?lr=0.3&lr=0.01``) in a real headless Chromium: the
page says so in its status line and keeps the field's default instead of silently taking the last
value (as the server's ``/api/paths`` answers 400); a parameter given once is still restored."""

from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
pytest.importorskip("playwright", reason="Playwright is not installed (the test dependency group)")

# the live server, Chromium and page fixtures of the playground's browser suite, and its helpers
from test_browser import CHROMIUM, _open, _wait, browser, page, server  # noqa: E402, F401

from nablagrad.playground.config import FIELD  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt install chromium)"),
]


def test_a_repeated_url_parameter_is_named_and_the_default_kept(server, page):  # noqa: F811
    _open(page, server + "?lr=0.3&lr=0.01&optimizer=adam")
    status = page.text_content("#status")
    assert "the URL gives lr (0.3, 0.01) more than once; the default is used" in status, status
    assert _wait(lambda: f"lr={FIELD['lr'].default}" in page.url and "optimizer=adam" in page.url, 10), page.url


def test_a_url_without_repeats_has_no_note(server, page):  # noqa: F811
    _open(page, server + "?lr=0.1&optimizer=adam")
    assert "more than once" not in (page.text_content("#status") or "")
    assert _wait(lambda: "lr=0.1&" in page.url or page.url.endswith("lr=0.1"), 10), page.url
