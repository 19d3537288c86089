"""Device models by name, built from ``KEY=VALUE`` settings (the CLI's ``--set``)."""

from __future__ import annotations

import math
from dataclasses import fields

from neurosim.devices import NAMES
from neurosim.devices.amplifiers import Amplifiers
from neurosim.devices.generic import Generic
from neurosim.devices.ideal import Ideal
from neurosim.devices.pcm import PCMLike
from neurosim.devices.periphery import Drive, Readout
from neurosim.devices.pulsed import ConstantStep, ReRamES, ReRamSB, SoftBounds
from neurosim.validation import SettingsError

PRESETS = {
    model.name: model
    for model in (Ideal, PCMLike, Generic, ConstantStep, SoftBounds, ReRamSB, ReRamES)
}
assert tuple(PRESETS) == NAMES


def device_model(name: str, settings: dict[str, object] | None = None):
    """The model ``name`` (one of :data:`neurosim.devices.NAMES`) with ``settings``
    (field -> value; strings are converted to the field's type); one-line
    :class:`SettingsError` naming an unknown preset or key or a value out of range."""
    if name not in PRESETS:
        raise SettingsError("device", f"unknown device {name!r} (one of {', '.join(PRESETS)})")
    return _built(PRESETS[name], f"device {name!r}", settings)


def amplifiers(settings: dict[str, object] | None = None) -> Amplifiers:
    """The chip's amplifiers (:class:`Amplifiers`) with ``settings``, as
    :func:`device_model` builds a device model."""
    return _built(Amplifiers, "amplifiers", settings)


CONVERTER_SETTINGS = ("adc_bits", "adc_range", "read_noise", "dac_bits", "dac_range")
TRUTH_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def converters(settings: dict[str, object] | None = None):
    """The host's readout path and input DAC (:mod:`neurosim.devices.periphery`) from
    converter settings ``adc_bits``, ``adc_range``, ``read_noise``, ``dac_bits``,
    ``dac_range`` (strings converted; bad ones a one-line :class:`SettingsError`), each
    None where ideal."""
    values = dict(settings or {})
    unknown = set(values) - set(CONVERTER_SETTINGS)
    if unknown:
        raise SettingsError(min(unknown), f"{min(unknown)} is not a converter setting")
    if "read_noise" in values:
        values["out_noise"] = values.pop("read_noise")
    adc = {k: v for k, v in values.items() if k in ("adc_bits", "adc_range", "out_noise")}
    dac = {k: v for k, v in values.items() if k in ("dac_bits", "dac_range")}
    readout, drive = _built(Readout, "readout", adc), _built(Drive, "DAC", dac)
    return (None if readout == Readout() else readout), (None if drive == Drive() else drive)


def _built(cls, label: str, settings: dict[str, object] | None):
    known = {item.name: item for item in fields(cls)}
    values = {}
    for key, value in (settings or {}).items():
        if key not in known:
            names = ", ".join(known) or "none"
            raise SettingsError(key, f"{key} is not a setting of {label} (its settings: {names})")
        values[key] = _convert(value, known[key].default) if isinstance(value, str) else value
    try:
        return cls(**values)
    except SettingsError as exc:
        raise SettingsError(exc.field, f"{label}: {exc.field} {exc.reason}") from None


def parse_settings(pairs: tuple[str, ...]) -> dict[str, str]:
    """``("KEY=VALUE", ...)`` as a dict; a pair without ``=`` is one-line error."""
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise SettingsError("set", f"expects KEY=VALUE, not {pair!r}")
        settings[key.strip()] = value.strip()
    return settings


def model_record(model) -> dict:
    """The model's name and settings, JSON-ready (inf as the string "inf")."""
    values = {item.name: getattr(model, item.name) for item in fields(model)}
    values = {
        k: ("inf" if isinstance(v, float) and math.isinf(v) else v) for k, v in values.items()
    }
    return {"device": model.name, "settings": values}


def _convert(text: str, default):
    """``text`` as a number where the field's default is one (a whole number where it is
    an int); left as text when it is not a number, for the field's check to name."""
    if isinstance(default, str):
        return text
    if isinstance(default, bool):
        return TRUTH_WORDS.get(text.strip().lower(), text)
    try:
        whole = isinstance(default, int) and text.strip().lstrip("+-").isdigit()
        return int(text) if whole else float(text)
    except ValueError:
        return text
