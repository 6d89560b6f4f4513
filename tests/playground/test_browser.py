"""End to end in a real headless Chromium (Debian's), driven by Playwright.

Screenshots go to ``test-artifacts/`` (ignored by git); the measured speed is written there too
(``playground_speed.txt``) and recorded in ``bench/RESULTS.md``.  No assertion depends on timing.
"""

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

uvicorn = pytest.importorskip("uvicorn", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
pytest.importorskip("playwright", reason="Playwright is not installed (the test dependency group)")

from nablagrad.playground import Session, parse_config  # noqa: E402
from nablagrad.playground.server import create_app  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt install chromium)"),
]


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


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    assert not errors, errors
    page.close()


def _open(page, url):
    page.goto(url)
    page.wait_for_function("window.playground && window.playground.last() !== null", timeout=30_000)


def _last(page, key):
    return page.evaluate(f"window.playground.last()[{key!r}]")


def _wait(predicate, timeout=60.0, every=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if predicate():
            return True
        time.sleep(every)
    return False


def _shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))
    assert (ARTIFACTS / name).stat().st_size > 10_000


SPIRALS = {"dataset": "spiral", "points": 500, "batch_size": 10, "layers": [8, 8], "activations": ["tanh", "tanh"],
           "features": ["x1", "x2"]}  # fmt: skip


def _engine_rate(seconds: float = 1.5) -> float:
    """Epochs per second of the same run in the engine alone: ``train.fit`` over many epochs, no server."""
    import nablagrad as ng

    s = Session(parse_config(SPIRALS))
    n, done, t0 = s.n_train, 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        ng.train.fit(s.model, s.loss_fn, s.optimizer, s.F[:n], s.T[:n], epochs=20, batch_size=10, seed=done)
        done += 20
    return done / (time.perf_counter() - t0)


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (Linux); [] once the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _browser_cpu_seconds() -> float:
    """User + system CPU seconds used so far by this test's child processes (Playwright's driver
    and Chromium's processes)."""
    parent = {int(p.name): int(f[1]) for p in Path("/proc").iterdir() if p.name.isdigit() and (f := _stat(int(p.name)))}
    family, grew = {os.getpid()}, True
    while grew:
        new = {pid for pid, pp in parent.items() if pp in family} - family
        family |= new
        grew = bool(new)
    ticks = sum(int(f[11]) + int(f[12]) for pid in family - {os.getpid()} if (f := _stat(pid)))
    return ticks / os.sysconf("SC_CLK_TCK")


def test_speed_two_spirals_8_8_tanh(server, page):
    """Measured, not asserted: epochs and frames per second while playing, the engine alone on the
    same run before and after (the ratio is what the server keeps of it), the CPU the browser took
    and the machine's load.  Written to test-artifacts/playground_speed.txt."""
    query = "&".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in SPIRALS.items())
    _open(page, server + "?" + query)
    assert [len(layer) for layer in _last(page, "neurons")["layers"]] == [2, 8, 8, 2]
    before = _engine_rate()
    page.click("[data-testid=play]")
    assert _wait(lambda: _last(page, "epoch") > 0, 30)
    c0, load = _browser_cpu_seconds(), os.getloadavg()[0]
    e0, f0, t0 = _last(page, "epoch"), page.evaluate("window.playground.frames()"), time.perf_counter()
    time.sleep(4)
    e1, f1, t1 = _last(page, "epoch"), page.evaluate("window.playground.frames()"), time.perf_counter()
    c1 = _browser_cpu_seconds()
    page.click("[data-testid=pause]")
    after = _engine_rate()
    epochs, fps, browser_cpu = (e1 - e0) / (t1 - t0), (f1 - f0) / (t1 - t0), (c1 - c0) / (t1 - t0)
    engine = (before + after) / 2
    line = (f"{epochs:.0f} epochs/s in the browser ({fps:.1f} frames/s); the engine alone (fit) {before:.0f} before, "
            f"{after:.0f} after: {epochs / engine:.2f} of it; the browser used {browser_cpu:.2f} CPU; load average {load:.1f} "
            f"on {os.cpu_count()} cores")  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "playground_speed.txt").write_text(line + "\n")
    print("playground speed:", line)
    assert e1 > e0 and f1 > f0
    _shot(page, "playground_speed.png")


