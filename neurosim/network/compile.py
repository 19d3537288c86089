"""Compile a crossbar energy network (DESIGN.md §3.1) into a circuit.

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
absent when a is clamped); a non-reciprocal network's backward array holds its own
parameter ``w<k>_back`` (same shape, same entry order). Biases: ``rb_L_i_{p,n}`` from
the rails ``bias_p``/``bias_n`` (±volts_per_unit) onto the column. So
``W = (G+ − G−)/g_unit`` and ``b`` likewise.

With wire resistance ``R`` (IR drop), each device of an array sits between its own row
wire node ``w<k><f|b>_r<row><sign>_<col>`` and column wire node ``w<k><f|b>_c…``; the
row segment ``rh<k><f|b>_…`` (R ohms) feeds it from the previous node of its row line
(the driven line node for the first column) and the column segment ``rv<k><f|b>_…``
carries its current to the next position of the column line (the column node after the
last): :mod:`neurosim.lower.wires`. Biases stay directly on the column nodes.
"""

from __future__ import annotations

import numpy as np

from neurosim.circuit.activations import get_activation
from neurosim.circuit.drive import Arrays
from neurosim.circuit.ir import Circuit, Element, Role
from neurosim.circuit.meta import Layer, NetworkMeta, Scaling, check_params
from neurosim.circuit.pairs import encode
from neurosim.circuit.structure import ArrayPart, Structure, default_structure
from neurosim.circuit.templates import driver_expression, injection_expression
from neurosim.network.model import init_params
from neurosim.network.spec import NetworkSpec

TRAINABLE = ("rw*", "rb*")


def compile_network(
    meta: NetworkMeta,
    params: Arrays,
    *,
    title: str | None = None,
    wire_resistance: float = 0.0,
) -> Circuit:
    """Build the circuit of ``meta`` with parameter values ``params`` (model units),
    every array's row and column segments ``wire_resistance`` ohms (0: ideal wires).

    Elements are named by :func:`neurosim.circuit.structure.default_structure`, which the
    circuit carries (the netlist's ``structure`` line).
    """
    check_params(meta, params)
    if not (np.isfinite(wire_resistance) and wire_resistance >= 0.0):
        raise ValueError(f"wire resistance must be >= 0 ohms, not {wire_resistance!r}")
    structure = default_structure(meta, wired=wire_resistance > 0.0)
    circuit = Circuit(
        title=title or f"neurosim {meta.family} network", network=meta, structure=structure
    )
    circuit.trainable = TRAINABLE
    vs = meta.scaling.volts_per_unit
    rail_p, rail_n = structure.rails
    circuit.add(Element(rail_p, ("bias_p", "0"), vs))
    circuit.add(Element(rail_n, ("bias_n", "0"), -vs))
    circuit.roles["bias_p"] = Role.BIAS
    circuit.roles["bias_n"] = Role.BIAS
    for layer in meta.layers:
        _add_units(circuit, meta, layer, structure.units[layer.name])
    for array in structure.arrays:
        w = params.get(f"w{array.coupling}_back") if array.direction == "backward" else None
        w = params[f"w{array.coupling}"] if w is None else w
        _add_array(circuit, meta, w, array, wire_resistance)
    for layer in meta.layers:
        if layer.kind != "input":
            _add_biases(circuit, meta.scaling, layer, params[f"b_{layer.name}"], structure)
    circuit.controls = (".op",)
    return circuit


def compile_spec(spec: NetworkSpec, params: Arrays | None = None) -> Circuit:
    """The circuit of ``spec``: given ``params``, or the spec's seeded initialisation (a
    resistive network's: :mod:`neurosim.network.resistive`)."""
    sizes = "-".join(str(layer.size) for layer in spec.meta.layers)
    title = f"neurosim {spec.name}: {spec.meta.family} {sizes}, {spec.meta.law} law"
    rng = np.random.default_rng(spec.seed)
    if spec.meta.family == "resistive":
        from neurosim.network.resistive import compile_resistive, init_resistive

        params = init_resistive(spec.meta, rng) if params is None else params
        return compile_resistive(spec.meta, params, title=title)
    if spec.meta.family == "oscillator":
        from neurosim.network.oscillator import compile_oscillator, graph_params, init_oscillator

        if params is None and spec.graph is not None:
            params = graph_params(spec.meta, spec.graph)
        elif params is None:
            params = init_oscillator(spec.meta, rng, spec.weight_gain)
        return compile_oscillator(spec.meta, params, title=title)
    if params is None:
        params = init_params(
            spec.meta, rng, spec.weight_gain, spec.visible_gain, spec.hidden_bias, spec.input_gain
        )
    return compile_network(spec.meta, params, title=title, wire_resistance=spec.wire_resistance)


