"""End to end in a real headless Chromium (Debian's), driven by Playwright."""

import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from nablagrad.playground.server import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt install chromium)")


@pytest.fixture(scope="module")
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _wait(predicate, timeout=60.0, every=0.2):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(every)
    return False


def test_two_spirals_train_below_0_1_test_loss_and_url_reproduces_the_run(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server)
    page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent !== '0'")
    url_before = page.url
    page.select_option("[data-testid=dataset]", "spiral")
    assert _wait(lambda: "dataset=spiral" in page.url, 5)  # a control change is written into the URL
    assert page.url != url_before
    for i, target in ((1, 8), (2, 8)):  # default layers are 4 and 2 neurons
        for _ in range(8):
            page.click(f"[data-testid=add-neuron-{i}]")
        assert f"{target} neurons" in page.text_content("[data-testid=layer-buttons]")
    page.select_option("[data-testid=activation]", "tanh")
    page.select_option("[data-testid=optimizer]", "adam")
    page.check("[data-testid=features] input[value=sinx1]")
    page.check("[data-testid=features] input[value=sinx2]")
    assert _wait(lambda: "layers=8%2C8" in page.url and "optimizer=adam" in page.url and "sinx2" in page.url, 5)
    time.sleep(0.5)  # let the server apply the last configuration
    page.click("[data-testid=play]")

    def low_loss():
        text = page.text_content("[data-testid=test-loss]")
        return text not in ("–", "") and float(text) < 0.1

    assert _wait(low_loss, timeout=90), f"test loss stayed at {page.text_content('[data-testid=test-loss]')}"
    page.click("[data-testid=pause]")
    epoch = int(page.text_content("[data-testid=epoch]"))
    assert epoch > 0
    page.check("[data-testid=show-test]")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "playground.png"))
    assert (ARTIFACTS / "playground.png").stat().st_size > 10_000

    # reload the URL: the same configuration comes back
    url = page.url
    page.goto(url)
    page.wait_for_function("document.querySelector('[data-testid=epoch]').textContent !== '0'")
    assert page.input_value("[data-testid=dataset]") == "spiral"
    assert page.input_value("[data-testid=activation]") == "tanh"
    assert page.input_value("[data-testid=optimizer]") == "adam"
    assert page.text_content("[data-testid=layer-count]") == "2"
    assert "8 neurons" in page.text_content("[data-testid=layer-buttons]")
    assert page.is_checked("[data-testid=features] input[value=sinx1]")
    assert page.url == url
    assert not errors, errors
    page.close()


def test_every_control_has_a_label(server, browser):
    page = browser.new_page()
    page.goto(server)
    page.wait_for_selector("[data-testid=play]")
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('select, input, button')].filter(el =>
            !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim()
        ).map(el => el.id || el.outerHTML)"""
    )
    assert unlabeled == []
    for tid in ("dataset", "activation", "optimizer", "play", "pause", "step", "reset", "epoch", "train-loss", "test-loss"):
        assert page.locator(f"[data-testid={tid}]").count() == 1, tid
    values = page.eval_on_selector_all("[data-testid=dataset] option", "os => os.map(o => o.value)")
    assert values == ["circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss"]
    page.close()