def test_three_blobs_reach_90_percent_and_the_url_restores_everything(server, page):
    _open(page, server)
    page.select_option("[data-testid=dataset]", "blobs")
    page.select_option("[data-testid=classes]", "3")
    page.select_option("[data-testid=optimizer]", "adam")
    page.select_option("[data-testid=init]", "kaiming_uniform")
    page.select_option("[data-testid=dropout]", "0.1")
    page.click("[data-testid=add-neuron-1]")
    page.select_option("[data-testid=activation-1]", "leaky_relu")
    page.select_option("[data-testid=activation-2]", "abs")
    page.select_option("[data-testid=speed]", "100")
    assert _wait(lambda: _last(page, "classes") == 3 and len(_last(page, "weights")[0][0]) == 5, 10)
    page.click("[data-testid=play]")

    def accurate():
        text = page.text_content("[data-testid=test-accuracy]")
        return text.endswith("%") and float(text[:-1]) >= 90

    assert _wait(accurate, 60), page.text_content("[data-testid=test-accuracy]")
    page.click("[data-testid=pause]")
    assert len(_last(page, "heatmap")["probs"][0]) == 3  # each class has its colour
    _shot(page, "playground_blobs.png")

    url = page.url
    for part in ("dataset=blobs", "classes=3", "optimizer=adam", "init=kaiming_uniform", "dropout=0.1", "layers=5%2C2",
                 "activations=leaky_relu%2Cabs", "speed=100"):  # fmt: skip
        assert part in url, part
    _open(page, url)
    assert page.url == url
    restored = [("dataset", "blobs"), ("classes", "3"), ("optimizer", "adam"), ("init", "kaiming_uniform"), ("dropout", "0.1"),
                ("activation-1", "leaky_relu"), ("activation-2", "abs"), ("speed", "100")]  # fmt: skip
    for tid, value in restored:
        assert page.input_value(f"[data-testid={tid}]") == value, tid
    assert "5 neurons" in page.text_content("[data-testid=layer-buttons]")
    assert _last(page, "classes") == 3


def test_per_layer_activation_and_init_change_the_network(server, page):
    _open(page, server + "?layers=3&activations=tanh")
    thumbs_tanh = _last(page, "neurons")["layers"][1]
    page.select_option("[data-testid=activation-1]", "step")
    assert _wait(lambda: _last(page, "neurons")["layers"][1] != thumbs_tanh, 10)
    assert {v for t in _last(page, "neurons")["layers"][1] for v in t} <= {0, 100}  # a step outputs 0 or 1
    page.select_option("[data-testid=init]", "zeros")
    assert _wait(lambda: all(w == 0 for W in _last(page, "weights") for row in W for w in row), 10)
    page.select_option("[data-testid=bias_init]", "0.1")
    for _ in range(3):
        page.click("[data-testid=step]")
    assert _wait(lambda: _last(page, "epoch") == 3, 10)
    W = _last(page, "weights")[1]  # zeros: every hidden unit stays the same (symmetry)
    assert all(row == W[0] for row in W) and any(w != 0 for w in W[0])
    _shot(page, "playground_zeros.png")


