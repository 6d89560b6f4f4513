"""Issue 6's ``activation`` select in a real headless Chromium: its values, setting every hidden
layer (the per-layer selects stay), and ``?activations=linear,linear`` loading without complaint."""

from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
pytest.importorskip("playwright", reason="Playwright is not installed (the test dependency group)")

# the live server, Chromium and page fixtures of the playground's browser suite, and its helpers
from test_browser import CHROMIUM, _last, _open, _wait, browser, page, server  # noqa: E402, F401

MENU = ["relu", "tanh", "sigmoid", "linear", "leaky_relu"]  # issue 6, verbatim

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt install chromium)"),
]


def test_the_activation_select_sets_every_hidden_layer(server, page):  # noqa: F811
    _open(page, server + "?layers=3,3,3&activations=tanh,relu,tanh")
    values = page.eval_on_selector_all("[data-testid=activation] option", "els => els.map(e => e.value)")
    assert values == MENU
    assert page.input_value("[data-testid=activation]") == ""  # the layers differ: no shared activation shown
    page.select_option("[data-testid=activation]", "sigmoid")
    assert _wait(lambda: "activations=sigmoid%2Csigmoid%2Csigmoid" in page.url, 10)
    for i in (1, 2, 3):  # the per-layer selects stay and follow
        assert page.input_value(f"[data-testid=activation-{i}]") == "sigmoid"
    thumbs = _last(page, "neurons")["layers"][1]
    page.select_option("[data-testid=activation]", "linear")
    assert _wait(lambda: _last(page, "neurons")["layers"][1] != thumbs, 10)  # the server rebuilt the network
    assert page.input_value("[data-testid=activation-2]") == "identity"
    page.select_option("[data-testid=activation-2]", "relu")  # a per-layer choice still works
    assert _wait(lambda: "activations=identity%2Crelu%2Cidentity" in page.url, 10)
    assert page.input_value("[data-testid=activation]") == ""


def test_linear_in_the_url_is_accepted(server, page):  # noqa: F811
    _open(page, server + "?layers=4,2&activations=linear,linear")
    assert page.text_content("[data-testid=status]") == ""  # not "… started from the defaults instead"
    assert "layers=4%2C2&activations=identity%2Cidentity" in page.url
    assert page.input_value("[data-testid=activation]") == "linear"
    layers = _last(page, "neurons")["layers"]
    assert [len(layer) for layer in layers] == [2, 4, 2, 2]
