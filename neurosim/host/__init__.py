"""The hardware host: the simulated chip and what a host beside it can do (DESIGN §2)."""

from neurosim.circuit.ir import Circuit
from neurosim.engine.relax import Equilibrium
from neurosim.engine.sources import Sources
from neurosim.host.chip import Chip
from neurosim.host.oscillator import OscillatorChip
from neurosim.host.programming import IdealProgrammer, Programmer
from neurosim.host.resistive import ResistiveChip
from neurosim.host.settling import MAX_UNSETTLED, check_unsettled
from neurosim.host.view import noise_scale


def chip_for(circuit: Circuit) -> Chip | ResistiveChip | OscillatorChip:
    """The host's view of network ``circuit``: a :class:`ResistiveChip` for a deep
    resistive network, an :class:`OscillatorChip` for an oscillator Ising machine, else
    a crossbar :class:`Chip` (exact devices)."""
    family = circuit.network.family if circuit.network is not None else "crossbar"
    if family == "resistive":
        return ResistiveChip(circuit)
    if family == "oscillator":
        return OscillatorChip(circuit)
    return Chip(circuit)


__all__ = [
    "MAX_UNSETTLED",
    "Chip",
    "Equilibrium",
    "IdealProgrammer",
    "OscillatorChip",
    "Programmer",
    "ResistiveChip",
    "Sources",
    "check_unsettled",
    "chip_for",
    "noise_scale",
]
