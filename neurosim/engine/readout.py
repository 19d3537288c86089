"""What a host reads off a settled crossbar: node voltages and branch currents (SI)."""

from __future__ import annotations

import numpy as np

from neurosim.engine.sources import Sources
from neurosim.lower.crossbar import Crossbar
from neurosim.network.activations import get_activation


def node_voltages(crossbar: Crossbar, sources: Sources, state: np.ndarray) -> dict[str, np.ndarray]:
    """Every node's voltage [V], node name -> (batch,), for states ``state`` (batch, free).

    Unit nodes are ``s·vs``; row lines ``k_p·vs·ρ(s)`` and ``k_n`` times that; columns
    sit at 0 V; source nodes (inputs, targets, nudge targets, rails) at their settings.
    """
    meta, layout = crossbar.meta, crossbar.require_layout()
    vs = meta.scaling.volts_per_unit
    state = np.asarray(state, dtype=np.float64)
    units = {u: state[:, i] for i, u in enumerate(layout.units)}
    units.update({u: sources.inputs[:, i] for i, u in enumerate(layout.inputs)})
    batch = state.shape[0]
    volts: dict[str, np.ndarray] = {
        "bias_p": np.full(batch, crossbar.rails[0]),
        "bias_n": np.full(batch, crossbar.rails[1]),
    }
    for u, value in units.items():
        volts[u] = value * vs
    for i, u in enumerate(layout.units):
        volts[f"{u}_c"] = np.zeros(batch)
        if u in layout.springs:
            volts[f"{u}_t"] = sources.targets[:, i] * vs
        if u in layout.nudges:
            volts[f"{u}_nt"] = sources.nudge_targets[:, i] * vs
    for (k_p, k_n), u in zip(crossbar.row_gains, layout.rows, strict=True):
        rho = get_activation(meta.layer(u.rsplit("_", 1)[0]).activation).rho
        row = k_p * vs * rho(units[u])
        volts[f"{u}_p"] = row
        volts[f"{u}_n"] = k_n * row
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
