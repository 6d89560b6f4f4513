"""docs/ops.md's op table is the rule table: regenerating it changes nothing."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("ops_doc", ROOT / "scripts" / "ops_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ops_page_table_is_generated_from_the_rule_table():
    script = _script()
    page = (ROOT / "docs" / "ops.md").read_text()
    assert script.render(page) == page, "docs/ops.md is out of date: run python scripts/ops_doc.py"


def test_every_row_and_linalg_function_is_on_the_page():
    import nablagrad as ng
    from nablagrad.autodiff.primitive import TABLE

    page = (ROOT / "docs" / "ops.md").read_text()
    for name in TABLE:
        assert f"`ng.{name}`" in page or f"`{name}`" in page, name
    for name in ng.linalg.__all__:
        if name[0].islower():
            assert f"`ng.linalg.{name}`" in page, name
