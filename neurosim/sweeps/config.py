"""What a sweep is: the netlist, the devices, the axes, the repeats and what is measured.

Every key a sweep sets (fixed with ``set``, or swept with ``vary``) belongs to one
place, found by name: ``time`` (seconds after programming) and ``compensate`` (global
drift compensation); a setting of the device model; of the amplifiers
(:mod:`neurosim.devices.amplifiers`); of the host's converters (``adc_bits``,
``adc_range``, ``read_noise``, ``dac_bits``, ``dac_range``); and, in ``train`` mode,
of the training settings (``epochs``, ``lr``, ...). A key that is none of these is
refused when the sweep is made; a value out of range fails its point only (recorded,
the sweep goes on).
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from neurosim.devices.amplifiers import Amplifiers
from neurosim.devices.presets import CONVERTER_SETTINGS, PRESETS, parse_settings
from neurosim.errors import NeurosimError
from neurosim.sweeps.grid import Axis, Value, parse_axis, parse_spec, points

PROGRAMMING = ("time", "compensate")
METRICS = {
    "classify": ("accuracy", "loss", "unsettled"),
    "flow": ("frechet", "coverage", "confidence"),
}
FIXED_BY_SWEEP = (
    "device",
    "device_settings",
    "seed",
    *CONVERTER_SETTINGS,
)  # training keys a sweep owns


@dataclass(frozen=True)
class SweepConfig:
    """A sweep (module docstring). ``settings``: fixed KEY=VALUE pairs; ``axes``: the
    swept ones; ``train``: training settings for ``mode`` "train" (KEY=VALUE);
    ``split_seed``: inference mode's held-out split (the seed the netlist was trained
    with, so no point is scored on digits it learned)."""

    netlist: str
    device: str = "pcm"
    objective: str = "classify"
    mode: str = "inference"
    metric: str = ""
    axes: tuple[Axis, ...] = ()
    settings: tuple[str, ...] = ()
    train: tuple[str, ...] = ()
    repeats: int = 1
    seed: int = 0
    split_seed: int = 0

    def __post_init__(self) -> None:
        if self.device not in PRESETS:
            raise NeurosimError(f"unknown device {self.device!r} (one of {', '.join(PRESETS)})")
        if self.objective not in METRICS:
            raise NeurosimError(f"objective must be classify or flow, not {self.objective!r}")
        if self.mode not in ("inference", "train"):
            raise NeurosimError(f"mode must be inference or train, not {self.mode!r}")
        if self.mode == "inference" and self.device in _pulsed():
            raise NeurosimError(
                f"{self.device!r} is a pulsed-update device: sweep it with mode train"
            )
        if not self.metric:
            object.__setattr__(self, "metric", METRICS[self.objective][0])
        if self.metric not in METRICS[self.objective]:
            known = ", ".join(METRICS[self.objective])
            raise NeurosimError(
                f"metric {self.metric!r} is not one of {self.objective}'s ({known})"
            )
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int) or self.repeats < 1:
            raise NeurosimError(f"repeats must be a whole number >= 1, not {self.repeats!r}")
        for name in ("seed", "split_seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise NeurosimError(f"{name} must be a whole number >= 0, not {value!r}")
        keys = [a.key for a in self.axes]
        if len(set(keys)) != len(keys):
            raise NeurosimError("an axis is given twice")
        fixed = parse_settings(self.settings)
        for key in [*keys, *fixed]:
            self.place_of(key)
        for key in set(keys) & set(fixed):
            raise NeurosimError(f"{key} is both fixed (--set) and swept (--vary)")
        for key in parse_settings(self.train):
            if key not in self._training_keys():
                raise NeurosimError(f"{key} is not a training setting a sweep may set")

    def place_of(self, key: str) -> str:
        """Where ``key`` belongs: programming, device, amplifiers, converters or train."""
        if key in PROGRAMMING:
            return "programming"
        if key in {f.name for f in fields(PRESETS[self.device])}:
            return "device"
        if key in {f.name for f in fields(Amplifiers)}:
            return "amplifiers"
        if key in CONVERTER_SETTINGS:
            return "converters"
        if self.mode == "train" and key in self._training_keys():
            return "train"
        where = "the device, the amplifiers, the converters" + (
            " or training" if self.mode == "train" else ""
        )
        raise NeurosimError(
            f"{key} is not a setting of {where} (device {self.device!r}: "
            f"{', '.join(f.name for f in fields(PRESETS[self.device])) or 'none'}; "
            f"time, compensate)"
        )

    def points(self) -> list[dict[str, Value]]:
        """The grid's points (key -> value), first axis slowest."""
        return points(self.axes)

    def point_settings(self, point: dict[str, Value]) -> dict[str, dict[str, object]]:
        """The fixed settings and ``point``'s values, by place (:meth:`place_of`)."""
        placed: dict[str, dict[str, object]] = {
            "programming": {},
            "device": {},
            "amplifiers": {},
            "converters": {},
            "train": {},
        }
        for key, value in {**parse_settings(self.settings), **point}.items():
            placed[self.place_of(key)][key] = value
        placed["train"].update(parse_settings(self.train))
        return placed

    def record(self) -> dict:
        """The sweep as JSON data (what a results file stores and a resume compares)."""
        data = asdict(self)
        data["axes"] = [{"key": a.key, "values": list(a.values)} for a in self.axes]
        data["settings"], data["train"] = list(self.settings), list(self.train)
        return data

    def _training_keys(self) -> set[str]:
        from neurosim.learn.settings import settings_class

        names = {f.name for f in fields(settings_class(self.objective))}
        return names - set(FIXED_BY_SWEEP)


