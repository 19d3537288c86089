import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neurosim.circuit.units import format_number, is_number, parse_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10", 10.0),
        ("10k", 1e4),
        ("10K", 1e4),
        ("1.5meg", 1.5e6),
        ("1.5MEG", 1.5e6),
        ("10kOhm", 1e4),
        ("2.2uF", 2.2e-6),
        ("1e-3", 1e-3),
        ("3m", 3e-3),
        ("4n", 4e-9),
        ("5p", 5e-12),
        ("6f", 6e-15),
        ("7g", 7e9),
        ("8t", 8e12),
        ("-2.5", -2.5),
        (".5", 0.5),
        ("5V", 5.0),
        ("1mil", 25.4e-6),
        ("1e3k", 1e6),
    ],
)
def test_parse_number_suffixes(text, value):
    assert parse_number(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("text", ["", "k", "1.2.3", "abc", "--1", "1..", "e5"])
def test_parse_number_rejects(text):
    assert not is_number(text)
    with pytest.raises(ValueError):
        parse_number(text)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_number_round_trips_exactly(value):
    assert parse_number(format_number(value)) == value


def test_format_number_rejects_non_finite():
    with pytest.raises(ValueError):
        format_number(math.nan)
