"""Solver outcomes: an enum whose values are messages a user can act on."""

from __future__ import annotations

from enum import Enum


class Status(Enum):
    """Why a solve stopped."""

    CONVERGED = "converged"
    MAX_ITERATIONS = (
        "the maximum number of iterations was reached before the tolerance; "
        "try a larger max_iterations or check the circuit for several equilibria"
    )
    NON_FINITE = (
        "the iteration produced NaN or inf (an expression or its derivative is undefined "
        "on the way, e.g. sqrt or division at 0); check element values and inputs"
    )
    SINGULAR = "the Jacobian is singular: a node may have no DC path to ground"
    STALLED = (
        "no step reduced the residual (line search failed); the circuit may have no equilibrium"
    )

    @property
    def ok(self) -> bool:
        """True only for :attr:`CONVERGED`."""
        return self is Status.CONVERGED
