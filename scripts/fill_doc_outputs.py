"""Run the ```python blocks of Markdown pages and write what each prints into an ```output block
right after it (replacing an old one).  tests/test_docs.py then keeps them honest.

    python scripts/fill_doc_outputs.py docs/*.md README.md
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import tempfile
from pathlib import Path

BLOCK = re.compile(r"```python\n(.*?)```\n(?:```output\n.*?```\n)?", re.S)


def fill(page: Path) -> None:
    text = page.read_text()
    namespace: dict = {"__name__": "__docs__"}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:

            def run(m: re.Match) -> str:
                code = m.group(1)
                buf = io.StringIO()
                with contextlib.redirect_stdout(buf):
                    exec(compile(code, str(page), "exec"), namespace)
                out = buf.getvalue()
                return f"```python\n{code}```\n" + (f"```output\n{out}```\n" if out.strip() else "")

            page.write_text(BLOCK.sub(run, text))
        finally:
            os.chdir(cwd)


if __name__ == "__main__":
    for p in sys.argv[1:]:
        fill(Path(p).resolve())
        print("filled", p)
