"""Every Python example in README.md and docs/*.md runs, and its shown output is what it prints.

A ```python block is executed (blocks of one page share a namespace, in order).  When it is
followed directly by an ```output block, the printed text must match that block.
"""

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```(python|output)\n(.*?)```", re.S)


def _blocks(page: Path):
    blocks = [(m.group(1), m.group(2)) for m in BLOCK.finditer(page.read_text())]
    out = []
    for i, (kind, code) in enumerate(blocks):
        if kind == "python":
            expected = blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "output" else None
            out.append((code, expected))
    return out


def _normalise(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_examples_run(page, tmp_path, monkeypatch):
    blocks = _blocks(page)
    if not blocks:
        pytest.skip("no python examples on this page")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for n, (code, expected) in enumerate(blocks, 1):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(code, f"{page.name}[block {n}]", "exec"), namespace)
        if expected is not None:
            assert _normalise(buffer.getvalue()) == _normalise(expected), f"{page.name} block {n} output differs"


def test_every_docs_page_has_an_example():
    for page in PAGES[1:]:
        assert _blocks(page), f"{page.name} has no runnable example"
