"""Compile a crossbar energy network (DESIGN.md §3.1) into a circuit, and map back.

Per unit ``i`` of layer ``L`` (all names lower case)::

    L_i      unit node: voltage = s * volts_per_unit, capacitor cu_L_i = tau*g_unit,
             leak rl_L_i = 1/g_unit to ground
    L_i_c    column line held at 0 V by ammeter vc_L_i (its current = Σ G·V of the row)
    fi_L_i / bi_L_i   injection of the column current into L_i: a CCCS (gain 1) for
             linear units and the Hopfield law, a B source ρ'(s)·i(vc_L_i) for the
             Scellier–Bengio law
    L_i_p, L_i_n   row lines driven at ±ρ(s)·volts_per_unit (ep_/bp_L_i and en_L_i)
    vin_L_i  (input layers) the clamping source on L_i
    L_i_t, vt_L_i, rs_L_i   (visible layers) spring: 1/(λ g_unit) to the target source
    L_i_nt, vnt_L_i, gn_L_i (visible/output layers) nudge: a VCCS of transconductance
             strength·g_unit pulling L_i toward the nudge target source (0 = off)

Weights: coupling ``k = (a, b)``, entry ``W[i, j]``, is a conductance pair
``G± = g_min + max(±W, 0)·g_unit`` in two arrays, ``rw<k>f_<i>_<j>{p,n}`` (rows of a
onto the column of b) and ``rw<k>b_<i>_<j>{p,n}`` (rows of b onto the column of a;
absent when a is clamped). Biases: ``rb_L_i_{p,n}`` from the rails ``bias_p``/``bias_n``
(±volts_per_unit) onto the column. So ``W = (G+ − G−)/g_unit`` and ``b`` likewise.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neurosim.circuit.ir import Circuit, Element, Role
from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.network.activations import get_activation
from neurosim.network.model import Arrays, Drive, check_params, init_params
from neurosim.network.spec import NetworkSpec

TRAINABLE = ("rw*", "rb*")


def conductance_pair(w: np.ndarray, scaling: Scaling) -> tuple[np.ndarray, np.ndarray]:
    """Device conductances (siemens) encoding the signed model values ``w``."""
    g_plus = scaling.g_min + np.maximum(w, 0.0) * scaling.g_unit
    g_minus = scaling.g_min + np.maximum(-w, 0.0) * scaling.g_unit
    return g_plus, g_minus


def compile_network(meta: NetworkMeta, params: Arrays, *, title: str | None = None) -> Circuit:
    """Build the circuit of ``meta`` with parameter values ``params`` (model units)."""
    check_params(meta, params)
    circuit = Circuit(title=title or f"neurosim {meta.family} network", network=meta)
    circuit.trainable = TRAINABLE
    vs = meta.scaling.volts_per_unit
    circuit.add(Element("vbias_p", ("bias_p", "0"), vs))
    circuit.add(Element("vbias_n", ("bias_n", "0"), -vs))
    circuit.roles["bias_p"] = Role.BIAS
    circuit.roles["bias_n"] = Role.BIAS
    driven = _driven_layers(meta)
    for layer in meta.layers:
        _add_units(circuit, meta, layer, drives_rows=layer.name in driven)
    for k, (a, b) in enumerate(meta.couplings):
        _add_array(circuit, meta, params[f"w{k}"], f"rw{k}f", a, b, transpose=False)
        if meta.layer(a).kind != "input":
            _add_array(circuit, meta, params[f"w{k}"], f"rw{k}b", b, a, transpose=True)
    for layer in meta.layers:
        if layer.kind != "input":
            _add_biases(circuit, meta.scaling, layer, params[f"b_{layer.name}"])
    circuit.controls = (".op",)
    return circuit


def compile_spec(spec: NetworkSpec, params: Arrays | None = None) -> Circuit:
    """The circuit of ``spec``: given ``params``, or the spec's seeded initialisation."""
    if params is None:
        params = init_params(spec.meta, np.random.default_rng(spec.seed), spec.weight_gain)
    sizes = "-".join(str(layer.size) for layer in spec.meta.layers)
    title = f"neurosim {spec.name}: {spec.meta.family} {sizes}, {spec.meta.law} law"
    return compile_network(spec.meta, params, title=title)


def _driven_layers(meta: NetworkMeta) -> set[str]:
    """Layers whose row lines feed some array."""
    driven = set()
    for a, b in meta.couplings:
        driven.add(a)
        if meta.layer(a).kind != "input":
            driven.add(b)
    return driven


