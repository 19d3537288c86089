"""Energy-safeguarded Newton steps for the slow samples of a relaxation (SB law).

Trained networks grow a few samples whose fixed-point iteration is slow (measured on
the digits network at epoch 300: median 63 Anderson passes, the slowest 2,020), while
the Jacobian there is well conditioned; one or two Newton steps finish them. Under the
Scellier–Bengio law ``F = −∇E``, and the layered circuit is bipartite, so the Hessian
``H = −∂F/∂s`` is

    H = [[A, B], [Bᵀ, C]],   A, C diagonal (no coupling inside a colour group),

    A_ii = D_i − (net_i + b_i)·ρ''(s_i),   B_ij = −ρ'(s_i)·M_ij·ρ'(s_j)

(D: leak + spring + nudge; linear units have ρ' = 1, ρ'' = 0). The step solves
``H δ = F`` through the Schur complement ``S = C − Bᵀ A⁻¹ B`` (a Cholesky factor of
the odd group's size) and is taken only where A > 0 and S is positive definite — then
δ descends E — with a backtracking line search that must lower E. Samples where that
fails are left to the fixed-point iteration. (A saddle-free step where H is indefinite
— the slowest samples of a trained digits network sit near a fold of E — was tried: it
moved samples across the fold into other minima, nudged phases then settled in other
basins than their free phase, and the main job's samples scored FD 0.62 instead of
0.43.)
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from neurosim.circuit.activations import get_activation
from neurosim.engine import _kernels as kernels
from neurosim.lower.crossbar import ACTIVATION_CODES, LINEAR

LINE_SEARCH_HALVINGS = 4
NEWTON_STEPS = 3


def curvature(s: np.ndarray, code: np.ndarray) -> np.ndarray:
    """ρ''(s) elementwise, for units with activation ``code`` (``ACTIVATION_CODES``):
    the activations' own ρ″ (:mod:`neurosim.circuit.activations`)."""
    out = np.zeros_like(s)
    for name, number in ACTIVATION_CODES.items():
        here = code == number
        if number != LINEAR and np.any(here):
            out[..., here] = get_activation(name).d2rho(s[..., here])
    return out


def newton_directions(work, s: np.ndarray, f: np.ndarray, rows: np.ndarray):
    """Newton steps δ (len(rows), free) for ``rows`` of the tile, and which are valid.

    ``work`` (a :class:`neurosim.engine.workspace.Workspace`) must hold the activations,
    slopes and column inputs of ``s``; ``f`` is F(s) (tile, free).
    """
    t = work.tables
    unit = t.unit
    n_e = t.free_e
    free = s.shape[1]
    n_o = free - n_e
    sub = s[rows]
    slope = work.slope_of[rows]
    net = np.concatenate([work.net_e[rows], work.net_o[rows]], axis=1)
    bend = curvature(sub, t.code) * unit[kernels.SLOPE]
    diag = unit[kernels.DIAG] - (net + unit[kernels.BIAS]) * bend
    gain = unit[kernels.GAIN] + unit[kernels.SLOPE] * slope
    # B[i, j] = −gain_i · m_oe[j, i] · ρ'_j for even i, odd j (the odd group's free rows)
    coupling = np.asarray(t.m_oe[:n_o], dtype=np.float64).T
    b = -(gain[:, :n_e, None] * coupling[None] * slope[:, None, n_e:])
    a = diag[:, :n_e]
    valid = np.all(a > 0.0, axis=1)
    delta = np.zeros_like(sub)
    for k in np.flatnonzero(valid):
        scaled = b[k] / a[k][:, None]  # A⁻¹B
        schur = np.diag(diag[k, n_e:]) - b[k].T @ scaled
        f_e, f_o = f[rows[k], :n_e], f[rows[k], n_e:]
        try:
            factor = scipy.linalg.cho_factor(schur, check_finite=False)
        except np.linalg.LinAlgError:
            valid[k] = False
            continue
        d_o = scipy.linalg.cho_solve(factor, f_o - scaled.T @ f_e, check_finite=False)
        delta[k, n_e:] = d_o
        delta[k, :n_e] = (f_e - b[k] @ d_o) / a[k]
    valid &= np.all(np.isfinite(delta), axis=1)
    return delta, valid


def polish(
    work, s: np.ndarray, rows: np.ndarray, tol: float, slack: float
) -> tuple[np.ndarray, int]:
    """Up to ``NEWTON_STEPS`` Newton steps on ``rows`` of the tile state ``s`` (updated
    in place) while their residual exceeds ``tol``; each step is accepted only if it does
    not raise E beyond round-off (``slack`` relative), backtracking
    ``LINE_SEARCH_HALVINGS`` times. Returns the rows that moved and the passes spent;
    ``work`` is left holding ρ(s) and ρ'(s)."""
    f = np.empty_like(s)
    residual = np.empty(s.shape[0])
    energy = np.empty(s.shape[0])

    def evaluate(state: np.ndarray) -> np.ndarray:
        work.force(state, f, residual)
        work.energies(state, energy)
        return energy.copy()

    moved, passes = [], 0
    trial = s.copy()
    for _ in range(NEWTON_STEPS):
        start = evaluate(s)
        passes += 1
        rows = rows[residual[rows] > tol]
        if rows.size == 0:
            break
        delta, valid = newton_directions(work, s, f, rows)
        pending, delta = rows[valid], delta[valid]
        rows = pending
        step = 1.0
        for _ in range(LINE_SEARCH_HALVINGS + 1):
            if pending.size == 0:
                break
            trial[pending] = s[pending] + step * delta
            trial_energy = evaluate(trial)
            passes += 1
            bound = start[pending] + slack * (1.0 + np.abs(start[pending]))
            lower = trial_energy[pending] <= bound
            s[pending[lower]] = trial[pending[lower]]
            moved.append(pending[lower])
            trial[pending] = s[pending]
            pending, delta = pending[~lower], delta[~lower]
            step *= 0.5
        rows = np.setdiff1d(rows, pending)  # a step that found no descent ends that row
    work.activate(s)
    return (np.unique(np.concatenate(moved)) if moved else rows[:0]), passes