def from_record(record: dict) -> SweepConfig:
    """A :class:`SweepConfig` from :meth:`SweepConfig.record`."""
    data = dict(record)
    data["axes"] = tuple(Axis(a["key"], tuple(a["values"])) for a in data.get("axes", ()))
    data["settings"] = tuple(data.get("settings", ()))
    data["train"] = tuple(data.get("train", ()))
    return SweepConfig(**data)


def from_toml(path: str | Path) -> SweepConfig:
    """A sweep from a TOML file::

    netlist = "netlists/digits_classify.cir"   # relative to the file
    device = "pcm"
    objective = "classify"     # or flow
    mode = "inference"         # or train
    metric = "accuracy"
    repeats = 10
    seed = 0
    [set]                      # fixed settings
    compensate = true
    [vary]                     # axes: a list, or a SPEC string ("0:1:5", "log:1:1e5:6")
    time = [1, 3600, 86400]
    [train]                    # mode train: the training settings
    epochs = 5
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise NeurosimError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise NeurosimError(f"{path}: not valid TOML: {exc}") from None
    known = {
        "split_seed",
        "netlist",
        "device",
        "objective",
        "mode",
        "metric",
        "repeats",
        "seed",
        "set",
        "vary",
        "train",
    }
    for key in data:
        if key not in known:
            raise NeurosimError(f"{path}: unknown key {key!r} (known: {', '.join(sorted(known))})")
    if "netlist" not in data:
        raise NeurosimError(f"{path}: names no netlist")
    netlist = Path(data["netlist"])
    netlist = netlist if netlist.is_absolute() else path.parent / netlist
    axes = []
    for key, spec in data.get("vary", {}).items():
        values = parse_spec(spec, key) if isinstance(spec, str) else spec
        if not isinstance(values, list | tuple) or not values:
            raise NeurosimError(f"{path}: vary.{key} must be a list of values or a SPEC string")
        axes.append(Axis(key, tuple(values)))
    pairs = lambda table: tuple(f"{k}={_text(v)}" for k, v in data.get(table, {}).items())  # noqa: E731
    return SweepConfig(
        netlist=str(netlist),
        device=data.get("device", "pcm"),
        objective=data.get("objective", "classify"),
        mode=data.get("mode", "inference"),
        metric=data.get("metric", ""),
        axes=tuple(axes),
        settings=pairs("set"),
        train=pairs("train"),
        repeats=data.get("repeats", 1),
        seed=data.get("seed", 0),
        split_seed=data.get("split_seed", 0),
    )


def axes_from_options(vary: tuple[str, ...]) -> tuple[Axis, ...]:
    """``--vary KEY=SPEC`` options as axes."""
    return tuple(parse_axis(text) for text in vary)


def same_sweep(a: dict, b: dict) -> list[str]:
    """Names of the fields in which two sweep records differ."""
    return [k for k in sorted(a.keys() | b.keys()) if json.dumps(a.get(k)) != json.dumps(b.get(k))]


def _text(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _pulsed() -> tuple[str, ...]:
    from neurosim.devices import PULSED

    return PULSED
