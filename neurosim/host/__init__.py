"""The hardware host: the simulated chip and what a host beside it can do (DESIGN §2)."""

from neurosim.engine.relax import Equilibrium
from neurosim.engine.sources import Sources
from neurosim.host.chip import Chip
from neurosim.host.programming import IdealProgrammer, Programmer
from neurosim.host.settling import MAX_UNSETTLED, check_unsettled

__all__ = [
    "MAX_UNSETTLED",
    "Chip",
    "Equilibrium",
    "IdealProgrammer",
    "Programmer",
    "Sources",
    "check_unsettled",
]
