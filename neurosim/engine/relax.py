"""Batched equilibria of a crossbar circuit: the state where every unit's KCL holds.

A pass is one evaluation of the column currents for the whole batch: two dense products
(``ρ(even) @ M_eo``, ``ρ(odd) @ M_oe``) and one fused Numba kernel. Methods:

- ``"anderson"``: Anderson acceleration (depth 12) of the Jacobi-preconditioned map
  ``s ← s + F(s)/D``, ``D = leak + spring + nudge`` (each node's conductance to ground
  in units of ``g_unit``), the least-squares mixing solved per sample. It is
  safeguarded by the circuit's energy: a step that raises E (or is not finite) is
  rejected and replaced by a backtracking plain step, so accepted states descend E as
  the circuit does; a stalled sample restarts its history.
- ``"gradient"``: the reference schedule, plain steps ``s ← s + η F(s)`` (η = 0.1 is
  Euler at dt = 0.1 τ of the circuit's own dynamics).
- ``"auto"`` (default): ``"anderson"``. A circuit without an energy function (forward
  and backward arrays that differ — mismatch, wire resistance —, injection gains ≠ 1,
  clipping drivers) has no energy to follow, and a bare root finder reports saddles
  the circuit never settles into (measured on mismatched random chains: up to 97% of
  samples). So, there: (1) where arrays that differ are all that keeps the circuit
  from an energy function, its reciprocal part (each coupling's two arrays replaced by
  their mean) is settled first, energy-guided as above, to ``GUIDE_TOLERANCE``; (2)
  from there Anderson runs on the circuit itself, safeguarded by the residual (a step
  that raises it tenfold is backtracked), for at most ``ROOT_FINDER_PASSES``; (3)
  every equilibrium must pass a stability certificate (:mod:`neurosim.engine
  .stability`). A sample that fails it, or does not converge, is settled again from
  its start by plain steps stable on every node — the circuit's own dynamics.
  Stage (1) keeps the search in the basin the circuit's trajectory takes: on a
  trained digits network with 5% mismatch, the root finder alone ends in another
  stable state on 13 of 72 certified samples, with (1) on none of 256. On a circuit
  with several stable equilibria the accelerated path can still end in a neighbouring
  basin, as the energy-guided one does on reciprocal circuits (``bench/basin_bench.py``:
  mismatched Hopfield chains, 30 seeds × 40 inputs, 23 of 1,200; the energy-guided
  path on their reciprocal parts 30); ``"gradient"`` is trajectory-exact.

Stopping is on the physical residual: ``max_i |F_i|``, the net current into each unit
node in units of ``vs·g_unit`` (so ``tolerance · vs · g_unit`` amperes). Each sample
stops at the first pass where it is within tolerance and is then left alone; the result
records per sample its passes, residual and convergence, and never hides a failure.
The batch runs in tiles, several cores at once (:mod:`neurosim.engine.shards`); the
result does not depend on the number of threads. Slow samples get Newton steps
(:mod:`neurosim.engine.newton`) once few of their tile are left, so a sample's
equilibrium depends on its tile-mates only within the tolerance (when it is polished).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from neurosim.engine import kernels, newton, stability
from neurosim.engine.shards import TILE_ROWS, run_tiles, tile_slices
from neurosim.engine.solvers import Anderson, Certified, Gradient, Solver
from neurosim.engine.sources import Sources
from neurosim.engine.workspace import Tables, Workspace, energy_law
from neurosim.errors import ConvergenceError
from neurosim.lower.crossbar import Crossbar
from neurosim.status import Status, sample_status

DEFAULT_TOLERANCE = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 3e-6}
# relative energy rise Anderson treats as round-off, by precision
ENERGY_SLACK = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}
REGULARISATION = 1e-10
POLISH_AFTER = 40  # passes before (and between) Newton polishes of a tile's slow samples
POLISH_SHARE = 0.1  # ... once at most this share of the tile (or one sample) is still active
# how far (max |F|, model units) stage 1 settles the reciprocal part before the root
# finder takes over; measured on trained mismatched digits networks: 1e-2 and 1e-1 keep
# every sample in its trajectory's basin (136 and 121 passes, vs 158 at the tolerance),
# 0.3 does not
GUIDE_TOLERANCE = 1e-2


FAILURE_LABELS = {Status.MAX_PASSES: "out of passes", Status.NON_FINITE: "hit NaN/inf"}


@dataclass(frozen=True)
class Equilibrium:
    """Per-sample outcome of a batched relaxation.

    ``state`` (batch, free) model units (flat order of :meth:`Crossbar.free_slices`);
    ``residual`` (batch,) max |F| in model units (NaN if the iteration broke down);
    ``passes`` (batch,) passes used; ``status`` (batch,) a :class:`Status` per sample
    (converged, out of passes, non-finite); ``total_passes``: the most passes any
    sample used; ``followed`` (batch,) bool: the samples settled by plain steps along
    the circuit's own dynamics (all of them for ``"gradient"``; for a circuit without an
    energy, those Anderson could not settle on a certified stable equilibrium).
    """

    state: np.ndarray
    residual: np.ndarray
    passes: np.ndarray
    status: np.ndarray
    tolerance: float
    total_passes: int
    method: str
    followed: np.ndarray | None = None

    @property
    def converged(self) -> np.ndarray:
        """(batch,) bool: the samples whose status is :attr:`Status.CONVERGED`."""
        return self.status == Status.CONVERGED

    @property
    def ok(self) -> bool:
        """True if every sample converged."""
        return bool(np.all(self.converged))

    def summary(self) -> str:
        """One line: how many converged, the worst residual, passes, the first failure."""
        batch = self.state.shape[0]
        failed = np.flatnonzero(~self.converged)
        finite = self.residual[np.isfinite(self.residual)]
        text = (
            f"{batch - failed.size}/{batch} converged (tolerance {self.tolerance:g}, "
            f"worst residual {float(np.max(finite, initial=0.0)):.3g}, "
            f"{self.total_passes} passes, {self.method})"
        )
        if self.method != "gradient" and self.followed is not None and self.followed.any():
            text += f"; {int(self.followed.sum())} settled by plain steps"
        if failed.size:
            counts = ", ".join(
                f"{int(np.sum(self.status == member))} {FAILURE_LABELS[member]}"
                for member in FAILURE_LABELS
                if np.any(self.status == member)
            )
            first = failed[0]
            text += f"; {counts}; sample {first}: {self.status[first].value}"
        return text

    def raise_if_failed(self) -> Equilibrium:
        """Return self, or raise :class:`ConvergenceError` naming the failures."""
        if not self.ok:
            raise ConvergenceError(f"relaxation did not converge: {self.summary()}")
        return self


def relax(
    crossbar: Crossbar,
    sources: Sources,
    *,
    tolerance: float | None = None,
    solver: Solver | None = None,
    max_passes: int = 5000,
    start: np.ndarray | None = None,
    dtype: np.dtype | type = np.float64,
    threads: int | None = None,
    tile_rows: int = TILE_ROWS,
    progress: Callable[[int, int], None] | None = None,
    throw: bool = True,
) -> Equilibrium:
    """Equilibria of ``crossbar`` for each setting in ``sources``; with ``throw`` (the
    default) a sample that did not converge raises :class:`ConvergenceError` naming it
    and its status, else each sample's :class:`Status` is in the result.

    ``solver``: :mod:`neurosim.engine.solvers` (default :class:`Anderson`, the
    ``"auto"`` method). ``start`` (batch, free) or (free,): initial state (default 0, as
    ngspice; pass the free equilibrium to warm-start a nudged phase). ``tolerance``: on
    max |F| in model units (default 1e-6 in float64, 3e-6 in float32); the state is then
    within about tolerance / (slowest decay rate) of the exact equilibrium — on the
    digits network 1e-6 gives 2e-6 model units, so tighten it for cross-checks
    (``check`` uses 1e-12). ``threads`` (default: one per core) work on tiles of
    ``tile_rows`` samples. ``progress(settled, batch)`` is called whenever samples stop.
    """
    dtype = np.dtype(dtype)
    if dtype not in DEFAULT_TOLERANCE:
        raise ValueError(f"dtype must be float64 or float32, not {dtype}")
    solver = Anderson() if solver is None else solver
    if not isinstance(solver, Gradient | Anderson | Certified):
        raise ValueError(f"solver must be one of neurosim.engine.solvers, not {solver!r}")
    tol = DEFAULT_TOLERANCE[dtype] if tolerance is None else float(tolerance)
    if not tol > 0:
        raise ValueError(f"tolerance must be positive, not {tolerance!r}")
    if not (isinstance(max_passes, int) and max_passes >= 1):
        raise ValueError(f"max_passes must be a positive integer, not {max_passes!r}")
    batch = sources.batch
    s0 = np.zeros((batch, crossbar.free), dtype=dtype)
    if start is not None:
        s0[:] = np.broadcast_to(np.asarray(start, dtype=dtype), s0.shape)
    if not np.all(np.isfinite(s0)):
        raise ValueError("the start state holds NaN or inf")
    tables = Tables.build(crossbar, sources.nudge, dtype)
    run = _Runner(crossbar, tables, tol, threads, tile_rows, _Progress(batch, progress))
    job = _Job(run, sources, s0, max_passes)  # s0 carries the dtype
    state, residual, passes, followed = solver.settle(job)
    equilibrium = Equilibrium(
        state=state,
        residual=residual,
        passes=passes,
        status=sample_status(residual, tol),
        tolerance=tol,
        total_passes=int(passes.max(initial=0)),
        method=solver.name,
        followed=followed,
    )
    return equilibrium.raise_if_failed() if throw else equilibrium


class _Job:
    """What a solver (:mod:`neurosim.engine.solvers`) settles: a batch of ``sources``
    from ``start`` within ``max_passes``, through the tiled ``runner``."""

    def __init__(self, runner: _Runner, sources: Sources, start, max_passes: int) -> None:
        self.runner, self.sources, self.start = runner, sources, start
        self.max_passes, self.batch = max_passes, sources.batch
        self.has_energy = runner.tables.energy_law != kernels.NO_ENERGY

    def run(self, start, kind: str, budget: int, option):
        """``kind`` ("anderson": ``option`` its depth; "gradient": its step) from
        ``start`` for at most ``budget`` passes: state, residual, passes."""
        return self.runner(self.sources, start, kind, budget, option)

    def safe_step(self) -> float:
        return _safe_step(self.runner)

    def flags(self, value: bool) -> np.ndarray:
        """(batch,) bool, all ``value``: which samples were settled by plain steps."""
        return np.full(self.batch, value, dtype=bool)

    def guide(self, depth: int):
        """The start the root finder takes on a circuit without an energy, and the
        passes it cost: the reciprocal part's energy-guided equilibrium to
        ``GUIDE_TOLERANCE`` where the arrays' differences are all that break the
        energy, else the start itself (module docstring, stage 1)."""
        run = self.runner
        part = reciprocal_part(run.crossbar)
        if energy_law(part) == kernels.NO_ENERGY:
            return self.start, np.zeros(self.batch, dtype=np.int64)
        guide = _Runner(
            part,
            Tables.build(part, self.sources.nudge, self.start.dtype),
            max(run.tol, GUIDE_TOLERANCE),
            run.threads,
            run.tile_rows,
            _Progress(self.batch, None),
        )
        guided, _, first = guide(self.sources, self.start, "anderson", self.max_passes, depth)
        return guided, first

    def follow_uncertified(self, state, residual, passes, step: float | None) -> np.ndarray:
        """:func:`_follow_uncertified` with plain steps of ``step`` (None: the safe one)."""
        step = self.safe_step() if step is None else step
        return _follow_uncertified(
            self.runner, self.sources, self.start, state, residual, passes, self.max_passes, step
        )


def reciprocal_part(crossbar: Crossbar) -> Crossbar:
    """``crossbar`` with each coupling's two arrays replaced by their mean (it has an
    energy function where arrays that differ — mismatch, wire resistance — were all
    that kept ``crossbar`` from one)."""
    n_e, n_o = crossbar.even.free, crossbar.odd.free
    mean = 0.5 * (crossbar.m_eo[:n_e] + crossbar.m_oe[:n_o].T)
    m_eo, m_oe = crossbar.m_eo.copy(), crossbar.m_oe.copy()
    m_eo[:n_e], m_oe[:n_o] = mean, mean.T
    return replace(crossbar, m_eo=m_eo, m_oe=m_oe)


def _follow_uncertified(
    run, sources, start, state, residual, passes, max_passes, step
) -> np.ndarray:
    """Samples of a circuit without an energy that Anderson did not settle on a certified
    stable equilibrium (:mod:`neurosim.engine.stability`) are settled again from their
    start by the circuit's own dynamics (plain steps stable on every node); ``state``,
    ``residual`` and ``passes`` are updated in place (passes add up). Returns which."""
    converged = residual <= run.tol
    stable = np.zeros_like(converged)
    rows = np.flatnonzero(converged)
    if rows.size:
        part = sources.rows(rows)
        work = Workspace(run.crossbar, run.tables, part, slice(0, rows.size))
        stable[rows] = stability.certified(work, np.ascontiguousarray(state[rows]))
    redo = np.flatnonzero(~stable)
    if redo.size:
        run.report.add(-int(np.count_nonzero(converged[redo])))
        again, again_residual, again_passes = run(
            sources.rows(redo), start[redo], "gradient", max_passes, min(step, _safe_step(run))
        )
        state[redo], residual[redo] = again, again_residual
        passes[redo] += again_passes
    return ~stable


def residual(crossbar: Crossbar, sources: Sources, state: np.ndarray) -> np.ndarray:
    """max_i |F_i| of each state (batch, free), model units, in float64: one pass."""
    return _force(crossbar, sources, state)[1]


def net_current(crossbar: Crossbar, sources: Sources, state: np.ndarray) -> np.ndarray:
    """F(s): each free unit node's net current ÷ (vs·g_unit), (batch, free), float64:
    one engine pass at ``state`` (batch, free)."""
    return _force(crossbar, sources, state)[0]


def _force(crossbar: Crossbar, sources: Sources, state: np.ndarray):
    """F(s) (batch, free) and max_i |F_i| (batch,) in one pass, BLAS on one thread."""
    state = np.ascontiguousarray(state, dtype=np.float64)
    tables = Tables.build(crossbar, sources.nudge, np.float64)
    work = Workspace(crossbar, tables, sources, slice(0, sources.batch))
    out, worst = np.empty_like(state), np.empty(sources.batch)
    with threadpool_limits(limits=1, user_api="blas"):  # idle BLAS threads slow relax
        work.force(state, out, worst)
    return out, worst


def _safe_step(run) -> float:
    """A plain step small enough to be stable on each node: min(0.1, 1/max D)."""
    return min(0.1, 1.0 / float(np.max(run.tables.unit[kernels.DIAG])))


class _Runner:
    """Runs one method on a batch in tiles on all cores; returns state, residual, passes."""

    def __init__(self, crossbar, tables, tol, threads, tile_rows, report) -> None:
        self.crossbar, self.tables, self.tol = crossbar, tables, tol
        self.threads, self.tile_rows, self.report = threads, tile_rows, report

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


class _Progress:
    """Thread-safe count of converged samples, forwarded to a callback."""

    def __init__(self, batch: int, callback: Callable[[int, int], None] | None) -> None:
        self.batch, self.callback, self.done = batch, callback, 0
        self.lock = threading.Lock()

    def add(self, newly_done: int) -> None:
        if self.callback is None:
            return
        with self.lock:
            self.done += newly_done
            self.callback(self.done, self.batch)


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
