"""The adjoint of a settled circuit: how a readout of its equilibrium moves with θ.

At an equilibrium s* of τ ds/dt = F(s, θ), F(s*, θ) = 0, so a readout L(s*) changes with
a parameter as (implicit function theorem)

    dL/dθ = −∂L/∂s · J⁻¹ · ∂F/∂θ = μᵀ ∂F/∂θ,   Jᵀ μ = −(∂L/∂s)ᵀ,   J = ∂F/∂s at s*.

For a crossbar J_ij = g_i·M_ji·r'_j off the diagonal (:mod:`neurosim.engine.stability`):
Jᵀ is the Jacobian of the same crossbar with each coupling's forward and backward arrays
exchanged (M transposed), linearised at s* (the unit gains g and row slopes r' held) —
the adjoint network of SPICE's sensitivity analysis. It is solved here from the
engine's exact Jacobian. For a reciprocal circuit J is similar to a symmetric matrix,
and μ is (to first order) what EP's nudged phase measures; for a non-reciprocal one EP
measures J⁻¹, not J⁻ᵀ, and only the adjoint gives the gradient. ∂F/∂θ is local: a
device from row j onto the column of unit i contributes g_i·r_j (its row's value times
the unit's injection factor), so dL/dθ = μ_i·g_i·r_j per device
(:meth:`neurosim.host.Chip.adjoint_gradients`).
"""

from __future__ import annotations

import numpy as np

CHUNK = 64  # samples per dense Jacobian (memory: CHUNK · free² floats)


def adjoint_state(system, sources, state: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    """μ (batch, free) with Jᵀμ = ``cotangent`` (batch, free) at each equilibrium of
    ``state`` (batch, free) of ``system`` (one with ``jacobian``); model units."""
    state = np.asarray(state, dtype=np.float64)
    out = np.empty_like(state)
    for start in range(0, state.shape[0], CHUNK):
        rows = slice(start, min(start + CHUNK, state.shape[0]))
        jac = system.jacobian(sources.rows(rows), state[rows])
        out[rows] = np.linalg.solve(jac.transpose(0, 2, 1), cotangent[rows][..., None])[..., 0]
    return out
