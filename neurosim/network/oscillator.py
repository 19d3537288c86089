"""Compile an oscillator Ising machine (DESIGN.md §3.3) into a circuit.

Per unit ``i`` of layer ``L`` (the sources' templates: :mod:`neurosim.circuit.oscillator`)::

    L_i           (input layers) held at x·vs by vin_L_i: the inputs enter as fields
    L_i           (other layers) an oscillator's phase node, φ·vs volts; capacitor
                  cu_L_i = τ·g_unit to ground, starting (``ic``) at a seeded random phase
                  in (−π, π], so that ``.tran … uic`` and the engine start alike; the
                  field bh_L_i and the injection locking bk_L_i
    L_i_nt, vnt_L_i, bn_L_i   (output layers) the nudge toward cos φ = t (0: off)

Parameters (model units): ``w<k>`` (size_a, size_b) the couplings J of coupling k,
``b_<layer>`` the fields h, ``k_<layer>`` the locking strengths K of each free layer.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neurosim.circuit.ir import Circuit, Element, Role
from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.oscillator import expression, source_names, source_values

TRAINABLE = ("bj*", "bh*", "bk*")
SETTLE_TAUS = 200  # the exported transient's length, in unit time constants


def init_oscillator(meta: NetworkMeta, rng: np.random.Generator, gain: float = 0.5):
    """Seeded initial parameters: couplings normal with standard deviation
    gain/√fan-in, fields and locking strengths 0."""
    params = {}
    for name, shape in meta.parameter_shapes().items():
        if name.startswith("w"):
            params[name] = rng.normal(0.0, gain / np.sqrt(shape[0]), shape)
        else:
            params[name] = np.zeros(shape)
    return params


def graph_params(meta: NetworkMeta, graph) -> dict[str, np.ndarray]:
    """A max-cut instance's parameters: J = −A of the seeded Erdős–Rényi graph of
    :class:`neurosim.network.spec.Graph` (upper triangle drawn, mirrored), no fields,
    locking ``graph.locking`` on every oscillator."""
    ((name, shape),) = ((n, s) for n, s in meta.parameter_shapes().items() if n[0] == "w")
    size = shape[0]
    upper = np.triu(
        np.random.default_rng(graph.seed).random((size, size)) < graph.edge_probability, 1
    )
    adjacency = (upper | upper.T).astype(np.float64)
    params = {n: np.zeros(s) for n, s in meta.parameter_shapes().items()}
    params[name] = -adjacency
    layer = next(l.name for l in meta.layers if l.kind != "input")
    params[f"k_{layer}"][:] = graph.locking
    return params


def compile_oscillator(
    meta: NetworkMeta,
    params: Mapping[str, np.ndarray],
    *,
    start: np.ndarray | None = None,
    title: str | None = None,
) -> Circuit:
    """The circuit of oscillator network ``meta`` with parameters ``params``; its
    capacitors start at phases ``start`` (free units in layer order, radians; default a
    draw seeded by 0)."""
    shapes = meta.parameter_shapes()
    if set(params) != set(shapes):
        raise ValueError(f"parameters {sorted(params)} do not match {sorted(shapes)}")
    for name, shape in shapes.items():
        value = np.asarray(params[name], dtype=np.float64)
        if value.shape != shape or not np.all(np.isfinite(value)):
            raise ValueError(f"parameter {name} must be {shape} finite values")
    scaling = meta.scaling
    vs = scaling.volts_per_unit
    free = sum(layer.size for layer in meta.layers if layer.kind != "input")
    if start is None:
        start = np.random.default_rng(0).uniform(-np.pi, np.pi, free)
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (free,):
        raise ValueError(f"start must hold {free} phases")
    circuit = Circuit(title=title or "neurosim oscillator network", network=meta)
    circuit.trainable = TRAINABLE
    phases = iter(start)
    for layer in meta.layers:
        for i in range(layer.size):
            unit = f"{layer.name}_{i}"
            if layer.kind == "input":
                circuit.roles[unit] = Role.INPUT
                circuit.add(Element(f"vin_{unit}", (unit, "0"), 0.0))
                continue
            circuit.roles[unit] = Role(layer.kind)
            capacitance = scaling.tau * scaling.g_unit
            circuit.add(Element(f"cu_{unit}", (unit, "0"), capacitance, ic=next(phases) * vs))
            if layer.kind == "output" and meta.nudge:
                target = f"{unit}_nt"
                circuit.add(Element(f"vnt_{unit}", (target, "0"), 0.0))
                tree = expression(meta, "nudge", 0.0, unit, target)
                circuit.add(Element(f"bn_{unit}", ("0", unit), expr=tree, output="i"))
    for name, entries in source_names(meta).items():
        values = source_values(meta, name, params[name])
        for (element, kind, nodes, node, other), theta in zip(entries, values, strict=True):
            tree = expression(meta, kind, theta, node, other)
            circuit.add(Element(element, nodes, expr=tree, output="i"))
    # no DC path at a phase node: ngspice settles it by a transient from the ic values
    circuit.controls = (f".tran {scaling.tau / 20!r} {SETTLE_TAUS * scaling.tau!r} uic",)
    return circuit
