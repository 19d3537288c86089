"""What every host reads off its circuit the same way, whatever the family: the
circuit's fingerprint, the elements marked trainable that it cannot program, and the
layers' slices of a state laid out in the network's order."""

from __future__ import annotations

import hashlib
from collections.abc import Collection

from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import NetworkMeta
from neurosim.netlist.write import element_line


def fingerprint(circuit: Circuit, programmed: Collection[str]) -> str:
    """SHA-256 of everything programming does not change: every element that is not one
    of ``programmed`` (its netlist line), their names and the trainable marks."""
    digest = hashlib.sha256()
    for name, element in circuit.elements.items():
        digest.update((name if name in programmed else element_line(element)).encode())
        digest.update(b"\n")
    digest.update(" ".join(circuit.trainable).encode())
    return digest.hexdigest()


def stray_trainable(circuit: Circuit, programmed: Collection[str]) -> list[str]:
    """Elements the netlist marks trainable that are none of ``programmed``: a host has
    no local update for them."""
    return [n for n in circuit.elements if circuit.is_trainable(n) and n not in programmed]


def layer_slices(meta: NetworkMeta, inputs: bool) -> dict[str, slice]:
    """Each input layer's (``inputs``) or free layer's slice of a vector laid out in the
    network's layer order."""
    out, start = {}, 0
    for layer in meta.layers:
        if (layer.kind == "input") == inputs:
            out[layer.name] = slice(start, start + layer.size)
            start += layer.size
    return out