def _add_units(circuit: Circuit, meta: NetworkMeta, layer: Layer, *, drives_rows: bool) -> None:
    scaling, vs = meta.scaling, meta.scaling.volts_per_unit
    activation = get_activation(layer.activation)
    for i in range(layer.size):
        u = f"{layer.name}_{i}"
        circuit.roles[u] = Role(layer.kind)
        if layer.kind == "input":
            circuit.add(Element(f"vin_{u}", (u, "0"), 0.0))
        else:
            circuit.add(Element(f"cu_{u}", (u, "0"), scaling.tau * scaling.g_unit, ic=0.0))
            circuit.add(Element(f"rl_{u}", (u, "0"), 1.0 / scaling.g_unit))
            circuit.add(Element(f"vc_{u}", (f"{u}_c", "0"), 0.0))
            if meta.law == "hopfield" or layer.activation == "linear":
                circuit.add(Element(f"fi_{u}", ("0", u), 1.0, control=f"vc_{u}"))
            else:
                slope = activation.spice_derivative_of(("bin", "/", ("v", u), ("num", vs)))
                injection = ("bin", "*", slope, ("i", f"vc_{u}"))
                circuit.add(Element(f"bi_{u}", ("0", u), expr=injection, output="i"))
        if layer.kind == "visible" and meta.spring_lambda > 0:
            circuit.add(Element(f"vt_{u}", (f"{u}_t", "0"), 0.0))
            circuit.add(
                Element(f"rs_{u}", (u, f"{u}_t"), 1.0 / (meta.spring_lambda * scaling.g_unit))
            )
        if layer.kind in ("visible", "output") and meta.nudge:
            circuit.add(Element(f"vnt_{u}", (f"{u}_nt", "0"), 0.0))
            circuit.add(Element(f"gn_{u}", ("0", u, f"{u}_nt", u), 0.0))
        if drives_rows:
            if layer.activation == "linear":
                circuit.add(Element(f"ep_{u}", (f"{u}_p", "0", u, "0"), 1.0))
            else:
                row = (
                    "bin",
                    "*",
                    ("num", vs),
                    activation.spice_of(("bin", "/", ("v", u), ("num", vs))),
                )
                circuit.add(Element(f"bp_{u}", (f"{u}_p", "0"), expr=row, output="v"))
            circuit.add(Element(f"en_{u}", (f"{u}_n", "0", f"{u}_p", "0"), -1.0))


def _add_array(
    circuit: Circuit,
    meta: NetworkMeta,
    w: np.ndarray,
    prefix: str,
    rows: str,
    cols: str,
    *,
    transpose: bool,
) -> None:
    """Devices from the row lines of layer ``rows`` onto the columns of layer ``cols``."""
    g_plus, g_minus = conductance_pair(np.asarray(w, dtype=float), meta.scaling)
    n_rows, n_cols = meta.layer(rows).size, meta.layer(cols).size
    for r in range(n_rows):
        for c in range(n_cols):
            i, j = (c, r) if transpose else (r, c)
            column = f"{cols}_{c}_c"
            circuit.add(
                Element(f"{prefix}_{i}_{j}p", (f"{rows}_{r}_p", column), 1.0 / g_plus[i, j])
            )
            circuit.add(
                Element(f"{prefix}_{i}_{j}n", (f"{rows}_{r}_n", column), 1.0 / g_minus[i, j])
            )


def _add_biases(circuit: Circuit, scaling: Scaling, layer: Layer, b: np.ndarray) -> None:
    g_plus, g_minus = conductance_pair(np.asarray(b, dtype=float), scaling)
    for i in range(layer.size):
        column = f"{layer.name}_{i}_c"
        circuit.add(Element(f"rb_{layer.name}_{i}_p", ("bias_p", column), 1.0 / g_plus[i]))
        circuit.add(Element(f"rb_{layer.name}_{i}_n", ("bias_n", column), 1.0 / g_minus[i]))


def params_from_circuit(circuit: Circuit) -> dict[str, np.ndarray]:
    """Read the model parameters back from the device conductances (forward arrays)."""
    meta = _network(circuit)
    g_unit = meta.scaling.g_unit
    params = {}
    for k, (a, b) in enumerate(meta.couplings):
        rows, cols = meta.layer(a).size, meta.layer(b).size
        w = np.empty((rows, cols))
        for i in range(rows):
            for j in range(cols):
                w[i, j] = _pair_value(circuit, f"rw{k}f_{i}_{j}", g_unit)
        params[f"w{k}"] = w
    for layer in meta.layers:
        if layer.kind != "input":
            values = [
                _pair_value(circuit, f"rb_{layer.name}_{i}_", g_unit) for i in range(layer.size)
            ]
            params[f"b_{layer.name}"] = np.array(values)
    return params


def _pair_value(circuit: Circuit, stem: str, g_unit: float) -> float:
    return (
        1.0 / circuit.elements[f"{stem}p"].value - 1.0 / circuit.elements[f"{stem}n"].value
    ) / g_unit


def _network(circuit: Circuit) -> NetworkMeta:
    if circuit.network is None:
        raise ValueError("the circuit carries no neurosim network metadata")
    return circuit.network


def drive_settings(meta: NetworkMeta, drive: Drive) -> list[dict[str, float]]:
    """Source and nudge values (SI) that realise ``drive``, one mapping per sample.

    Keys are element names: ``vin_*``/``vt_*``/``vnt_*`` in volts, ``gn_*`` in siemens.
    """
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
                columns[f"{prefix}_{name}_{i}"] = array[:, i] * vs
    for name in drive.nudge_targets:
        for i in range(meta.layer(name).size):
            columns[f"gn_{name}_{i}"] = np.full(1, drive.nudge_strength * g_unit)
    batch = max((len(v) for v in columns.values()), default=1)
    return [
        {k: float(v[n] if len(v) > 1 else v[0]) for k, v in columns.items()} for n in range(batch)
    ]


def state_from_voltages(meta: NetworkMeta, voltages: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Model state (free layers, shape (size,)) from unit-node voltages."""
    vs = meta.scaling.volts_per_unit
    return {
        layer.name: np.array([voltages[f"{layer.name}_{i}"] for i in range(layer.size)]) / vs
        for layer in meta.layers
        if layer.kind != "input"
    }
