"""What a host does about samples whose circuit did not settle (shared by every loop)."""

from __future__ import annotations

from neurosim.engine.relax import Equilibrium
from neurosim.errors import ConvergenceError

MAX_UNSETTLED = 0.01  # a step (or a sampler's reading) may leave out at most this share


def check_unsettled(
    left_out: int, batch: int, phase: str, *equilibria: Equilibrium, share: float = MAX_UNSETTLED
) -> None:
    """Raise :class:`ConvergenceError` if more than ``share`` of ``batch`` samples were
    left out; the message summarises the first of ``equilibria`` (the ``phase`` phases)
    that did not all settle."""
    if left_out > share * batch:
        failed = next((eq for eq in equilibria if not eq.ok), equilibria[0])
        raise ConvergenceError(
            f"{left_out} of {batch} samples did not settle ({phase} phase; at most "
            f"{share:.0%} may be left out): {failed.summary()}"
        )
