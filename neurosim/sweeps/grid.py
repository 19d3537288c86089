"""A sweep's grid: axes of values, their product, repeats, and each repeat's seed.

An axis is a setting name and its values, written ``KEY=SPEC``: a list ``4,6,8``
(numbers, ``true``/``false`` or words), a range ``START:STOP:N`` (N evenly spaced
values, both ends included) or a log-range ``log:START:STOP:N`` (N values evenly
spaced in log10). The grid is the product of the axes, first axis slowest; each point
runs ``repeats`` times, repeat r of point p with a seed drawn from
``SeedSequence([base, p, r])`` — a function of the base seed, the point and the repeat
only, so the worker, the order and a resume change nothing.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from neurosim.errors import NeurosimError

Value = float | int | bool | str


@dataclass(frozen=True)
class Axis:
    """One swept setting: its ``key`` and ``values``."""

    key: str
    values: tuple[Value, ...]


def parse_axis(text: str) -> Axis:
    """``KEY=SPEC`` as an :class:`Axis` (module docstring); a one-line error otherwise."""
    key, sep, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise NeurosimError(
            f"--vary expects KEY=SPEC (a list 4,6,8 or a range 0:1:5), not {text!r}"
        )
    return Axis(key, parse_spec(spec, key))


def parse_spec(spec: str, key: str = "value") -> tuple[Value, ...]:
    """The values a SPEC names (module docstring)."""
    if spec.startswith("log:") or (":" in spec and "," not in spec):
        logarithmic = spec.startswith("log:")
        parts = spec.removeprefix("log:").split(":")
        try:
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
        except (ValueError, IndexError):
            count = -1
        if len(parts) != 3 or count < 1 or not (math.isfinite(start) and math.isfinite(stop)):
            raise NeurosimError(
                f"{key}: a range is START:STOP:N (N >= 1 points) or log:START:STOP:N, not {spec!r}"
            )
        if logarithmic:
            if start <= 0 or stop <= 0:
                raise NeurosimError(f"{key}: a log-range needs START and STOP > 0, not {spec!r}")
            values = np.logspace(math.log10(start), math.log10(stop), count)
            values[0], values[-1] = start, stop  # the ends exactly as written
            return tuple(float(v) for v in values)
        return tuple(float(v) for v in np.linspace(start, stop, count))
    values = tuple(parse_value(item.strip()) for item in spec.split(","))
    if any(v == "" for v in values):
        raise NeurosimError(f"{key}: an empty value in {spec!r}")
    return values


def parse_value(text: str) -> Value:
    """A value written as text: a whole number, a number, a truth value or the word
    itself."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def points(axes: tuple[Axis, ...]) -> list[dict[str, Value]]:
    """Every point of the grid (key -> value), first axis slowest; one empty point
    when there are no axes."""
    keys = [axis.key for axis in axes]
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(a.values for a in axes))
    ]


def seed_of(base: int, point: int, repeat: int) -> int:
    """The seed of repeat ``repeat`` of point ``point`` (a whole number < 2^63)."""
    state = np.random.SeedSequence([base, point, repeat]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) | (int(state[1]) >> 1)
