"""The playground tests' shared fixture: a test client of a fresh app (a module may define its own)."""

import pytest


@pytest.fixture
def client():
    """A ``TestClient`` of a fresh app; a server error is answered as the server answers it (no re-raise)."""
    testclient = pytest.importorskip("starlette.testclient", reason="the playground extra is not installed")
    from nablagrad.playground.server import create_app  # noqa: PLC0415 - the playground extra, checked above

    with testclient.TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c
