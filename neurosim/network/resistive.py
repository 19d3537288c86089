"""Compile a deep resistive network (DESIGN.md §3.2, Kendall et al. 2020) into a circuit.

Nodes joined by resistors — the trainable devices — with the nonlinearity in diodes
and the inputs in voltage sources; the energy is the circuit's total co-content, so the
equilibrium is unique (:mod:`neurosim.engine.diode_network` settles it). Per unit
``i`` of layer ``L`` (names lower case; :mod:`neurosim.circuit.resistive` names the
devices)::

    L_i_p, L_i_n   (input layers) nodes held at +x·vs and −x·vs by vin_L_i_p, vin_L_i_n
    L_i            (hidden layers) the unit node, at s·vs; a capacitor cu_L_i = τ·g_unit
                   to ground (open at DC, for transients) and anti-parallel diodes
                   dp_L_i, dn_L_i to ground (model ``dclip``): a soft clip near ±0.4 V
    L_i_p, L_i_n   (output layers) a pair of nodes read as their difference,
                   s = (v_p − v_n)/vs, each with a capacitor cu_L_i_p, cu_L_i_n; the
                   nudge pulls that difference toward the target source vnt_L_i (node
                   L_i_nt): gn_L_i, a VCCS across the pair (a conductance β·g_unit), and
                   gt_L_i, a current β·g_unit·v_nt from n to p — together the energy
                   ½·β·g_unit·(v_p − v_n − v_nt)²; 0 is off

A coupling's devices (``rw<k>_<i>_<j>`` and, where one side is a pair of nodes,
``…p``/``…n``) join each node of one unit to each node of the other, so a hidden unit
sees both signs of an input and an output both signs of a hidden unit; biases are
device pairs from the rails bias_p, bias_n (±vs). Parameters are the devices'
conductances in units of ``g_unit``, θ = G/g_unit, each in [g_min/g_unit, 1]
(``g_unit`` is the largest conductance a device takes): ``w<k>`` (size_a, size_b, 2)
where a side is paired (last axis p, n), (size_a, size_b) otherwise, ``b_<layer>``
(size, 2).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neurosim.circuit.ir import Circuit, Element, Model, Role
from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.resistive import device_ends, device_names

TRAINABLE = ("rw*", "rb*")
DIODE = Model("dclip", "d", (("is", 1e-12), ("n", 1.0)))


def init_resistive(meta: NetworkMeta, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Seeded initial parameters: each device uniform in [g_min, g_unit]/g_unit scaled by
    1/√(devices into its unit), so that no unit starts pinned to one input."""
    low = meta.scaling.g_min / meta.scaling.g_unit
    shapes = meta.parameter_shapes()
    owner = {name: meta.couplings[int(name[1:])][1] for name in shapes if name[0] == "w"}
    owner |= {name: name[2:] for name in shapes if name[0] == "b"}
    fan_in = dict.fromkeys(owner.values(), 0)
    for name, shape in shapes.items():
        fan_in[owner[name]] += int(np.prod(shape)) // meta.layer(owner[name]).size
    return {
        name: rng.uniform(low, max(low, min(1.0, 4.0 / np.sqrt(fan_in[owner[name]]))), shape)
        for name, shape in shapes.items()
    }


def compile_resistive(
    meta: NetworkMeta, params: Mapping[str, np.ndarray], *, title: str | None = None
) -> Circuit:
    """The circuit of resistive network ``meta`` with devices at ``params`` (θ = G/g_unit,
    module docstring); ``ValueError`` for parameters of another shape or out of range."""
    scaling = meta.scaling
    low = scaling.g_min / scaling.g_unit
    shapes = meta.parameter_shapes()
    if set(params) != set(shapes):
        raise ValueError(f"parameters {sorted(params)} do not match {sorted(shapes)}")
    for name, shape in shapes.items():
        value = np.asarray(params[name], dtype=np.float64)
        if value.shape != shape:
            raise ValueError(f"parameter {name} has shape {value.shape}, expected {shape}")
        if not np.all((value >= low * (1 - 1e-12)) & (value <= 1.0 + 1e-12)):
            raise ValueError(f"parameter {name}: conductances outside [g_min, g_unit]")
    circuit = Circuit(title=title or "neurosim resistive network", network=meta)
    circuit.trainable = TRAINABLE
    circuit.add_model(DIODE)
    vs = scaling.volts_per_unit
    circuit.add(Element("vbias_p", ("bias_p", "0"), vs))
    circuit.add(Element("vbias_n", ("bias_n", "0"), -vs))
    circuit.roles["bias_p"] = circuit.roles["bias_n"] = Role.BIAS
    for layer in meta.layers:
        for i in range(layer.size):
            unit = f"{layer.name}_{i}"
            if layer.kind == "input":
                circuit.add(Element(f"vin_{unit}_p", (f"{unit}_p", "0"), 0.0))
                circuit.add(Element(f"vin_{unit}_n", (f"{unit}_n", "0"), 0.0))
                circuit.roles[f"{unit}_p"] = circuit.roles[f"{unit}_n"] = Role.INPUT
            elif layer.kind == "hidden":
                circuit.roles[unit] = Role.HIDDEN
                circuit.add(Element(f"cu_{unit}", (unit, "0"), scaling.tau * scaling.g_unit))
                circuit.add(Element(f"dp_{unit}", (unit, "0"), 1.0, model=DIODE.name))
                circuit.add(Element(f"dn_{unit}", ("0", unit), 1.0, model=DIODE.name))
            else:
                p, n = f"{unit}_p", f"{unit}_n"
                for node in (p, n):
                    circuit.roles[node] = Role.OUTPUT
                    circuit.add(Element(f"cu_{node}", (node, "0"), scaling.tau * scaling.g_unit))
                if meta.nudge:
                    target = f"{unit}_nt"
                    circuit.add(Element(f"vnt_{unit}", (target, "0"), 0.0))
                    circuit.add(Element(f"gn_{unit}", (p, n, p, n), 0.0))
                    circuit.add(Element(f"gt_{unit}", (n, p, target, "0"), 0.0))
    ends, names = device_ends(meta), device_names(meta)
    for name in shapes:
        values = np.asarray(params[name], dtype=np.float64).ravel()
        for element, nodes, theta in zip(names[name], ends[name], values, strict=True):
            circuit.add(Element(element, nodes, 1.0 / (theta * scaling.g_unit)))
    circuit.controls = (".op",)
    return circuit


def read_resistive(circuit: Circuit) -> dict[str, np.ndarray]:
    """The parameters (θ = G/g_unit) of a resistive network circuit, read off its devices."""
    meta = circuit.network
    g_unit = meta.scaling.g_unit
    return {
        name: np.array([1.0 / (circuit.elements[e].value * g_unit) for e in names]).reshape(shape)
        for (name, names), shape in zip(
            device_names(meta).items(), meta.parameter_shapes().values(), strict=True
        )
    }
