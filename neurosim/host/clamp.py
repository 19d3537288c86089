"""The chip with one free layer held by voltage sources (the energy readout's circuit).

Holding a layer's unit nodes at given voltages makes it a clamped input layer of the
crossbar: its row drivers still drive its arrays, and the current its own columns
collect goes into the clamp. The view is read-only and belongs to one device state:
programming the chip afterwards makes it stale, and it then refuses to settle.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from neurosim.host.view import DerivedView
from neurosim.lower.crossbar import Crossbar, Group


class ClampedChip(DerivedView):
    """``chip`` with free ``layer`` clamped (the clamp is an input layer of its sources);
    ``index`` (free,): where each of its free units sits in the chip's flat state."""

    kind = "clamped"

    def __init__(self, chip, crossbar: Crossbar, layer: str) -> None:
        self.chip, self.layer, self._version = chip, layer, chip.version
        self._crossbar, self.index = clamp_layer(crossbar, layer)


def clamp_layer(crossbar: Crossbar, layer: str) -> tuple[Crossbar, np.ndarray]:
    """``crossbar`` with the free ``layer``'s nodes held by voltage sources.

    The layer becomes a clamped input layer (its row drivers still drive its forward
    arrays; the current its own columns collect goes into the clamp). Returns the new
    crossbar (no element layout: it cannot :meth:`Crossbar.refresh`) and ``index``
    (free,): where each of its free units sits in ``crossbar``'s flat state.
    """
    meta = crossbar.meta
    if layer not in crossbar.free_slices():
        raise ValueError(f"{layer!r} is not a free layer of the crossbar")
    layers = tuple(replace(l, kind="input") if l.name == layer else l for l in meta.layers)
    clamped_meta = replace(meta, layers=layers)
    groups, rows = [], []
    for group in (crossbar.even, crossbar.odd):
        names = list(group.layers)
        free = [n for n in names if n != layer and meta.layer(n).kind != "input"]
        inputs = [n for n in names if meta.layer(n).kind == "input"]
        order = free + inputs + ([layer] if layer in names else [])
        slices, offset, picked = {}, 0, []
        for name in order:
            where = group.slices[name]
            slices[name] = slice(offset, offset + where.stop - where.start)
            offset += where.stop - where.start
            picked.append(np.arange(where.start, where.stop))
        free_count = sum(group.slices[n].stop - group.slices[n].start for n in free)
        groups.append(Group(tuple(order), free_count, offset, slices))
        rows.append(np.concatenate(picked).astype(np.int64))
    even, odd = groups
    index = np.concatenate([rows[0][: even.free], rows[1][: odd.free] + crossbar.even.free])
    per_unit = ("start", "targets", "nudge_targets", "nudge")
    defaults = {k: crossbar.defaults[k][index] for k in per_unit}
    inputs = []
    old_inputs = crossbar.input_slices()
    for group in (crossbar.even, crossbar.odd):
        for name in group.layers:
            if name in old_inputs:
                inputs.append(crossbar.defaults["inputs"][old_inputs[name]])
        if layer in group.layers:
            inputs.append(crossbar.defaults["targets"][crossbar.free_slices()[layer]])
    defaults["inputs"] = np.concatenate(inputs)
    clamped = Crossbar(
        meta=clamped_meta,
        even=even,
        odd=odd,
        m_eo=crossbar.m_eo[np.ix_(rows[0], rows[1][: odd.free])],
        m_oe=crossbar.m_oe[np.ix_(rows[1], rows[0][: even.free])],
        bias=crossbar.bias[index],
        leak=crossbar.leak[index],
        spring=crossbar.spring[index],
        inj_gain=crossbar.inj_gain[index],
        tau=crossbar.tau[index],
        act_code=crossbar.act_code[index],
        slope=crossbar.slope[index],
        defaults=defaults,
        row_conductance_even=_rows_of(crossbar.row_conductance_even, rows[0]),
        row_conductance_odd=_rows_of(crossbar.row_conductance_odd, rows[1]),
        row_transform_even=crossbar.row_transform_even[:, rows[0]],
        row_transform_odd=crossbar.row_transform_odd[:, rows[1]],
        bias_power=crossbar.bias_power,
        rails=crossbar.rails,
    )
    return clamped, index


def _rows_of(conductance: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The row conductances (width,) or power matrix (width, width) of ``rows``."""
    return conductance[rows] if conductance.ndim == 1 else conductance[np.ix_(rows, rows)]
