"""``is_int`` / ``is_real``: the one rule every layer's argument checks use — a bool is never a number."""

import fractions

import numpy as np
import pytest

from nablagrad.backend.checks import is_int, is_real


@pytest.mark.parametrize(
    "value, integer, real",
    [
        (3, True, True),
        (np.int64(3), True, True),
        (np.uint8(3), True, True),
        (3.0, False, True),
        (np.float32(0.5), False, True),
        (float("nan"), False, True),  # a real number; finiteness is each check's own question
        (fractions.Fraction(1, 2), False, True),
        (True, False, False),
        (np.bool_(False), False, False),
        ("3", False, False),
        (None, False, False),
        (np.array(3), False, False),  # a 0-d array is an array, not a number
        (1 + 0j, False, False),
    ],
)
def test_bools_strings_and_arrays_are_not_numbers(value, integer, real):
    assert is_int(value) is integer
    assert is_real(value) is real


def test_a_bool_is_refused_where_a_number_is_asked_for_in_every_layer():
    """The rule reaches the layers that use it: data, nn and optim refuse ``True`` as a number."""
    import nablagrad as ng

    with pytest.raises(TypeError, match="n must be an integer"):
        ng.data.make_moons(n=True)
    with pytest.raises(TypeError, match="Dropout: p must be a probability"):
        ng.nn.Dropout(p=True)
    with pytest.raises(TypeError, match="lr must be a finite number"):
        ng.optim.SGD([ng.tensor(np.ones(2), requires_grad=True)], lr=True)
