"""A certificate that an equilibrium of a circuit without an energy function is stable.

Without an energy, Anderson is a root finder: it can stop on a saddle the circuit's own
dynamics ``τ ds/dt = F(s)`` would leave. At a root, linear stability is a property of
the Jacobian ``J = ∂F/∂s``. The layered crossbar is bipartite (no coupling inside a
colour group), so with ``g_i = GAIN_i + SLOPE_i·ρ'(s_i)`` the injection factor of unit
``i`` and ``r'_j`` the slope of row ``j``'s value (ρ', or 0 where its driver clips):

    J_ii = −D_i + (net_i + b_i)·SLOPE_i·ρ''(s_i),   J_ij = g_i·M_ji·r'_j  (i, j in
    different groups; M_ji the effective weight from row j into column i).

Scaling unit ``i`` by ``p_i = sqrt(r'_i/g_i)`` (a similarity, so the spectrum is kept)
gives ``J̃_ij = q_i·M_ji·q_j`` with ``q = sqrt(g·r')`` — symmetric for a reciprocal
circuit, and for a mismatched one its symmetric part has the averaged weights
``(M_ji + M_ij)/2``. Every eigenvalue of J has a real part at most the largest
eigenvalue of that symmetric part, so if ``−sym(J̃)`` is positive definite the
equilibrium is stable. ``−sym(J̃) = [[A, −B], [−Bᵀ, C]]`` with A, C diagonal, so the test
is A > 0, C > 0 and a Cholesky factor of the smaller group's Schur complement.

The test is sufficient, not necessary: where it fails (strong mismatch, a unit with
``g·r' < 0``), the caller settles the sample by the circuit's own dynamics instead.
"""

from __future__ import annotations

import numpy as np

from neurosim.engine import _kernels as kernels
from neurosim.engine.newton import curvature

CHUNK = 256  # samples per stacked Cholesky (memory: CHUNK · group² floats)


def linearisation(work, s: np.ndarray):
    """The parts of J = ∂F/∂s at ``s`` (batch, free) (module docstring), float64 (batch,
    free) each: ``diag`` = −J_ii, ``gain`` g and ``row_slope`` r'. ``work`` (a
    :class:`neurosim.engine.workspace.Workspace` of the same rows) is left holding the
    activations of ``s``."""
    t = work.tables
    s = np.asarray(s)
    work.force(s, np.empty_like(s), np.empty(s.shape[0]))
    unit = np.asarray(t.unit, dtype=np.float64)
    n_e = t.free_e
    n_o = s.shape[1] - n_e
    state = np.asarray(s, dtype=np.float64)
    slope = np.asarray(work.slope_of, dtype=np.float64)
    act = np.concatenate([work.act_e[:, :n_e], work.act_o[:, :n_o]], axis=1)
    net = np.concatenate([work.net_e, work.net_o], axis=1).astype(np.float64)
    clipped = (act <= unit[kernels.LOW]) | (act >= unit[kernels.HIGH])  # ±inf: never
    row_slope = np.where(clipped, 0.0, slope)
    gain = unit[kernels.GAIN] + unit[kernels.SLOPE] * slope
    diag = unit[kernels.DIAG] - (net + unit[kernels.BIAS]) * unit[kernels.SLOPE] * curvature(
        state, t.code
    )
    return diag, gain, row_slope


def certified(work, s: np.ndarray) -> np.ndarray:
    """(batch,) bool: True where the state ``s`` (batch, free) of ``work`` (a
    :class:`neurosim.engine.workspace.Workspace` of the same rows) passes the stability
    certificate above. ``work`` is left holding the activations of ``s``."""
    t = work.tables
    diag, gain, row_slope = linearisation(work, s)
    state = np.asarray(s, dtype=np.float64)
    n_e = t.free_e
    n_o = s.shape[1] - n_e
    product = gain * row_slope
    ok = np.all(product >= 0.0, axis=1) & np.all(diag > 0.0, axis=1)
    ok &= np.all(np.isfinite(state), axis=1)
    q = np.sqrt(np.maximum(product, 0.0))
    m_oe = np.asarray(t.m_oe[:n_o], dtype=np.float64)
    m_eo = np.asarray(t.m_eo[:n_e], dtype=np.float64)
    weights = 0.5 * (m_oe.T + m_eo)  # (n_e, n_o), the symmetric part's averaged weights
    if n_e == 0 or n_o == 0:
        return ok
    # −sym(J̃) = [[A, −B], [−Bᵀ, C]] ≻ 0  ⟺  ‖K‖₂ < 1, K = diag(q_e/√a)·W·diag(q_o/√c)
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.where(ok[:, None], q[:, :n_e] / np.sqrt(diag[:, :n_e]), 0.0)
        right = np.where(ok[:, None], q[:, n_e:] / np.sqrt(diag[:, n_e:]), 0.0)
    # first a bound at O(n) per sample: ‖K‖₂ ≤ max(q_e/√a)·‖W‖₂·max(q_o/√c)
    bound = np.max(left, axis=1) * np.linalg.norm(weights, 2) * np.max(right, axis=1)
    exact = np.flatnonzero(ok & ~(bound < 1.0))
    for part in np.array_split(exact, max(1, -(-exact.size // CHUNK))):
        if part.size:
            ok[part] = _contracts(left[part], weights, right[part])
    return ok


def _contracts(left: np.ndarray, weights: np.ndarray, right: np.ndarray) -> np.ndarray:
    """‖diag(left_k)·W·diag(right_k)‖₂ < 1 per sample k: a Cholesky factor of
    I − KᵀK (or I − KKᵀ, the smaller), i.e. of the Schur complement."""
    k = left[:, :, None] * weights[None] * right[:, None, :]  # (samples, n_e, n_o)
    small = k.shape[2] <= k.shape[1]
    gram = np.matmul(k.transpose(0, 2, 1), k) if small else np.matmul(k, k.transpose(0, 2, 1))
    schur = -gram
    diagonal = np.arange(schur.shape[1])
    schur[:, diagonal, diagonal] += 1.0
    out = np.zeros(len(schur), dtype=bool)
    for index, matrix in enumerate(schur):
        try:
            np.linalg.cholesky(matrix)
            out[index] = True
        except np.linalg.LinAlgError:
            pass
    return out
