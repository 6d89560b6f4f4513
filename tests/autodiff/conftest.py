"""The autodiff suite runs on every array namespace (``array_namespace`` in tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _on_each_array_namespace(array_namespace):
    yield array_namespace
