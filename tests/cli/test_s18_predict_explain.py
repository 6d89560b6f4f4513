"""Two leftovers of the command line.

``nablagrad predict`` on a 16-bit grayscale picture (Pillow's modes ``I;16`` and ``I``): Pillow's
``convert("L")`` clips every level above 255 to white, so a true 16-bit digit was read as a white
square; it is now rescaled (v / 65535) and predicted as its 8-bit version — checked against NumPy
computing the model's softmax on the 8-bit picture / 255.

``nablagrad explain "x1**x1" --at x1=-2`` printed ∂y/∂x1 = nan with no word: the value
(−2)^(−2) = 0.25 is real (whole exponent) but x ** p has no real derivative in p at a negative base;
a one-line note now says so, as it does for a value outside an operation's domain."""

import math
import re

import numpy as np
import pytest

import nablagrad as ng
from nablagrad.cli.main import main

Image = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """A linear digit classifier whose weights are centred class-mean pictures of MNIST, saved as
    the CLI reads it, with its weights for the NumPy oracle."""
    X, y, Xt, yt = ng.data.load_mnist(flatten=True)
    X = X[:3000].astype(np.float64) / 255
    means = np.stack([X[y[:3000] == k].mean(0) for k in range(10)], axis=1)  # (784, 10)
    W = (means - means.mean(1, keepdims=True)) * 0.5
    model = ng.nn.Sequential(ng.nn.Linear(784, 10))
    with ng.no_grad():
        model[0].weight.copy_(ng.tensor(W.astype(np.float32)))
        model[0].bias.copy_(ng.tensor(np.zeros(10, np.float32)))
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    ng.io.save(model, path)
    return path, model[0].weight.numpy().astype(np.float64), Xt[:6].reshape(-1, 28, 28), yt[:6]


def _predict(capsys, model_path, image_path) -> tuple[int, np.ndarray]:
    assert main(["predict", str(model_path), str(image_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    best = int(re.search(r": class (\d+) ", out[0]).group(1))
    return best, np.array([float(line.split(":")[1]) for line in out[1:11]])


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


@pytest.mark.parametrize("i", range(6))
def test_a_16_bit_digit_is_predicted_as_its_8_bit_version(capsys, tmp_path, templates, i):
    path, W, digits, _ = templates
    img = digits[i]
    Image.fromarray(img).save(tmp_path / "d8.png")
    Image.fromarray(img.astype(np.uint16) * 257).save(tmp_path / "d16.png")  # the issue's repro: full 16-bit scale
    assert Image.open(tmp_path / "d16.png").mode == "I;16"
    expected = _softmax(img.reshape(-1).astype(np.float64) / 255 @ W)  # the oracle: NumPy on the 8-bit levels
    for name in ("d8.png", "d16.png"):
        best, probs = _predict(capsys, path, tmp_path / name)
        np.testing.assert_allclose(probs, expected, atol=6e-5)  # printed with 4 decimals
        assert best == int(expected.argmax())


def test_a_32_bit_integer_picture_holding_16_bit_levels_reads_the_same(capsys, tmp_path, templates):
    path, W, digits, _ = templates
    img = digits[0]
    Image.fromarray(img.astype(np.int32) * 257).save(tmp_path / "d.tif")
    assert Image.open(tmp_path / "d.tif").mode == "I"
    best, probs = _predict(capsys, path, tmp_path / "d.tif")
    np.testing.assert_allclose(probs, _softmax(img.reshape(-1) / 255 @ W), atol=6e-5)


def test_a_resized_dark_on_light_16_bit_digit_reads_as_its_8_bit_version(tmp_path, templates):
    from nablagrad.cli.train_cmd import read_digit_image

    img = 255 - np.kron(templates[2][1], np.ones((2, 2), np.uint8))  # 56×56, dark digit on white paper
    Image.fromarray(img).save(tmp_path / "d8.png")
    Image.fromarray(img.astype(np.uint16) * 257).save(tmp_path / "d16.png")
    (a8, note8), (a16, note16) = read_digit_image(tmp_path / "d8.png"), read_digit_image(tmp_path / "d16.png")
    assert note8 == note16 == " (resized from 56×56 to 28×28)"
    assert a16.dtype == np.float32 and a16.shape == (1, 784) and 0 <= a16.min() and a16.max() <= 1
    np.testing.assert_allclose(a16, a8, atol=1.5 / 255)  # the 8-bit path rounds the resized levels to 1/255
    assert np.abs(a16 - a8).mean() < 0.5 / 255
    assert a16.mean() < 0.5  # inverted to MNIST's white digit on black, as the 8-bit picture


def _explain(capsys, expression, *at):
    assert main(["explain", expression, "--at", *at]) == 0
    out, err = capsys.readouterr()
    return out, [line for line in err.splitlines() if line.strip()]


def test_the_issue_example_x_to_the_x_at_minus_2(capsys):
    out, err = _explain(capsys, "x1**x1", "x1=-2")
    assert f"y = {(-2.0) ** -2:g}" in out and "∂y/∂x1 = nan" in out  # the value is real: a whole exponent
    assert len(err) == 1, err
    assert err[0].startswith("nablagrad explain: note: at x1=-2, ∂y/∂x1 = nan is not a real number:")
    assert "x1 ** x1 = (-2) ** (-2)" in err[0] and "no real derivative in the exponent" in err[0]


def test_between_whole_numbers_the_value_itself_is_the_note(capsys):
    out, err = _explain(capsys, "x1**x1", "x1=-2.5")
    assert "y = nan" in out and len(err) == 1
    assert "x1 ** x1 = nan: a negative base needs a whole exponent" in err[0]  # one note, about the value


@pytest.mark.parametrize("expression, at, grad, why", [
    ("x1 ** x2", ["x1=-2", "x2=2"], {"x1": -4.0, "x2": math.nan}, "no real derivative in the exponent"),
    ("(-3) ** x1", ["x1=3"], {"x1": math.nan}, "no real derivative in the exponent"),
    ("x1 ** 0.5", ["x1=0"], {"x1": math.inf}, "0 ** 0.5 has an infinite slope at 0"),
    ("sqrt(x1 * x1)", ["x1=0"], {"x1": math.nan}, "sqrt(x1 * x1) has an infinite slope where its argument is 0"),
])  # fmt: skip
def test_a_finite_value_with_a_derivative_that_is_not_real_gets_one_note(capsys, expression, at, grad, why):
    out, err = _explain(capsys, expression, *at)
    shown = ", ".join(f"∂y/∂{k} = {v:g}" for k, v in grad.items())
    assert f";  {shown}" in out  # the table's gradient, as the formula gives it (nan/inf where it is not real)
    bad = ", ".join(f"∂y/∂{k} = {v:g}" for k, v in grad.items() if not math.isfinite(v))
    assert len(err) == 1 and f", {bad} is not a real number: " in err[0] and why in err[0], err


@pytest.mark.parametrize("expression, at", [("0 ** x1", ["x1=2"]), ("x1 ** 2", ["x1=-2"]), ("sqrt(x1) + sqrt(0)", ["x1=1"]),
                                            ("x1 ** 1.5", ["x1=0"]), ("abs(x1)", ["x1=0"])])  # fmt: skip
def test_finite_derivatives_get_no_note(capsys, expression, at):
    out, err = _explain(capsys, expression, *at)
    assert err == [] and "nan" not in out and "inf" not in out
