"""Issue 6's activation menu: ``linear`` is accepted (stored as ``identity``, the identity map), the
one-for-all shorthand is documented, other length mismatches are refused naming both lengths, and
the page's ``activation`` select sets every hidden layer."""

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed: pip install 'nablagrad[playground]'")
from starlette.testclient import TestClient  # noqa: E402

import nablagrad as ng  # noqa: E402
from nablagrad.playground import FIELDS, ConfigError, Session, parse_config, schema  # noqa: E402
from nablagrad.playground.server import create_app  # noqa: E402

MENU = ["relu", "tanh", "sigmoid", "linear", "leaky_relu"]  # issue 6, verbatim


@pytest.fixture
def client():
    with TestClient(create_app()) as c:
        yield c


def test_every_menu_entry_is_accepted_by_the_api(client):
    assert list(schema()["activation_menu"]) == MENU
    for name in MENU:
        r = client.post("/api/validate", json={"layers": [3, 2], "activations": [name, name]})
        assert r.status_code == 200, r.text
        stored = r.json()["config"]["activations"]
        assert stored == ["identity" if name == "linear" else name] * 2


def test_linear_from_the_url_is_the_identity_map():
    cfg = parse_config({"layers": "3,2", "activations": "linear,linear"})  # the URL's form
    assert cfg.activations == ["identity", "identity"]
    s = Session(cfg)
    x = ng.tensor(np.linspace(-3, 3, 12).reshape(6, 2))
    linear = [m for m in s.model.modules() if isinstance(m, ng.nn.Identity)]
    assert len(linear) >= 2
    assert np.array_equal(linear[0](x).numpy(), x.numpy())  # linear(x) = x


def test_one_activation_is_the_documented_shorthand_for_every_layer():
    assert "single one for every layer" in {f.name: f for f in FIELDS}["activations"].help
    assert parse_config({"layers": [4, 2], "activations": ["tanh"]}).activations == ["tanh", "tanh"]
    assert parse_config({"layers": [4, 2, 3], "activations": "linear"}).activations == ["identity"] * 3


@pytest.mark.parametrize("layers, acts", [([4, 2], ["tanh", "relu", "tanh"]), ([4, 2, 3], ["tanh", "relu"]), ([4], [])])
def test_other_lengths_are_refused_naming_both(client, layers, acts):
    r = client.post("/api/validate", json={"layers": layers, "activations": acts})
    assert r.status_code == 422
    assert f"activations has {len(acts)} entries for {len(layers)} hidden layers" in r.json()["error"]
    with pytest.raises(ConfigError, match=f"{len(acts)} entries for {len(layers)} hidden layers"):
        parse_config({"layers": layers, "activations": acts})


def test_an_unknown_activation_names_the_alias_in_its_message():
    with pytest.raises(ConfigError, match=r"activations\[0\] must be one of .*linear = identity.*got 'swish'"):
        parse_config({"activations": ["swish", "tanh"]})
