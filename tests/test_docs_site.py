"""The docs as a learner meets them: the figures regenerate from the tutorials' code, the site
builds with ``mkdocs --strict``, and every page runs as a Jupyter notebook generated from it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md"))
sys.path.insert(0, str(ROOT / "scripts"))


def _env():
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


def test_figures_regenerate_without_error(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "docs_figures.py"), str(tmp_path)], capture_output=True,
                       text=True, timeout=600, env=_env())  # fmt: skip
    assert r.returncode == 0, r.stderr
    made = sorted(p.name for p in tmp_path.glob("*.png"))
    committed = sorted(p.name for p in (ROOT / "docs" / "figures").glob("*.png"))
    assert made == committed and all((tmp_path / n).stat().st_size > 5000 for n in made)
    referenced = {line.split("(figures/")[1].split(")")[0] for p in PAGES for line in p.read_text().splitlines()
                  if "](figures/" in line}  # fmt: skip
    assert referenced == set(committed)  # every figure is shown, every shown figure exists


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d",
                        str(tmp_path / "site")], capture_output=True, text=True, timeout=600, env=_env())  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "site" / "backpropagation" / "index.html").exists()
    nav = (ROOT / "mkdocs.yml").read_text()
    assert all(p.name in nav for p in PAGES), "every page is in the site's navigation"


@pytest.mark.notebooks
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_runs_as_a_notebook(page, tmp_path, monkeypatch):
    pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    import docs_notebooks

    nb = docs_notebooks.notebook(page)
    if not any(c.cell_type == "code" for c in nb.cells):
        pytest.skip("no code on this page")
    monkeypatch.setenv("PYTHONPATH", _env()["PYTHONPATH"])
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
