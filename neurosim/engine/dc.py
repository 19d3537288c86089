"""DC operating points of any lowered circuit by damped Newton on the MNA equations.

This is the general (element-table) solver: exact for every element neurosim reads,
and the reference the fast crossbar engine is tested against. Cost grows with the
number of elements; for batches of network equilibria use the crossbar engine.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg as spla

from neurosim.engine.status import Status
from neurosim.errors import ConvergenceError
from neurosim.lower.mna import MnaSystem


@dataclass(frozen=True)
class OperatingPoint:
    """A DC solution: ``x`` (unknowns), node ``voltages`` [V], branch ``currents`` [A]."""

    x: np.ndarray
    voltages: dict[str, float]
    currents: dict[str, float]
    iterations: int
    residual: float  # max |F(x)| over all rows (amperes for node rows, volts for branches)
    status: Status


def solve_dc(
    system: MnaSystem,
    x0: np.ndarray | None = None,
    *,
    tol: float = 1e-15,
    step_tol: float = 1e-14,
    max_iterations: int = 200,
    throw: bool = True,
) -> OperatingPoint:
    """Newton's method with backtracking on ``‖F‖``, starting from ``x0`` (default 0).

    Stops when the residual is below ``tol`` (A or V) or the update is below
    ``step_tol · (1 + ‖x‖∞)``. With ``throw`` a failure raises ``ConvergenceError``.
    """
    x = np.zeros(system.size) if x0 is None else np.array(x0, dtype=float)
    residual = _safe_residual(system, x)
    status, iterations = Status.MAX_ITERATIONS, 0
    while iterations < max_iterations:
        iterations += 1
        if not np.all(np.isfinite(residual)):
            status = Status.NON_FINITE
            break
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", spla.MatrixRankWarning)
                step = spla.spsolve(system.jacobian(x), -residual)
        except (spla.MatrixRankWarning, RuntimeError):
            status = Status.SINGULAR
            break
        if not np.all(np.isfinite(step)):
            status = Status.SINGULAR
            break
        x, residual, accepted = _line_search(system, x, step, residual)
        if not accepted:
            status = Status.STALLED
            break
        small_step = np.max(np.abs(step), initial=0.0) <= step_tol * (1.0 + np.max(np.abs(x)))
        if np.max(np.abs(residual), initial=0.0) <= tol or small_step:
            status = Status.CONVERGED
            break
    norm = float(np.max(np.abs(residual), initial=0.0))
    if throw and not status.ok:
        raise ConvergenceError(f"DC operating point: {status.value} (residual {norm:.3g})")
    return OperatingPoint(x, system.voltages(x), system.currents(x), iterations, norm, status)


def _safe_residual(system: MnaSystem, x: np.ndarray) -> np.ndarray:
    try:
        return system.residual(x)
    except (ArithmeticError, ValueError):
        return np.full(system.size, np.nan)


def _line_search(system: MnaSystem, x: np.ndarray, step: np.ndarray, residual: np.ndarray):
    """Largest of 1, 1/2, 1/4, ... that lowers ‖F‖ (a full step is taken near the root)."""
    norm = np.linalg.norm(residual)
    scale = 1.0
    for _ in range(40):
        trial = x + scale * step
        trial_residual = _safe_residual(system, trial)
        trial_norm = np.linalg.norm(trial_residual)
        if np.isfinite(trial_norm) and (trial_norm < norm or trial_norm == 0.0):
            return trial, trial_residual, True
        scale *= 0.5
    # At round-off level no step lowers the norm: accept the full step if it is tiny.
    if np.max(np.abs(step)) <= 1e-12 * (1.0 + np.max(np.abs(x))):
        return x + step, _safe_residual(system, x + step), True
    return x, residual, False
