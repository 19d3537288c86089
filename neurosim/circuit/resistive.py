"""The names and connections of a deep resistive network's parts (the compiler's
naming, :mod:`neurosim.network.resistive`): what the host reads a netlist by.

A unit of an input or output layer is a pair of nodes, ``<layer>_<i>_p`` and
``<layer>_<i>_n`` (an input at ±x volts; an output read as the difference); a hidden
unit is one node ``<layer>_<i>``. A coupling's device joins each node of one side to
each node of the other: a pair of devices (``p``, ``n``) per entry when one side is a
pair of nodes, one device otherwise; a bias is a pair of devices from the rails.
"""

from __future__ import annotations

from neurosim.circuit.meta import NetworkMeta

PAIRED = ("input", "output")  # the layer kinds whose units are pairs of nodes


def unit_nodes(meta: NetworkMeta, layer: str, i: int) -> tuple[str, ...]:
    """The node(s) of unit ``i`` of ``layer``: (p, n) for an input or output unit."""
    if meta.layer(layer).kind in PAIRED:
        return (f"{layer}_{i}_p", f"{layer}_{i}_n")
    return (f"{layer}_{i}",)


def device_names(meta: NetworkMeta) -> dict[str, list[str]]:
    """Parameter -> its devices' element names, in the parameter's flat (C) order."""
    return {name: [element for element, _ in devices] for name, devices in _devices(meta).items()}


def device_ends(meta: NetworkMeta) -> dict[str, list[tuple[str, str]]]:
    """Parameter -> the two nodes of each of its devices (as :func:`device_names`)."""
    return {name: [nodes for _, nodes in devices] for name, devices in _devices(meta).items()}


def _devices(meta: NetworkMeta) -> dict[str, list[tuple[str, tuple[str, str]]]]:
    """Parameter -> (element name, (node, node)) of each device, in flat order: for an
    entry (i, j) of coupling k = (a, b) the device from each node of a's unit i to each
    node of b's unit j (``p`` then ``n`` where one side is a pair); for a bias pair,
    ``p`` from bias_p and ``n`` from bias_n onto a hidden unit, and onto an output
    unit's ``p`` and ``n`` nodes from bias_p (raising and lowering its difference)."""
    out: dict[str, list[tuple[str, tuple[str, str]]]] = {}
    for k, (a, b) in enumerate(meta.couplings):
        if meta.layer(a).kind in PAIRED and meta.layer(b).kind in PAIRED:
            raise ValueError(f"coupling {a}-{b}: a resistive network joins no two paired layers")
        devices = []
        for i in range(meta.layer(a).size):
            for j in range(meta.layer(b).size):
                ends = [(x, y) for x in unit_nodes(meta, a, i) for y in unit_nodes(meta, b, j)]
                signs = ("p", "n") if len(ends) == 2 else ("",)
                devices += [(f"rw{k}_{i}_{j}{s}", e) for s, e in zip(signs, ends, strict=True)]
        out[f"w{k}"] = devices
    for layer in meta.layers:
        if layer.kind == "input":
            continue
        devices = []
        for i in range(layer.size):
            nodes = unit_nodes(meta, layer.name, i)
            if len(nodes) == 2:  # bias_p onto each node of the pair
                ends = [("bias_p", nodes[0]), ("bias_p", nodes[1])]
            else:
                ends = [("bias_p", nodes[0]), ("bias_n", nodes[0])]
            devices += [(f"rb_{layer.name}_{i}_{s}", e) for s, e in zip("pn", ends, strict=True)]
        out[f"b_{layer.name}"] = devices
    return out
