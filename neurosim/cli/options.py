"""Click options made from settings fields: one default and one help text, the field's.

A flag defaults to None (not given); :func:`build_settings` leaves what was not given
to the settings class, whose defaults ``--help`` shows, and turns a value outside a
field's range into one line naming the flag.
"""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import click

from neurosim.errors import NeurosimError
from neurosim.validation import SettingsError


def _field(cls, name: str):
    return next((item for item in fields(cls) if item.name == name), None)


def _name(cls) -> str:
    return getattr(cls, "objective", "") or getattr(cls, "sampler", "")


def flag(name: str) -> str:
    """The command-line flag of settings field ``name``."""
    return "--" + name.replace("_", "-")


def netlist_out_option(what: str = "Netlist file"):
    """The ``-o/--out`` option of a command that writes one netlist (atomically)."""
    return click.option(
        "-o",
        "--out",
        "out",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"{what} to write (atomically; valid ngspice).",
    )


def settings_option(classes: tuple[type, ...], name: str, *decls: str, scope: str = "", **kwargs):
    """A Click option for field ``name`` of the settings ``classes``: its help (after
    ``scope: `` if given), and its default per class (``[default: 2000 flow, 30
    classify]`` where they differ)."""
    found = [(cls, _field(cls, name)) for cls in classes if _field(cls, name) is not None]
    defaults = {_name(cls): item.default for cls, item in found}
    help_text = found[0][1].metadata["help"]
    if scope:
        help_text = f"{scope}: {help_text}"
    shown = {value for value in defaults.values()}
    if len(shown) == 1:
        value = shown.pop()
        if value not in (None, False, ()):
            help_text += f"  [default: {value}]"
    else:
        help_text += "  [default: " + ", ".join(f"{v} {k}" for k, v in defaults.items()) + "]"
    return click.option(*(decls or (flag(name),)), name, default=None, help=help_text, **kwargs)


def build_chosen(registry: dict[str, type], chosen: str, choice_flag: str, given: dict):
    """``build_settings`` of ``registry[chosen]``, after refusing (one line) a given
    option that is a field of other entries only: ``--dt is an option of --sampler
    euler``."""
    ours = {item.name for item in fields(registry[chosen])}
    for name, value in sorted(given.items()):
        if value not in (None, ()) and name not in ours:
            others = [n for n, cls in registry.items() if _field(cls, name) is not None]
            raise NeurosimError(f"{flag(name)} is an option of {choice_flag} {' or '.join(others)}")
    return build_settings(registry[chosen], given)


def build_settings(cls, given: dict):
    """``cls`` with the options in ``given`` that were given (not None) and belong to it;
    a value out of range is one :class:`NeurosimError` line naming its flag."""
    names = {item.name for item in fields(cls)}
    values = {k: v for k, v in given.items() if v is not None and k in names}
    try:
        return cls(**values)
    except SettingsError as exc:
        raise NeurosimError(f"{flag(exc.field)}: {exc.reason}") from None


class FiniteFloat(click.ParamType):
    """A finite float above ``low`` (NaN and inf refused in Click's one-line form)."""

    name = "float"

    def __init__(self, low: float = 0.0) -> None:
        self.low = low

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not (math.isfinite(number) and number > self.low):
            self.fail(f"{value!r} is not a finite number > {self.low:g}", param, ctx)
        return number


FINITE_POSITIVE = FiniteFloat(0.0)
SEED = click.IntRange(0)


def nulls_for_non_finite(value):
    """``value`` (parsed JSON) with every NaN or infinite number replaced by None, so
    that the output is strict JSON."""
    if isinstance(value, dict):
        return {key: nulls_for_non_finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [nulls_for_non_finite(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
