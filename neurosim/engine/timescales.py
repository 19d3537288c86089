"""How long the hardware takes to settle: the circuit's slowest time constant there.

Near an equilibrium s* the dynamics ``τ ds/dt = F(s)`` are linear,
``d(s − s*)/dt = A (s − s*)`` with ``A = diag(1/τ)·∂F/∂s`` [1/s]. Every mode of a
stable equilibrium decays at least as fast as the slowest, at the rate
``λ = min −Re eig(A)``; the residual current, ``r0 = max |F(s0)|`` at the start, falls
to the tolerance after about

    t = ln(r0 / tol) / λ                                    [s]

— the time a host must wait before it reads. The estimate is the linear tail's: the
nonlinear start is ignored, and the slowest mode is assumed to carry the residual.
Against the first time the real transient's residual stays below 1e-6 (RK45) it
measured 0.90–1.27 times on the EqM-trained digits circuit (8 relaxations) and
0.49–1.54 times (median 1.0) on small random flow circuits (36; the test's case).

``A`` is the forward-difference Jacobian of the net currents (one batched engine pass
over free + 1 states per sample); λ comes from inverse iteration (an LU factor
of A, the Rayleigh quotient of the converged vector), with a full eigen-decomposition
where that does not converge (a complex pair, or two modes of equal rate).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from neurosim.engine.relax import net_current, residual
from neurosim.engine.sources import Sources
from neurosim.lower.crossbar import Crossbar

STEP = 1e-6  # forward-difference step of the Jacobian, model units
ITERATIONS = 60  # of inverse iteration before the eigen-decomposition fallback
CONVERGED = 1e-5  # relative eigen-residual ‖Av − λv‖/‖Av‖ accepted (λ to ~1e-5)


def jacobians(crossbar: Crossbar, sources: Sources, state: np.ndarray) -> np.ndarray:
    """A = diag(1/τ)·∂F/∂s at ``state`` (batch, free): (batch, free, free) [1/s], by
    forward differences (one engine pass over free + 1 states per sample)."""
    batch, free = state.shape
    shifted = np.repeat(state, free + 1, axis=0).reshape(batch, free + 1, free)
    shifted[:, np.arange(free), np.arange(free)] += STEP  # the last row stays at s
    repeated = sources.rows(np.repeat(np.arange(batch), free + 1))
    f = net_current(crossbar, repeated, shifted.reshape(-1, free)).reshape(batch, free + 1, free)
    derivative = (f[:, :free] - f[:, free:]).transpose(0, 2, 1) / STEP  # [i, j] = ∂F_i/∂s_j
    return derivative / crossbar.tau[None, :, None]


def slowest_rate(a: np.ndarray) -> float:
    """min −Re eig(``a``) of one (free, free) matrix [1/s] (module docstring)."""
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            factor = scipy.linalg.lu_factor(a, check_finite=False)
        except (ValueError, np.linalg.LinAlgError):
            factor = None
        if factor is not None and np.all(np.isfinite(factor[0])):
            v = np.ones(a.shape[0]) / np.sqrt(a.shape[0])
            for _ in range(ITERATIONS):
                w = scipy.linalg.lu_solve(factor, v, check_finite=False)
                v = w / np.linalg.norm(w)
                av = a @ v
                rate = float(v @ av)
                if np.linalg.norm(av - rate * v) <= CONVERGED * np.linalg.norm(av):
                    return -rate
        return float(np.min(-np.linalg.eigvals(a).real))


def settling_estimate(
    crossbar: Crossbar,
    sources: Sources,
    start: np.ndarray,
    state: np.ndarray,
    tolerance: float,
) -> np.ndarray:
    """Per sample (batch,) [s]: ln(r0/tol)/λ for relaxations from ``start`` to the
    equilibrium ``state`` (batch, free) (module docstring); 0 where the start already
    meets ``tolerance``, NaN where the equilibrium is not stable (λ ≤ 0)."""
    if not (np.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be > 0, not {tolerance!r}")
    r0 = residual(crossbar, sources, np.asarray(start, dtype=np.float64))
    rates = np.array([slowest_rate(a) for a in jacobians(crossbar, sources, state)])
    decades = np.log(np.maximum(r0, tolerance) / tolerance)
    return np.where(rates > 0, decades / np.where(rates > 0, rates, 1.0), np.nan)
