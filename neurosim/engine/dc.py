"""DC operating points of any lowered circuit by damped Newton on the MNA equations.

This is the general (element-table) solver: exact for every element neurosim reads,
and the reference the fast crossbar engine is tested against. Newton starts from
``x0`` (default 0, as ngspice does). When it fails, the fallbacks are ngspice's own:
gmin stepping (a shunt on every node, each node's shunt proportional to its largest
conductance, relaxed from 1x to 0 in decades, each step solved by Newton from the last),
then source stepping (every independent source ramped from 0 to its value). Cost grows
with the number of elements.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from neurosim.errors import ConvergenceError
from neurosim.lower.mna import MnaSystem
from neurosim.status import Status

MIN_SOURCE_STEP = 1e-4
TOLERANCE = 1e-15  # the residual (A at nodes, V on branches) solve_dc stops at


@dataclass(frozen=True)
class OperatingPoint:
    """A DC solution: ``x`` (unknowns), node ``voltages`` [V], branch ``currents`` [A]."""

    x: np.ndarray
    voltages: dict[str, float]
    currents: dict[str, float]
    iterations: int
    residual: float  # max |F(x)| over all rows (amperes for node rows, volts for branches)
    status: Status


PLAIN_STEPS = 3  # undamped Newton steps in a row allowed when the line search fails


@dataclass(frozen=True)
class _Newton:
    """Newton's method on ``F(x) + shunt·d⊙x`` with sources scaled (one homotopy point)."""

    system: MnaSystem
    weights: np.ndarray
    tol: float
    step_tol: float
    max_iterations: int
    shunt: float = 0.0

    def with_shunt(self, shunt: float) -> _Newton:
        return replace(self, shunt=shunt)

    def norm(self, residual: np.ndarray) -> float:
        with np.errstate(over="ignore"):  # a wild trial's norm is inf: the search halves it
            return float(np.linalg.norm(self.weights * residual))

    def solve(self, x: np.ndarray, scale: float) -> tuple[np.ndarray, Status, int]:
        """Newton from ``x`` with sources scaled by ``scale``."""
        residual = self.residual(x, scale)
        plain = 0  # full steps taken in a row where no damped step lowered ‖F‖
        for iteration in range(1, self.max_iterations + 1):
            if not np.all(np.isfinite(residual)):
                return x, Status.NON_FINITE, iteration
            if np.max(np.abs(residual), initial=0.0) <= self.tol:
                return x, Status.CONVERGED, iteration  # no step needed (nor a Jacobian)
            try:
                jacobian = self.jacobian(x)
            except (ArithmeticError, ValueError):
                return x, Status.NON_FINITE, iteration
            if not np.all(np.isfinite(jacobian.data)):
                return x, Status.NON_FINITE, iteration
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", spla.MatrixRankWarning)
                    step = spla.spsolve(jacobian, -residual)
            except (spla.MatrixRankWarning, RuntimeError):
                return x, Status.SINGULAR, iteration
            if not np.all(np.isfinite(step)):
                return x, Status.SINGULAR, iteration
            accepted = self.line_search(x, step, residual, scale)
            if accepted is None:
                # a jump the linearisation cannot see (nint, floor, u, a comparison): take
                # the full step as SPICE's plain Newton does, a few times in a row at most
                plain += 1
                trial = x + step
                accepted = (trial, self.residual(trial, scale))
                if plain > PLAIN_STEPS or not np.all(np.isfinite(accepted[1])):
                    return x, Status.STALLED, iteration
            else:
                plain = 0
            x, residual = accepted
            small_step = np.max(np.abs(step), initial=0.0) <= self.step_tol * (
                1.0 + np.max(np.abs(x), initial=0.0)
            )
            if np.max(np.abs(residual), initial=0.0) <= self.tol or small_step:
                return x, Status.CONVERGED, iteration
        return x, Status.MAX_ITERATIONS, self.max_iterations

    @cached_property
    def shunts(self) -> np.ndarray:
        """Shunt conductance per unknown: ``shunt / weight`` on nodes, 0 on branches."""
        out = np.zeros(self.system.size)
        nodes = self.system.node_count
        out[:nodes] = self.shunt / self.weights[:nodes]
        return out

    def jacobian(self, x: np.ndarray):
        with np.errstate(all="ignore"):  # a non-finite entry is caught by the caller
            jacobian = self.system.jacobian(x)
        if self.shunt:
            jacobian = (jacobian + sp.diags(self.shunts)).tocsc()
        return jacobian

    def residual(self, x: np.ndarray, scale: float) -> np.ndarray:
        try:
            with np.errstate(all="ignore"):  # a non-finite residual is caught by the caller
                residual = self.system.residual(x, scale)
        except (ArithmeticError, ValueError):
            return np.full(self.system.size, np.nan)
        return residual + self.shunts * x if self.shunt else residual

    def line_search(self, x, step, residual, scale):
        """Largest of 1, 1/2, 1/4, ... that lowers the row-scaled ‖F‖, or None."""
        norm = self.norm(residual)
        fraction = 1.0
        for _ in range(40):
            trial = x + fraction * step
            trial_residual = self.residual(trial, scale)
            trial_norm = self.norm(trial_residual)
            if np.isfinite(trial_norm) and (trial_norm < norm or trial_norm == 0.0):
                return trial, trial_residual
            fraction *= 0.5
        # At round-off level no step lowers the norm: accept the full step if it is tiny.
        if np.max(np.abs(step)) <= 1e-12 * (1.0 + np.max(np.abs(x))):
            return x + step, self.residual(x + step, scale)
        return None


