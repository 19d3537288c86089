"""What a host reads off a settled crossbar: node voltages and branch currents (SI)."""

from __future__ import annotations

import numpy as np

from neurosim.circuit.activations import get_activation
from neurosim.engine.sources import Sources
from neurosim.lower.crossbar import Crossbar, row_values


def node_voltages(crossbar: Crossbar, sources: Sources, state: np.ndarray) -> dict[str, np.ndarray]:
    """Every node's voltage [V], node name -> (batch,), for states ``state`` (batch, free).

    Unit nodes are ``s·vs``; row lines ``k_p·vs·ρ(s)`` and ``k_n`` times that; columns
    sit at 0 V; source nodes (inputs, targets, nudge targets, rails) at their settings.
    """
    meta, layout = crossbar.meta, crossbar.require_layout()
    vs = meta.scaling.volts_per_unit
    state = np.asarray(state, dtype=np.float64)
    batch = state.shape[0]
    nodes = layout.nodes
    volts: dict[str, np.ndarray] = {
        node: np.full(batch, rail)
        for node, rail in zip(nodes["rails"], crossbar.rails, strict=True)
    }
    for i, u in enumerate(layout.inputs):
        volts[u] = sources.inputs[:, i] * vs
    for i, u in enumerate(layout.units):
        volts[u] = state[:, i] * vs
        volts[nodes["column"][i]] = np.zeros(batch)
        if nodes["spring_target"][i] is not None:
            volts[nodes["spring_target"][i]] = sources.targets[:, i] * vs
        if nodes["nudge_target"][i] is not None:
            volts[nodes["nudge_target"][i]] = sources.nudge_targets[:, i] * vs
    rows = row_line_values(crossbar, sources, state)
    r = 0
    for layer in layout.row_layers:
        for j in range(meta.layer(layer).size):
            k_p, k_n = crossbar.row_gains[r]
            row = k_p * vs * rows[layer][:, j]
            volts[nodes["row_p"][r]] = row
            volts[nodes["row_n"][r]] = k_n * row
            r += 1
    return volts


def activations(crossbar: Crossbar, sources: Sources, state: np.ndarray) -> dict[str, np.ndarray]:
    """ρ of every layer's units, layer -> (batch, size): what the row lines carry (÷ vs).

    Free layers from ``state`` (batch, free); clamped inputs from ``sources``.
    """
    free, inputs = crossbar.free_slices(), crossbar.input_slices()
    state = np.asarray(state, dtype=np.float64)
    out = {}
    for layer in crossbar.meta.layers:
        values = (
            state[:, free[layer.name]]
            if layer.name in free
            else sources.inputs[:, inputs[layer.name]]
        )
        out[layer.name] = get_activation(layer.activation).rho(values)
    return out


def row_line_values(
    crossbar: Crossbar, sources: Sources, state: np.ndarray
) -> dict[str, np.ndarray]:
    """What every layer's row drivers put on their positive row lines ÷ (k_p·vs), layer
    -> (batch, size): ρ through each driver's offset and limits
    (:func:`neurosim.lower.crossbar.row_values`); ρ itself for a layer without drivers."""
    out = activations(crossbar, sources, state)
    for group in (crossbar.even, crossbar.odd):
        transform = crossbar.row_transform_of(group)
        for name, columns in group.slices.items():
            out[name] = row_values(out[name], transform[:, columns])
    return out
