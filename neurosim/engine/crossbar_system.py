"""The crossbar family as a :class:`neurosim.engine.system.System`, and its fast path.

:class:`CrossbarSystem` wraps a lowered :class:`neurosim.lower.crossbar.Crossbar`
(ideal, mismatched or wired): its field is one engine pass (two GEMMs and one fused
Numba kernel, :mod:`neurosim.engine.workspace`), its energy the kernels' own, its
Jacobian the bipartite one of :mod:`neurosim.engine.stability` (which also certifies
its equilibria), its guide the reciprocal part. Its runner settles a batch in tiles on
every core with the kernels' Anderson and plain steps (the methods are described in
:mod:`neurosim.engine.relax`); slow samples of a tile get Newton steps
(:mod:`neurosim.engine.newton`) under the Scellier–Bengio law.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
from threadpoolctl import threadpool_limits

from neurosim.engine import _kernels as kernels
from neurosim.engine import newton, stability
from neurosim.engine.energy import energy
from neurosim.engine.readout import node_voltages
from neurosim.engine.shards import run_tiles, tile_slices
from neurosim.engine.sources import Sources, sources_from_settings
from neurosim.engine.workspace import Tables, Workspace, energy_law
from neurosim.lower.crossbar import Crossbar

# relative energy rise Anderson treats as round-off, by precision
ENERGY_SLACK = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
REGULARISATION = 1e-10
POLISH_AFTER = 40  # passes before (and between) Newton polishes of a tile's slow samples
POLISH_SHARE = 0.1  # ... once at most this share of the tile (or one sample) is still active


@dataclass(frozen=True)
class CrossbarSystem:
    """A lowered crossbar as the engine sees it; sources are
    :class:`neurosim.engine.sources.Sources`, states (batch, free) in model units in the
    flat order of :meth:`Crossbar.free_slices`."""

    crossbar: Crossbar

    @property
    def free(self) -> int:
        return self.crossbar.free

    @cached_property  # a system is built per relax call: the crossbar holds still
    def has_energy(self) -> bool:
        return energy_law(self.crossbar) != kernels.NO_ENERGY

    def labels(self) -> list[str]:
        layout = self.crossbar.layout
        if layout is not None:
            return list(layout.units)
        return [
            f"{name}_{i}"
            for name, where in self.crossbar.free_slices().items()
            for i in range(where.stop - where.start)
        ]

    def field(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        return _force(self.crossbar, sources, state)[0]

    def energy(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        return energy(self.crossbar, sources, state)

    def jvp(self, sources: Sources, state: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """J·v = −diag·v + g ⊙ (couplings of r' ⊙ v) (:mod:`neurosim.engine.stability`)."""
        work, s = self._workspace(sources, state)
        diag, gain, row_slope = stability.linearisation(work, s)
        v = np.asarray(direction, dtype=np.float64)
        t, n_e = work.tables, work.tables.free_e
        n_o = s.shape[1] - n_e
        driven = row_slope * v
        coupled = np.concatenate(
            [driven[:, n_e:] @ t.m_oe[:n_o], driven[:, :n_e] @ t.m_eo[:n_e]], axis=1
        )
        return -diag * v + gain * coupled

    def jacobian(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """J = ∂F/∂s (batch, free, free) at ``state`` (batch, free), dense: the blocks of
        :mod:`neurosim.engine.stability` (no coupling inside an even or odd group)."""
        work, s = self._workspace(sources, state)
        diag, gain, row_slope = stability.linearisation(work, s)
        t, n_e = work.tables, work.tables.free_e
        n_o = s.shape[1] - n_e
        m_oe = np.asarray(t.m_oe[:n_o], dtype=np.float64)  # rows of o onto columns of e
        m_eo = np.asarray(t.m_eo[:n_e], dtype=np.float64)
        jac = np.zeros((s.shape[0], s.shape[1], s.shape[1]))
        jac[:, :n_e, n_e:] = gain[:, :n_e, None] * m_oe.T[None] * row_slope[:, None, n_e:]
        jac[:, n_e:, :n_e] = gain[:, n_e:, None] * m_eo.T[None] * row_slope[:, None, :n_e]
        jac[:, np.arange(s.shape[1]), np.arange(s.shape[1])] -= diag
        return jac

    def unit_gains(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """Each free unit's injection factor g = ∂F_i/∂(column current) (batch, free):
        ρ'(s_i) under the Scellier–Bengio law, 1 under the Hopfield law."""
        work, s = self._workspace(sources, state)
        return stability.linearisation(work, s)[1]

    def diagonal(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        work, s = self._workspace(sources, state)
        return stability.linearisation(work, s)[0]

    def stable(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """The certificate in the precision of ``state`` (the run's)."""
        work, s = self._workspace(sources, state, np.asarray(state).dtype)
        return stability.certified(work, s)

    def guide(self) -> CrossbarSystem | None:
        """The reciprocal part where mismatched arrays are all that break the energy."""
        if self.has_energy:
            return None
        part = reciprocal_part(self.crossbar)
        return CrossbarSystem(part) if energy_law(part) != kernels.NO_ENERGY else None

    def runner(self, sources: Sources, dtype, tol, threads, tile_rows, report) -> _Runner:
        tables = Tables.build(self.crossbar, sources.nudge, np.dtype(dtype))
        return _Runner(self.crossbar, tables, tol, threads, tile_rows, report)

    def sources_from_settings(self, settings) -> Sources:
        """:func:`neurosim.engine.sources.sources_from_settings` of this crossbar."""
        return sources_from_settings(self.crossbar, settings)

    def node_voltages(self, sources: Sources, state: np.ndarray) -> dict[str, np.ndarray]:
        """:func:`neurosim.engine.readout.node_voltages` of this crossbar."""
        return node_voltages(self.crossbar, sources, state)

    def _workspace(self, sources: Sources, state: np.ndarray, dtype=np.float64):
        s = np.ascontiguousarray(state, dtype=dtype)
        tables = Tables.build(self.crossbar, sources.nudge, dtype)
        return Workspace(self.crossbar, tables, sources, slice(0, sources.batch)), s


def reciprocal_part(crossbar: Crossbar) -> Crossbar:
    """``crossbar`` with each coupling's two arrays replaced by their mean (it has an
    energy function where arrays that differ — mismatch, wire resistance — were all
    that kept ``crossbar`` from one)."""
    n_e, n_o = crossbar.even.free, crossbar.odd.free
    mean = 0.5 * (crossbar.m_eo[:n_e] + crossbar.m_oe[:n_o].T)
    m_eo, m_oe = crossbar.m_eo.copy(), crossbar.m_oe.copy()
    m_eo[:n_e], m_oe[:n_o] = mean, mean.T
    return replace(crossbar, m_eo=m_eo, m_oe=m_oe)


def _force(crossbar: Crossbar, sources: Sources, state: np.ndarray):
    """F(s) (batch, free) and max_i |F_i| (batch,) in one pass, BLAS on one thread."""
    state = np.ascontiguousarray(state, dtype=np.float64)
    tables = Tables.build(crossbar, sources.nudge, np.float64)
    work = Workspace(crossbar, tables, sources, slice(0, sources.batch))
    out, worst = np.empty_like(state), np.empty(sources.batch)
    with threadpool_limits(limits=1, user_api="blas"):  # idle BLAS threads slow relax
        work.force(state, out, worst)
    return out, worst


class _Runner:
    """Runs one method on a batch in tiles on all cores; returns state, residual, passes."""

    methods = frozenset({"anderson", "gradient"})  # Newton only polishes inside anderson

    def __init__(self, crossbar, tables, tol, threads, tile_rows, report) -> None:
        self.crossbar, self.tables, self.tol = crossbar, tables, tol
        self.threads, self.tile_rows, self.report = threads, tile_rows, report

    def safe_step(self) -> float:
        """A plain step small enough to be stable on each node: min(0.1, 1/max D)."""
        return min(0.1, 1.0 / float(np.max(self.tables.unit[kernels.DIAG])))

    def __call__(self, sources, start, method, budget, option):
        """``method`` on ``sources`` from ``start`` for at most ``budget`` passes."""
        tol, report = self.tol, self.report
        batch = sources.batch
        state = np.array(start, copy=True)
        residual = np.full(batch, np.inf, dtype=np.float64)
        passes = np.zeros(batch, dtype=np.int64)

        def tile(rows: slice) -> None:
            work = Workspace(self.crossbar, self.tables, sources, rows)
            part = np.ascontiguousarray(state[rows])
            work.activate(part)
            loop = _anderson if method == "anderson" else _gradient
            loop(work, part, tol, budget, option, residual[rows], passes[rows], report)
            state[rows] = part

        run_tiles(tile, tile_slices(batch, self.tile_rows), self.threads)
        return state, residual, passes


def _anderson(work, s, tol, max_passes, depth, residual, passes, report) -> int:
    batch, free = s.shape
    d_f = np.empty((batch, depth, free), dtype=s.dtype)
    d_g = np.empty_like(d_f)
    gram = np.zeros((batch, depth, depth))
    f_prev = np.empty_like(s)
    g_prev = np.empty_like(s)
    count = np.zeros(batch, dtype=np.int64)
    progress = np.zeros((batch, 4))
    progress[:, kernels.MERIT] = np.inf
    progress[:, kernels.BEST] = np.inf
    progress[:, kernels.DAMPING] = 1.0
    t = work.tables
    slack = ENERGY_SLACK[s.dtype]

    def polish(active: np.ndarray) -> int:
        """Newton steps for the slow samples (SB law only); their Anderson restarts."""
        moved, used = newton.polish(work, s, np.flatnonzero(active), tol, slack)
        count[moved] = 0
        progress[moved, kernels.MERIT] = np.inf
        progress[moved, kernels.SINCE_BEST] = 0.0
        f_prev[moved] = 0.0
        g_prev[moved] = s[moved]
        return used

    history = kernels.History(d_f, d_g, gram, f_prev, g_prev, count, progress)
    return _loop(
        work,
        s,
        max_passes,
        passes,
        report,
        lambda active, shard_residual: kernels.anderson_step(
            s,
            work.tile,
            work.units,
            history,
            tol,
            active,
            shard_residual,
            REGULARISATION,
            slack,
        ),
        residual,
        polish if t.energy_law == kernels.SB_ENERGY else None,
    )


def _gradient(work, s, tol, max_passes, step, residual, passes, report) -> int:
    return _loop(
        work,
        s,
        max_passes,
        passes,
        report,
        lambda active, shard_residual: kernels.gradient_step(
            s, work.tile, work.units, step, tol, active, shard_residual
        ),
        residual,
    )


def _loop(work, s, max_passes, passes, report, step, residual, polish=None) -> int:
    """Run ``step`` (one kernel call) after each pass's GEMMs until all samples stop.

    ``polish(active) -> passes`` (Newton, :mod:`neurosim.engine.newton`) runs on the
    samples still active once few are left (``POLISH_SHARE`` of the tile, or one) after
    ``POLISH_AFTER`` passes, and again every ``POLISH_AFTER`` passes. Once at most half
    the tile is active the GEMMs run on the active rows only.
    """
    active = np.ones(s.shape[0], dtype=np.bool_)
    total = 0
    last_polish = 0
    while total < max_passes and active.any():
        if (
            polish is not None
            and total - last_polish >= POLISH_AFTER
            and np.count_nonzero(active) <= max(1.0, POLISH_SHARE * active.size)
        ):
            with np.errstate(all="ignore"):
                total += polish(active)
            last_polish = total
        with np.errstate(all="ignore"):  # NaN/inf end up in the status, not in warnings
            work.columns(active)
        was_active = active.copy()
        step(active, residual)
        total += 1
        passes[was_active] = total
        report.add(int(np.sum(was_active & ~active)))
    if active.any():  # out of passes: report the residual of the state actually returned
        final = np.empty(s.shape[0])
        work.force(s, np.empty_like(s), final)
        residual[active] = final[active]
    return total
