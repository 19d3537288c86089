"""Input arrays a user gives on the command line: one row per setting, model units.

Columns are the clamped input layers, then the visible layers' spring targets (when the
network has springs), each in layer order.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from neurosim.circuit.drive import Drive
from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import Layer, NetworkMeta
from neurosim.errors import CircuitError, NeurosimError


def input_layers(meta: NetworkMeta) -> list[Layer]:
    """The layers an input row sets, in column order."""
    layers = [layer for layer in meta.layers if layer.kind == "input"]
    if meta.spring_lambda > 0:
        layers += [layer for layer in meta.layers if layer.kind == "visible"]
    return layers


def input_width(meta: NetworkMeta) -> int:
    """Columns of an input array."""
    return sum(layer.size for layer in input_layers(meta))


def drive_from_inputs(meta: NetworkMeta, inputs: np.ndarray) -> Drive:
    """The drive of each row of ``inputs`` (n, input_width); one-line errors on bad input."""
    inputs = np.asarray(inputs)
    if not (np.issubdtype(inputs.dtype, np.integer) or np.issubdtype(inputs.dtype, np.floating)):
        raise NeurosimError(f"inputs must be real numbers, got dtype {inputs.dtype}")
    inputs = inputs.astype(float)
    width = input_width(meta)
    if inputs.ndim != 2 or inputs.shape[1] != width:
        raise NeurosimError(f"inputs must have shape (n, {width}), got {inputs.shape}")
    if inputs.shape[0] == 0:
        raise NeurosimError("inputs hold no rows: give at least one input vector")
    if not np.all(np.isfinite(inputs)):
        raise NeurosimError("inputs hold NaN or inf")
    clamped, targets, start = {}, {}, 0
    for layer in input_layers(meta):
        block = inputs[:, start : start + layer.size]
        (clamped if layer.kind == "input" else targets)[layer.name] = block
        start += layer.size
    return Drive(inputs=clamped, targets=targets)


def drive_settings(meta: NetworkMeta, drive: Drive) -> list[dict[str, float]]:
    """Source and nudge values (SI) that realise ``drive``, one mapping per sample.

    Keys are element names: ``vin_*``/``vt_*``/``vnt_*`` in volts, ``gn_*`` in siemens.
    A resistive network's input unit is a pair of sources, ``vin_*_p`` at +x·vs and
    ``vin_*_n`` at −x·vs (:mod:`neurosim.network.resistive`).
    """
    pairs = meta.family == "resistive"
    vs, g_unit = meta.scaling.volts_per_unit, meta.scaling.g_unit
    columns: dict[str, np.ndarray] = {}
    for prefix, values in (
        ("vin", drive.inputs),
        ("vt", drive.targets),
        ("vnt", drive.nudge_targets),
    ):
        for name, array in values.items():
            array = np.atleast_2d(np.asarray(array, dtype=float))
            for i in range(array.shape[1]):
                if pairs and prefix == "vin":
                    columns[f"vin_{name}_{i}_p"] = array[:, i] * vs
                    columns[f"vin_{name}_{i}_n"] = -array[:, i] * vs
                else:
                    columns[f"{prefix}_{name}_{i}"] = array[:, i] * vs
    for name in drive.nudge_targets:
        for i in range(meta.layer(name).size):
            columns[f"gn_{name}_{i}"] = np.full(1, drive.nudge_strength * g_unit)
    batch = max((len(v) for v in columns.values()), default=1)
    return [
        {k: float(v[n] if len(v) > 1 else v[0]) for k, v in columns.items()} for n in range(batch)
    ]


def fix_element_values(
    circuit: Circuit, settings: list[dict[str, float]]
) -> tuple[Circuit, list[dict[str, float]]]:
    """Move setting entries that are not independent sources (a nudge element's
    conductance, the same in every setting) into a copy of the circuit: the circuit and
    the source-only settings a DC solver takes."""
    fixed: dict[str, float] = {}
    for setting in settings:
        for name, value in setting.items():
            if name[:1] in "vi":
                continue
            if name not in circuit.elements:
                raise CircuitError(f"setting {name!r}: no such element")
            if fixed.setdefault(name, value) != value:
                raise CircuitError(f"setting {name!r} differs between settings")
    if not fixed:
        return circuit, settings
    copy = replace(circuit, elements=dict(circuit.elements))
    for name, value in fixed.items():
        copy.set_value(name, value)
    sources = [{k: v for k, v in setting.items() if k not in fixed} for setting in settings]
    return copy, sources
