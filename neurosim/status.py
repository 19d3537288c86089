"""Solver outcomes: an enum whose values are messages a user can act on."""

from __future__ import annotations

from enum import Enum

import numpy as np


class Status(Enum):
    """Why a solve stopped."""

    CONVERGED = "converged"
    MAX_ITERATIONS = (
        "the maximum number of iterations was reached before the tolerance; "
        "try a larger max_iterations or check the circuit for several equilibria"
    )
    MAX_PASSES = (
        "the pass budget ran out before the tolerance; raise max_passes (--max-passes) "
        "or loosen the tolerance (--tol)"
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


def status_codes(statuses: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """(n,) Status objects -> int8 codes and the member names they index (for files)."""
    names = tuple(member.name for member in Status)
    index = {member: k for k, member in enumerate(Status)}
    return np.array([index[s] for s in statuses], dtype=np.int8), names


def statuses_from_codes(codes: np.ndarray, names) -> np.ndarray:
    """Inverse of :func:`status_codes` (``names`` as stored), (n,) Status objects."""
    members = [Status[str(name)] for name in names]
    return np.array([members[int(c)] for c in codes], dtype=object)


def sample_status(residual: np.ndarray, tolerance: float) -> np.ndarray:
    """(batch,) :class:`Status` of relaxations that stopped with ``residual`` (max |F|):
    converged within ``tolerance``, non-finite, else out of passes (a relaxation stops
    only on one of these)."""
    residual = np.asarray(residual, dtype=np.float64)
    out = np.full(residual.shape, Status.MAX_PASSES, dtype=object)
    out[~np.isfinite(residual)] = Status.NON_FINITE
    out[residual <= tolerance] = Status.CONVERGED
    return out
