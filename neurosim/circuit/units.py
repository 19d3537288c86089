"""SPICE numbers: engineering suffixes in, shortest exact text out."""

from __future__ import annotations

import re

# Longest suffixes first so "meg" wins over "m" and "mil" over "m".
_SUFFIXES: tuple[tuple[str, float], ...] = (
    ("meg", 1e6),
    ("mil", 25.4e-6),
    ("t", 1e12),
    ("g", 1e9),
    ("k", 1e3),
    ("m", 1e-3),
    ("u", 1e-6),
    ("n", 1e-9),
    ("p", 1e-12),
    ("f", 1e-15),
    ("a", 1e-18),
)
_NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([a-z]*)$", re.IGNORECASE)


def parse_number(text: str) -> float:
    """Parse a SPICE number such as ``10k``, ``1.5meg``, ``10kOhm``, ``2.2uF``, ``1e-3``.

    Letters after the scale suffix are units and are ignored, as SPICE does.
    Raises ``ValueError`` when ``text`` is not a number.
    """
    match = _NUMBER.match(text.strip())
    if match is None:
        raise ValueError(f"not a number: {text!r}")
    mantissa, tail = match.groups()
    value = float(mantissa)
    tail = tail.lower()
    for suffix, scale in _SUFFIXES:
        if tail.startswith(suffix):
            return value * scale
    return value


def is_number(text: str) -> bool:
    """True when ``text`` parses with :func:`parse_number`."""
    return _NUMBER.match(text.strip()) is not None


def format_number(value: float) -> str:
    """Shortest text that reads back to exactly ``value`` (``repr`` of the float)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"SPICE has no literal for {value}")
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
