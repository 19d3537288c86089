"""What a host sets on a crossbar, in model units, for a batch: inputs, targets, nudges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from neurosim.circuit.drive import Drive
from neurosim.lower.crossbar import Crossbar


@dataclass(frozen=True)
class Sources:
    """Source values for a batch of ``batch`` settings (model units).

    ``inputs`` (batch, input_width): clamped input units. ``targets`` (batch, free):
    spring targets x_t (ignored where a unit has no spring). ``nudge_targets`` (batch,
    free) and ``nudge`` (free,): nudge target and conductance per unit (0 = off).
    """

    inputs: np.ndarray
    targets: np.ndarray
    nudge_targets: np.ndarray
    nudge: np.ndarray

    @property
    def batch(self) -> int:
        """Number of settings."""
        return self.targets.shape[0]

    def rows(self, index: slice | np.ndarray) -> Sources:
        """The settings ``index`` (a slice or row indices) only; nudges are shared."""
        return Sources(
            self.inputs[index], self.targets[index], self.nudge_targets[index], self.nudge
        )


def default_sources(crossbar: Crossbar, batch: int = 1) -> Sources:
    """The netlist's own source values, repeated ``batch`` times."""
    d = crossbar.defaults
    return Sources(
        inputs=np.tile(d["inputs"], (batch, 1)),
        targets=np.tile(d["targets"], (batch, 1)),
        nudge_targets=np.tile(d["nudge_targets"], (batch, 1)),
        nudge=d["nudge"].copy(),
    )


def sources_from_drive(crossbar: Crossbar, drive: Drive, batch: int | None = None) -> Sources:
    """Model-unit sources realising ``drive`` (layer name -> (batch, size) arrays).

    Layers ``drive`` does not name keep the netlist's values; ``nudge_strength`` applies
    to the layers in ``drive.nudge_targets``. Spring targets go to visible layers (they
    act only where the netlist has springs) and nudges only to layers with nudge
    elements; anything else raises ``ValueError``.
    """
    sizes = [np.atleast_2d(v).shape[0] for group in _groups(drive) for v in group.values()]
    n = batch or max(sizes, default=1)
    sources = default_sources(crossbar, n)
    free, inputs = crossbar.free_slices(), crossbar.input_slices()
    visible = {n for n in free if crossbar.meta.layer(n).kind == "visible"}
    nudges = (
        {n for n in free if crossbar.meta.layer(n).kind in ("visible", "output")}
        if crossbar.meta.nudge
        else set()
    )
    for values, where, array, allowed in (
        (drive.inputs, inputs, sources.inputs, set(inputs)),
        (drive.targets, free, sources.targets, visible),
        (drive.nudge_targets, free, sources.nudge_targets, nudges),
    ):
        for name, value in values.items():
            if name not in allowed:
                raise ValueError(f"layer {name!r} has no element for this source")
            array[:, where[name]] = _batch_array(value, n, where[name], name)
    for name in drive.nudge_targets:
        sources.nudge[free[name]] = drive.nudge_strength
    return sources


def sources_from_settings(crossbar: Crossbar, settings: Sequence[Mapping[str, float]]) -> Sources:
    """Sources from SI settings: element name -> value (input, spring target and nudge
    target sources in volts, nudge elements in siemens).

    The keys :func:`neurosim.network.compile.drive_settings` and ``check`` produce
    (``vin_*``, ``vt_*``, ``vnt_*``, ``gn_*`` for the compiler's names); an unknown key
    raises ``KeyError``. A nudge element must have the same value in every setting.
    """
    scaling = crossbar.meta.scaling
    vs, g_unit = scaling.volts_per_unit, scaling.g_unit
    sources = default_sources(crossbar, len(settings))
    layout = crossbar.require_layout()
    columns = {name: (sources.inputs, i, vs) for i, name in enumerate(layout.sources)}
    for array, part in (
        (sources.targets, "spring_source"),
        (sources.nudge_targets, "nudge_source"),
    ):
        for i, name in enumerate(layout.parts[part]):
            if name is not None:
                columns[name] = (array, i, vs)
    index = {name: i for i, name in enumerate(layout.parts["nudge"]) if name is not None}
    for n, setting in enumerate(settings):
        for key, value in setting.items():
            if key in index:
                if n > 0 and sources.nudge[index[key]] != value / g_unit:
                    raise ValueError(f"{key} differs between settings")
                sources.nudge[index[key]] = value / g_unit
            elif key in columns:
                array, i, scale = columns[key]
                array[n, i] = value / scale
            else:
                raise KeyError(f"{key} is not a source of this crossbar")
    return sources


def _groups(drive: Drive) -> tuple:
    return (drive.inputs, drive.targets, drive.nudge_targets)


def _batch_array(value, batch: int, where: slice, name: str) -> np.ndarray:
    array = np.atleast_2d(np.asarray(value, dtype=float))
    size = where.stop - where.start
    if array.shape[1] != size or array.shape[0] not in (1, batch):
        raise ValueError(f"layer {name!r}: shape {array.shape}, expected ({batch}, {size})")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"layer {name!r}: values hold NaN or inf")
    return array
