"""Write every tutorial page docs/*.md as a Jupyter notebook (jupytext: the page is the one source;
its ```python blocks become code cells), into build/notebooks/ or the folder given.

    python scripts/docs_notebooks.py [OUTDIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext

DOCS = Path(__file__).resolve().parents[1] / "docs"


def notebook(page: Path):
    """The page as a notebook (nbformat v4).  Only the ```python blocks are code: a shell block
    (which jupytext turns into a ``%%sh`` cell) stays text, as on the page."""
    nb = jupytext.read(page, fmt="md")
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith("%%"):
            magic, _, body = cell.source.partition("\n")
            cell.cell_type, cell.source = "markdown", f"```{magic[2:]}\n{body}\n```"
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
    return nb


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for page in sorted(DOCS.glob("*.md")):
        jupytext.write(notebook(page), out / f"{page.stem}.ipynb")
        print(f"{page.stem}.ipynb")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS.parent / "build" / "notebooks")