def test_hovering_a_link_shows_the_update_with_numbers(server, page):
    _open(page, server + "?layers=4&activations=tanh&optimizer=sgd&lr=0.1")
    page.click("[data-testid=step]")
    assert _wait(lambda: _last(page, "epoch") == 1, 10)
    page.wait_for_function("window.playground.links().length > 0")
    x0, y0, x1, y1, *_ = page.evaluate("window.playground.links()[5]")
    box = page.locator("[data-testid=network]").bounding_box()
    page.mouse.move(box["x"] + (x0 + x1) / 2, box["y"] + (y0 + y1) / 2)
    page.wait_for_selector("[data-testid=inspect]:not([hidden])", timeout=10_000)
    text = page.text_content("[data-testid=inspect]")
    num = r"−?-?[0-9.]+(?:e[-+]?[0-9]+)?"
    m = re.search(rf"g = ∂L/∂w = ({num}).*Δw = −η·g = −0\.1 × ({num}) = ({num})", text)
    assert m, text
    g, g2, delta = (float(v.replace("−", "-")) for v in m.groups())
    hovered = page.evaluate("window.playground.shown()")  # the link nearest to the pointer
    assert g == pytest.approx(g2, rel=1e-3) and delta == pytest.approx(-0.1 * g, rel=1e-2, abs=1e-6)
    assert "w ← w − η g" in page.text_content("[data-testid=update-rule]")
    assert "softmax" in page.text_content("[data-testid=loss-formula]")
    _shot(page, "playground_hover.png")

    # the keyboard reaches the same formula: Tab to the network, arrows step through the weights
    page.mouse.move(0, 0)
    page.wait_for_selector("[data-testid=inspect]", state="hidden")
    page.locator("body").focus()
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "network":
            break
    assert page.evaluate("document.activeElement.id") == "network"
    page.wait_for_selector("[data-testid=inspect]:not([hidden])", timeout=10_000)
    W = _last(page, "weights")[0]
    assert page.text_content("[data-testid=inspect]").startswith(f"layer 1, 1 → 1 (epoch 1):  w = {_precision(W[0][0])}")
    for _ in range(hovered):
        page.keyboard.press("ArrowRight")
    assert _wait(lambda: page.text_content("[data-testid=inspect]") == text, 10)  # the same formula, the same numbers
    assert page.get_attribute("[data-testid=inspect]", "aria-live") == "polite"  # a screen reader reads it out
    page.keyboard.press("PageDown")  # the next layer of weights: hidden → output
    assert _wait(lambda: page.text_content("[data-testid=inspect]").startswith("layer 2, 1 → 1 "), 10)
    page.keyboard.press("ArrowLeft")  # back to the last weight of layer 1
    assert _wait(lambda: page.text_content("[data-testid=inspect]").startswith("layer 1, 2 → 4 "), 10)
    _shot(page, "playground_keyboard.png")
    page.keyboard.press("Escape")
    page.wait_for_selector("[data-testid=inspect]", state="hidden")


def _precision(w: float, digits: int = 4) -> str:
    """JavaScript's ``w.toPrecision(4)`` for a weight of moderate size."""
    return f"{w:#.{digits}g}".rstrip(".") if "e" not in f"{w:#.{digits}g}" else f"{w:.{digits - 1}e}"


def test_the_readme_picture_adams_update_of_a_weight_on_two_spirals(server, page):
    """The README's picture (docs/playground.png is a copy of test-artifacts/playground_readme.png):
    2-8-8-1 tanh on two spirals with x₁, x₂, sin x₁, sin x₂ and Adam, trained for a while; hovering a
    weight of the second layer shows Adam's update with its numbers, checked here:
    ``m̂ = m/(1 − β₁ᵗ)``, ``v̂ = v/(1 − β₂ᵗ)``, ``Δw = −η·m̂/(√v̂ + ε)``."""
    query = "dataset=spiral&points=500&batch_size=10&layers=8,8&activations=tanh,tanh&features=x1,x2,sinx1,sinx2"
    _open(page, server + "?" + query + "&optimizer=adam&lr=0.01")
    page.click("[data-testid=play]")
    assert _wait(lambda: _last(page, "epoch") >= 500, 120)
    page.click("[data-testid=pause]")
    assert _wait(lambda: _last(page, "playing") is False, 10)
    links = page.evaluate("window.playground.links()")
    x0, y0, x1, y1, *_ = next(link for link in links if link[4] == 1)  # a weight between the hidden layers
    box = page.locator("[data-testid=network]").bounding_box()
    page.mouse.move(box["x"] + x0 + 0.3 * (x1 - x0), box["y"] + y0 + 0.3 * (y1 - y0))
    page.wait_for_selector("[data-testid=inspect]:not([hidden])", timeout=10_000)
    text = page.text_content("[data-testid=inspect]")
    num = r"(−?-?[0-9.]+(?:e[-+]?[0-9]+)?)"
    m = re.search(rf"\(t = (\d+)\).*m̂ = m/\(1 − β₁ᵗ\) = {num},  v̂ = v/\(1 − β₂ᵗ\) = {num}"
                  rf"Δw = −η·m̂ / \(√v̂ \+ ε\) = −0\.01 × {num} / \({num} \+ 1e-08\) = {num}", text)  # fmt: skip
    assert m, text
    t, mh, vh, mh2, root, delta = (float(v.replace("−", "-")) for v in m.groups())
    assert t == _last(page, "epoch") * 25 + 1  # the next of Adam's steps: 25 batches of 10 per epoch so far
    assert mh2 == pytest.approx(mh, rel=1e-3) and root == pytest.approx(vh**0.5, rel=1e-3)
    assert delta == pytest.approx(-0.01 * mh / (root + 1e-8), rel=1e-2)
    _shot(page, "playground_readme.png")


