"""Settings objects validated at construction: each field carries its own check.

A settings class is a frozen dataclass deriving from :class:`Validated` whose fields are
made with :func:`setting` (default, check, the words for the valid range, help text).
Constructing one with a value outside a field's range raises :class:`SettingsError`
naming the class, the field, the range and the value; so does any NaN or inf where a
finite number is required. The CLI shows the same defaults and help.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from neurosim.errors import NeurosimError


class SettingsError(NeurosimError, ValueError):
    """A settings field outside its valid range: ``field`` names it, ``reason`` says
    what it must be (the message: ``Class.field reason``)."""

    def __init__(self, field_name: str, reason: str, owner: str = "") -> None:
        super().__init__(f"{owner}.{field_name} {reason}" if owner else reason)
        self.field, self.reason = field_name, reason


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def positive(value: Any) -> bool:
    return _number(value) and math.isfinite(value) and value > 0


def non_negative(value: Any) -> bool:
    return _number(value) and math.isfinite(value) and value >= 0


def unit_interval(value: Any) -> bool:
    """In [0, 1)."""
    return _number(value) and 0 <= value < 1


def open_unit_interval(value: Any) -> bool:
    """In (0, 1)."""
    return _number(value) and 0 < value < 1


def at_least(low: int):
    return lambda value: _whole(value) and value >= low


def one_of(*choices: str):
    return lambda value: value in choices


def setting(default: Any, valid, description: str, help: str):
    """A dataclass field with its check, the words for its valid range and its help."""
    return field(default=default, metadata={"valid": valid, "range": description, "help": help})


@dataclass(frozen=True, kw_only=True)
class Validated:
    """Base of settings dataclasses: every :func:`setting` field is checked on creation."""

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not item.metadata["valid"](value):
                raise SettingsError(
                    item.name,
                    f"must be {item.metadata['range']}, not {value!r}",
                    type(self).__name__,
                )