def solve_dc(
    system: MnaSystem,
    x0: np.ndarray | None = None,
    *,
    tol: float = TOLERANCE,
    step_tol: float = 1e-14,
    max_iterations: int = 200,
    throw: bool = True,
) -> OperatingPoint:
    """Operating point of ``system`` from ``x0`` (default 0).

    Stops when the residual is below ``tol`` (A or V) or the Newton update is below
    ``step_tol · (1 + ‖x‖∞)``. With ``throw`` a failure raises ``ConvergenceError``.
    """
    newton = _Newton(system, system.row_scale, tol, step_tol, max_iterations)
    start = np.zeros(system.size) if x0 is None else np.array(x0, dtype=float)
    if x0 is None and not np.all(np.isfinite(newton.residual(start, 1.0))):
        start = _linear_start(system, start)
    x, status, iterations = newton.solve(start, 1.0)
    for fallback in (_gmin_stepping, _source_stepping):
        if not status.ok:
            x, status, more = fallback(newton, start)
            iterations += more
    residual = newton.residual(x, 1.0)
    norm = float(np.max(np.abs(residual), initial=0.0))
    if throw and not status.ok:
        raise ConvergenceError(f"DC operating point: {status.value} (residual {norm:.3g})")
    return OperatingPoint(x, system.voltages(x), system.currents(x), iterations, norm, status)


def _linear_start(system: MnaSystem, fallback: np.ndarray) -> np.ndarray:
    """A start where an expression is undefined at 0 V (``ln(v(1))``): the solution of
    the circuit's linear part (behavioural outputs and diode currents at 0), which puts
    the sources' nodes at their values; ``fallback`` if that part is singular."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", spla.MatrixRankWarning)
            x = spla.spsolve(system.matrix.tocsc(), system.rhs)
    except (spla.MatrixRankWarning, RuntimeError):
        return fallback
    return x if np.all(np.isfinite(x)) else fallback


def _gmin_stepping(newton: _Newton, start: np.ndarray) -> tuple[np.ndarray, Status, int]:
    """Shunts from 1x each node's conductance down by decades (finer on failure), then 0."""
    x, status, iterations = newton.with_shunt(1.0).solve(start, 1.0)
    if not status.ok:
        return x, status, iterations
    shunt, factor = 1.0, 10.0
    while shunt > 0.0:
        target = shunt / factor if shunt / factor > 1e-14 else 0.0
        trial, status, used = newton.with_shunt(target).solve(x, 1.0)
        iterations += used
        if status.ok:
            x, shunt, factor = trial, target, min(factor * 2.0, 10.0)
        else:
            factor = factor**0.5
            if factor < 1.0 + 1e-3:
                return x, status, iterations
    return x, Status.CONVERGED, iterations


def _source_stepping(newton: _Newton, start: np.ndarray) -> tuple[np.ndarray, Status, int]:
    """Ramp the sources 0 -> 1, halving the step on failure, growing it on success."""
    x, status, iterations = newton.solve(np.zeros_like(start), 0.0)
    if not status.ok:
        return x, status, iterations
    scale, step = 0.0, 0.1
    while scale < 1.0:
        target = min(1.0, scale + step)
        trial, status, used = newton.solve(x, target)
        iterations += used
        if status.ok:
            x, scale, step = trial, target, min(2.0 * step, 0.5)
        else:
            step *= 0.5
            if step < MIN_SOURCE_STEP:
                return x, status, iterations
    return x, Status.CONVERGED, iterations