def test_a_diverging_run_pauses_with_its_message(server, page):
    _open(page, server + "?dataset=reg-gauss&lr=10&optimizer=sgd")
    page.click("[data-testid=play]")
    assert _wait(lambda: "Paused" in page.text_content("[data-testid=status]"), 30)
    assert "learning rate 10 is too large" in page.text_content("[data-testid=status]")
    assert _last(page, "playing") is False
    page.select_option("[data-testid=lr]", "0.03")  # the socket still works: a new run starts
    page.click("[data-testid=step]")
    assert _wait(lambda: _last(page, "epoch") == 1 and _last(page, "status") == "", 10)
    _shot(page, "playground_diverged.png")


def test_a_csv_is_uploaded_and_a_bad_one_refused_with_its_message(server, page, tmp_path):
    _open(page, server)
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n" + "\n".join(f"{i},{i},1" for i in range(20)))
    page.set_input_files("[data-testid=csv]", str(bad))
    assert _wait(lambda: "only one class" in page.text_content("[data-testid=status]"), 10)
    good = tmp_path / "moons.csv"
    rows = [f"{x:.3f},{y:.3f},{c}" for x, y, c in _three_groups()]
    good.write_text("x1,x2,kind\n" + "\n".join(rows))
    page.set_input_files("[data-testid=csv]", str(good))
    assert _wait(lambda: "3 classes" in page.text_content("[data-testid=upload-info]"), 10)
    assert _wait(lambda: "dataset=upload" in page.url and _last(page, "classes") == 3, 10)
    page.select_option("[data-testid=optimizer]", "adam")
    page.click("[data-testid=play]")
    assert _wait(lambda: page.text_content("[data-testid=test-accuracy]").endswith("%")
                 and float(page.text_content("[data-testid=test-accuracy]")[:-1]) >= 90, 60)  # fmt: skip
    page.click("[data-testid=pause]")
    _shot(page, "playground_upload.png")
    url = page.url
    _open(page, url)  # the URL names the upload: the same data come back
    assert page.input_value("[data-testid=dataset]") == "upload" and _last(page, "class_names") == ["a", "b", "c"]


def _three_groups():
    import numpy as np

    rng = np.random.default_rng(0)
    for i in range(150):
        c = i % 3
        yield 100 + 30 * c + rng.normal(0, 4), -2 + (c == 1) * 3 + rng.normal(0, 0.5), "abc"[c]


def test_every_control_has_a_label(server, page):
    _open(page, server)
    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('select, input, button')].filter(el =>
            !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim()
        ).map(el => el.id || el.outerHTML)"""
    )
    assert unlabeled == []
    for tid in ("dataset", "activation-1", "optimizer", "play", "pause", "step", "reset", "epoch", "train-loss", "test-loss"):
        assert page.locator(f"[data-testid={tid}]").count() == 1, tid
    schema = page.evaluate("fetch('/api/schema').then(r => r.json())")
    for f in schema["fields"]:  # the page's controls are built from the field table
        if f["control"] in ("select", "range", "checkboxes"):
            assert page.locator(f"[data-testid={f['name']}]").count() == 1, f["name"]
        if f["control"] == "select":
            values = page.eval_on_selector_all(f"[data-testid={f['name']}] option", "os => os.map(o => o.value)")
            if "choices" in f:
                assert values == f["choices"], f["name"]
            else:
                assert [float(v) for v in values] == f["presets"], f["name"]


def test_a_refused_change_puts_the_controls_back(server, page):
    _open(page, server + "?dataset=upload&upload=gone")  # a forgotten upload: the defaults, with the reason
    assert "no uploaded data 'gone'" in page.text_content("[data-testid=status]")
    assert page.input_value("[data-testid=dataset]") == "circle" and "dataset=circle" in page.url
    page.select_option("[data-testid=batch_size]", "250")
    page.select_option("[data-testid=points]", "100")
    assert _wait(lambda: "exceeds the 50 training points" in page.text_content("[data-testid=status]"), 10)
    assert page.input_value("[data-testid=points]") == "500" and "points=500" in page.url
