"""The house rule "no import cycles": every module of nablagrad, read with ``ast``, imports no
module that (directly or through others) imports it back.  Imports inside functions count too —
a lazy import is a hidden cycle, not a fix."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import nablagrad

SRC = Path(nablagrad.__file__).resolve().parent


def modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """``{dotted name: (file, is a package)}`` for every ``.py`` under the package ``root``."""
    found = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each module's imports of other modules of the package (ancestor packages left out: a
    module's own package is always initialised first, never re-entered)."""
    mods = modules(root)
    graph: dict[str, set[str]] = {}
    for name, (path, package) in mods.items():
        here = name if package else name.rpartition(".")[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(parent + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            deps |= {t for t in targets if t in mods and t != name and not name.startswith(t + ".")}
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            w = next(children, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_nablagrad_has_no_import_cycle():
    graph = import_graph(SRC)
    assert len(graph) > 50 and "nablagrad.autodiff.tensor" in graph
    found = cycles(graph)
    detail = [{m: sorted(graph[m] & set(c)) for m in c} for c in found]
    assert not found, f"import cycles (module: the modules of its cycle it imports): {detail}"


def test_the_engine_layers_import_downwards():
    """tensor.py imports neither the ops nor the tape walk; the ops and the walk import the tensor."""
    graph = import_graph(SRC)
    ad = "nablagrad.autodiff."
    assert not graph[ad + "tensor"] & {ad + "ops", ad + "api", ad + "backward"}
    assert ad + "tensor" in graph[ad + "ops"] and ad + "tensor" in graph[ad + "backward"]


def test_every_module_imports():
    graph = import_graph(SRC)
    optional = ("nablagrad.playground", "nablagrad.viz")  # extras; their own tests import them
    for name in sorted(graph):
        if not name.startswith(optional) and not name.endswith("__main__"):
            importlib.import_module(name)


AB, AC = ["pkg.a", "pkg.b"], ["pkg.a", "pkg.sub.c"]


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"a.py": "from . import b\n", "b.py": "def f():\n    from .a import g\n"}, [AB]),
        ({"__init__.py": "from .a import x\n", "a.py": "from .b import y\n", "b.py": "from pkg import a\n"}, [AB]),
        ({"sub/__init__.py": "from .c import z\n", "sub/c.py": "from .. import a\n", "a.py": "from .sub import c\n"}, [AC]),
        ({"__init__.py": "from . import a, b\n", "a.py": "from . import b\n", "b.py": "import os\n"}, []),
    ],
)
def test_the_checker_finds_a_planted_cycle(tmp_path, files, expected):
    """The checker itself: a cycle planted in a throwaway package (also through a lazy import or a
    sub-package) is found; an acyclic package passes."""
    for rel, text in {"__init__.py": "", **files}.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert cycles(import_graph(tmp_path / "pkg")) == expected


# DESIGN.md's layer table, top to bottom; a row imports only rows above it (cli and playground share one row)
LAYERS = [["backend"], ["autodiff"], ["scratch"], ["nn"], ["optim"], ["data"], ["io"], ["distributed"], ["train"],
          ["ml"], ["viz"], ["cli", "playground"]]  # fmt: skip
RANK = {package: i for i, row in enumerate(LAYERS) for package in row}


def _package(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def test_each_layer_imports_only_the_layers_above_it():
    graph = import_graph(SRC)
    assert {_package(m) for m in graph} - {""} - {"__main__"} == set(RANK), "a package missing from LAYERS"
    upward = [(m, d) for m, deps in graph.items() for d in deps
              if _package(m) in RANK and _package(d) in RANK and RANK[_package(d)] > RANK[_package(m)]]  # fmt: skip
    assert not upward, f"imports of a lower layer (module -> module): {sorted(upward)}"
    scratch = [(m, d) for m, deps in graph.items() for d in deps
               if _package(m) == "scratch" and _package(d) not in ("scratch", "")]  # fmt: skip
    assert not scratch, f"nablagrad.scratch is NumPy only: {scratch}"


def test_no_private_name_is_imported_from_another_package():
    """``from ..autodiff.tensor import _wrap`` in nn couples nn to autodiff's insides: use the public name."""
    mods = modules(SRC)
    crossing = []
    for name, (path, package) in mods.items():
        here = name if package else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = node.module or ""
            if node.level:
                base = ".".join(here.split(".")[: len(here.split(".")) - node.level + 1] + ([node.module] if node.module else []))
            private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
            if base.startswith("nablagrad.") and _package(base) != _package(name) and private:
                crossing.append(f"{name}: from {base} import {', '.join(private)}")
    assert not crossing, crossing


def test_the_top_level_exports_no_engine_module():
    """``ng.rules_math`` or ``ng.mode`` would be internals leaking into the public namespace
    (a star import brings submodules along); only ``ng.linalg`` is a public module there."""
    import types

    exported = {name for name in nablagrad.__all__ if isinstance(getattr(nablagrad, name), types.ModuleType)}
    assert exported == {"autodiff", "backend", "linalg"}
    assert not hasattr(nablagrad, "rules_math") and not isinstance(getattr(nablagrad, "mode", None), types.ModuleType)
