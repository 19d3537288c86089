"""The circuit families the engine settles besides the crossbar network, by name.

A netlist without neurosim network metadata is offered to each family's lowering in
turn; the first that accepts it gives the :class:`neurosim.engine.system.System` that
``check`` and ``relax`` settle (a netlist no family accepts is solved by the general MNA
solver, :mod:`neurosim.engine.dc`). A new family is one module implementing the
protocol plus one entry here.
"""

from __future__ import annotations

from collections.abc import Callable

from neurosim.circuit.ir import Circuit
from neurosim.engine.diode_network import lower_diode_network
from neurosim.engine.oscillator import lower_oscillator
from neurosim.engine.system import System
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import crossbar_layout

FAMILIES: dict[str, Callable[[Circuit], System]] = {
    "resistor–diode": lower_diode_network,
    "oscillator": lower_oscillator,
}


def lower_system(circuit: Circuit) -> tuple[str, System]:
    """The first family of :data:`FAMILIES` that lowers ``circuit``: its name and system;
    else :class:`CircuitError` with each family's reason."""
    reasons = []
    for name, lower in FAMILIES.items():
        try:
            return name, lower(circuit)
        except CircuitError as error:
            reasons.append(f"{name}: {error}")
    raise CircuitError("a circuit of a family the engine settles: " + "; ".join(reasons))


def describe(circuit: Circuit) -> str:
    """One line: which solver settles ``circuit`` — the crossbar engine (with the wired
    arrays it reduces and the added elements it folds), a family's, or the general MNA
    solver and why."""
    if circuit.network is not None and circuit.network.family == "crossbar":
        try:
            layout = crossbar_layout(circuit)  # not the arrays: a wired one takes seconds
        except CircuitError as error:
            return f"general MNA solver ({error})"
        text = "crossbar engine"
        if layout.wires:
            text += f", {len(layout.wires)} wired arrays reduced"
        folded = [f"{s.name} ({s.kind} at {layout.units[s.unit]})" for s in layout.shunts]
        folded += [f"{name} (contact of {device})" for device, name in layout.contacts.items()]
        return text + ("; folded: " + ", ".join(folded) if folded else "")
    try:
        return f"{lower_system(circuit)[0]} engine"
    except CircuitError as error:
        return f"general MNA solver ({error})"
