"""The crossbar arrays of a network built from its model, not from a netlist: the test
oracle the lowering is checked against (and the fast way to a crossbar in tests and
benches)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.pairs import encode
from neurosim.lower.crossbar import ACTIVATION_CODES, Crossbar, _block, _empty


def ideal_crossbar(meta: NetworkMeta, params: Mapping[str, np.ndarray]) -> Crossbar:
    """The arrays :func:`lower_crossbar` gives for ``compile_network(meta, params)``.

    Built from the model directly (no circuit of 10⁵–10⁶ elements to build and read):
    ideal drivers and injections, devices ``G± = g_min + max(±W, 0)·g_unit``, sources
    at zero. It has no element layout, so it cannot :meth:`Crossbar.refresh`.
    """
    scaling, vs = meta.scaling, meta.scaling.volts_per_unit
    crossbar = _empty(meta)
    slices = crossbar.free_slices()
    for name, where in slices.items():
        layer = meta.layer(name)
        crossbar.act_code[where] = ACTIVATION_CODES[layer.activation]
        crossbar.slope[where] = meta.law == "scellier_bengio" and layer.activation != "linear"
        crossbar.inj_gain[where] = 1.0
        crossbar.leak[where] = 1.0
        crossbar.tau[where] = scaling.tau
        if layer.kind == "visible":
            crossbar.spring[where] = meta.spring_lambda
        g_p, g_n = np.moveaxis(encode(params[f"b_{name}"], scaling), -1, 0)
        crossbar.bias[where] = (g_p * vs - g_n * vs) / (vs * scaling.g_unit)
        crossbar.bias_power += float(np.sum((g_p + g_n) * vs**2))
    for k, (a, b) in enumerate(meta.couplings):
        g_p, g_n = np.moveaxis(encode(params[f"w{k}"], scaling), -1, 0)
        place(crossbar, a, b, (g_p - g_n) / scaling.g_unit, (g_p + g_n).sum(1))
        if meta.layer(a).kind != "input":
            place(crossbar, b, a, (g_p - g_n).T / scaling.g_unit, (g_p + g_n).sum(0))
    crossbar.defaults = {
        "start": np.zeros(crossbar.free),
        "inputs": np.zeros(crossbar.input_width),
        "targets": np.zeros(crossbar.free),
        "nudge_targets": np.zeros(crossbar.free),
        "nudge": np.zeros(crossbar.free),
    }
    crossbar.rails = np.array([vs, -vs])
    return crossbar


def place(crossbar: Crossbar, rows: str, cols: str, weights, row_conductance) -> None:
    """Put the effective weights from layer ``rows`` onto layer ``cols`` in their block."""
    block, row_g = _block(crossbar, rows, cols)
    block[:] = weights
    row_g += row_conductance  # no wires, so row_g is (width,)