def _add_units(circuit: Circuit, meta: NetworkMeta, layer: Layer, parts: dict[str, str]) -> None:
    scaling, vs = meta.scaling, meta.scaling.volts_per_unit
    activation = get_activation(layer.activation)
    for i in range(layer.size):
        name = {part: template.format(i=i) for part, template in parts.items()}
        u = name["node"]
        circuit.roles[u] = Role(layer.kind)
        if layer.kind == "input":
            circuit.add(Element(name["source"], (u, "0"), 0.0))
        else:
            column = f"{u}_c"
            circuit.add(Element(name["capacitor"], (u, "0"), scaling.tau * scaling.g_unit, ic=0.0))
            circuit.add(Element(name["leak"], (u, "0"), 1.0 / scaling.g_unit))
            circuit.add(Element(name["ammeter"], (column, "0"), 0.0))
            if name["injection"].startswith("f"):
                circuit.add(Element(name["injection"], ("0", u), 1.0, control=name["ammeter"]))
            else:
                injection = injection_expression(activation, u, name["ammeter"], vs)
                circuit.add(Element(name["injection"], ("0", u), expr=injection, output="i"))
        if "spring" in name:
            target = f"{u}_t"
            circuit.add(Element(name["spring_source"], (target, "0"), 0.0))
            spring = 1.0 / (meta.spring_lambda * scaling.g_unit)
            circuit.add(Element(name["spring"], (u, target), spring))
        if "nudge" in name:
            target = f"{u}_nt"
            circuit.add(Element(name["nudge_source"], (target, "0"), 0.0))
            circuit.add(Element(name["nudge"], ("0", u, target, u), 0.0))
        if "driver" in name:
            if layer.activation == "linear":
                circuit.add(Element(name["driver"], (f"{u}_p", "0", u, "0"), 1.0))
            else:
                row = driver_expression(activation, u, vs)
                circuit.add(Element(name["driver"], (f"{u}_p", "0"), expr=row, output="v"))
            circuit.add(Element(name["inverter"], (f"{u}_n", "0", f"{u}_p", "0"), -1.0))


def _add_array(
    circuit: Circuit, meta: NetworkMeta, w: np.ndarray, array: ArrayPart, wire: float
) -> None:
    """The devices of ``array``: from the row lines of its row layer onto the columns of
    its column layer; entry ``W[i, j]`` of the coupling in both directions. A wired
    array gets its segments of ``wire`` ohms (module docstring)."""
    a, b = meta.couplings[array.coupling]
    rows, cols = (a, b) if array.direction == "forward" else (b, a)
    pairs = encode(w, meta.scaling)
    g_plus, g_minus = pairs[..., 0], pairs[..., 1]
    if array.direction == "backward":
        g_plus, g_minus = g_plus.T, g_minus.T
    n_rows, n_cols = meta.layer(rows).size, meta.layer(cols).size
    for r in range(n_rows):
        for c in range(n_cols):
            for sign, g in (("p", g_plus[r, c]), ("n", g_minus[r, c])):
                name = array.device.format(row=r, col=c, sign=sign)
                line, column = f"{rows}_{r}_{sign}", f"{cols}_{c}_c"
                if not array.wired:
                    circuit.add(Element(name, (line, column), 1.0 / g))
                    continue
                here = _wire_node(array, "r", r, sign, c)
                below = _wire_node(array, "c", r, sign, c)
                feed = line if c == 0 else _wire_node(array, "r", r, sign, c - 1)
                last = r == n_rows - 1 and sign == "n"
                onward = column if last else _wire_node(array, "c", *_next_line(r, sign), c)
                index = {"row": r, "col": c, "sign": sign}
                circuit.add(Element(name, (here, below), 1.0 / g))
                circuit.add(Element(array.row_wire.format(**index), (feed, here), wire))
                circuit.add(Element(array.column_wire.format(**index), (below, onward), wire))


def _wire_node(array: ArrayPart, side: str, row: int, sign: str, col: int) -> str:
    """The row (``side`` "r") or column ("c") wire node at device (row, sign, col)."""
    return f"w{array.coupling}{array.direction[0]}_{side}{row}{sign}_{col}"


def _next_line(row: int, sign: str) -> tuple[int, str]:
    """The row line after (row, sign) along a column: p, n of row 0, then of row 1, ..."""
    return (row, "n") if sign == "p" else (row + 1, "p")


def _add_biases(
    circuit: Circuit, scaling: Scaling, layer: Layer, b: np.ndarray, structure: Structure
) -> None:
    pairs = encode(b, scaling)
    g_plus, g_minus = pairs[..., 0], pairs[..., 1]
    parts = structure.units[layer.name]
    for i in range(layer.size):
        column = f"{layer.name}_{i}_c"
        circuit.add(Element(parts["bias_p"].format(i=i), ("bias_p", column), 1.0 / g_plus[i]))
        circuit.add(Element(parts["bias_n"].format(i=i), ("bias_n", column), 1.0 / g_minus[i]))
