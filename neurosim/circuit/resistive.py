"""The names and connections of a deep resistive network's devices (the compiler's
naming, :mod:`neurosim.network.resistive`): what the host reads a netlist by."""

from __future__ import annotations

from neurosim.circuit.meta import NetworkMeta


def device_names(meta: NetworkMeta) -> dict[str, list[str]]:
    """Parameter -> its devices' element names, in the parameter's flat (C) order."""
    names: dict[str, list[str]] = {}
    for k, (a, b) in enumerate(meta.couplings):
        signs = ("p", "n") if meta.layer(a).kind == "input" else ("",)
        names[f"w{k}"] = [
            f"rw{k}_{i}_{j}{sign}"
            for i in range(meta.layer(a).size)
            for j in range(meta.layer(b).size)
            for sign in signs
        ]
    for layer in meta.layers:
        if layer.kind != "input":
            names[f"b_{layer.name}"] = [
                f"rb_{layer.name}_{i}_{sign}" for i in range(layer.size) for sign in "pn"
            ]
    return names


def device_ends(meta: NetworkMeta) -> dict[str, list[tuple[str, str]]]:
    """Parameter -> the two nodes of each of its devices (as :func:`device_names`)."""
    ends: dict[str, list[tuple[str, str]]] = {}
    for k, (a, b) in enumerate(meta.couplings):
        input_side = meta.layer(a).kind == "input"
        pairs = []
        for i in range(meta.layer(a).size):
            for j in range(meta.layer(b).size):
                if input_side:
                    pairs += [(f"{a}_{i}_p", f"{b}_{j}"), (f"{a}_{i}_n", f"{b}_{j}")]
                else:
                    pairs.append((f"{a}_{i}", f"{b}_{j}"))
        ends[f"w{k}"] = pairs
    for layer in meta.layers:
        if layer.kind != "input":
            ends[f"b_{layer.name}"] = [
                (f"bias_{sign}", f"{layer.name}_{i}") for i in range(layer.size) for sign in "pn"
            ]
    return ends
