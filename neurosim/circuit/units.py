"""SPICE numbers: engineering suffixes in, shortest exact text out."""

from __future__ import annotations

import re
from decimal import Decimal

# Longest suffixes first so "meg" wins over "m" and "mil" over "m". ngspice 39 reads
# "a" as a unit letter (1a = 1), not atto, and so does neurosim.
_SUFFIXES: tuple[tuple[str, Decimal], ...] = (
    ("meg", Decimal("1e6")),
    ("mil", Decimal("25.4e-6")),
    ("t", Decimal("1e12")),
    ("g", Decimal("1e9")),
    ("k", Decimal("1e3")),
    ("m", Decimal("1e-3")),
    ("u", Decimal("1e-6")),
    ("\u00b5", Decimal("1e-6")),  # the micro sign, as ngspice 39 reads it
    ("\u03bc", Decimal("1e-6")),  # Greek mu (what the micro sign lower-cases to)
    ("n", Decimal("1e-9")),
    ("p", Decimal("1e-12")),
    ("f", Decimal("1e-15")),
)
_NUMBER = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)([a-z\u00b5\u03bc]*)$", re.IGNORECASE
)

KELVIN = 273.15  # 0 °C in K
TNOM_CELSIUS = 27.0  # ngspice's default circuit and nominal temperature [°C]


def temperature_factor(tc1: float, tc2: float, delta: float, tce: float | None = None) -> float:
    """SPICE's temperature coefficients: a value times 1 + tc1·ΔT + tc2·ΔT² at ΔT [K]
    from the nominal temperature (resistors, B sources, a diode's rs), or times
    1.01^(tce·ΔT) where a resistor gives ngspice's exponential ``tce`` (it overrides)."""
    if tce is not None:
        return 1.01 ** (tce * delta)
    return 1.0 + tc1 * delta + tc2 * delta * delta


def parse_number(text: str) -> float:
    """Parse a SPICE number such as ``10k``, ``1.5meg``, ``10kOhm``, ``2.2uF``, ``1e-3``.

    Letters after the scale suffix are units and are ignored, as SPICE does. Scaling is
    decimal, so ``10u`` is exactly the float nearest 1e-5. Raises ``ValueError`` when
    ``text`` is not a number.
    """
    match = _NUMBER.match(text.strip())
    if match is None:
        raise ValueError(f"not a number: {text!r}")
    mantissa, tail = match.groups()
    tail = tail.lower()
    for suffix, scale in _SUFFIXES:
        if tail.startswith(suffix):
            return float(Decimal(mantissa) * scale)
    return float(mantissa)


def is_number(text: str) -> bool:
    """True when ``text`` parses with :func:`parse_number`."""
    return _NUMBER.match(text.strip()) is not None


def format_number(value: float) -> str:
    """Shortest text that reads back to exactly ``value`` (``repr`` of the float)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"SPICE has no literal for {value}")
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text
