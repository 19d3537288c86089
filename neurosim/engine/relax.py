"""Batched equilibria of a circuit system: the state where every free node's KCL holds.

:func:`relax` settles any :class:`neurosim.engine.system.System` (a lowered crossbar is
wrapped as :class:`neurosim.engine.crossbar_system.CrossbarSystem`) with a solver of
:mod:`neurosim.engine.solvers`, through the system's runner. For a crossbar a pass is
one evaluation of the column currents for the whole batch: two dense products
(``ρ(even) @ M_eo``, ``ρ(odd) @ M_oe``) and one fused Numba kernel. Methods:

- ``"anderson"``: Anderson acceleration (depth 12) of the Jacobi-preconditioned map
  ``s ← s + F(s)/D``, ``D = leak + spring + nudge`` (each node's conductance to ground
  in units of ``g_unit``), the least-squares mixing solved per sample. It is
  safeguarded by the circuit's energy: a step that raises E (or is not finite) is
  rejected and replaced by a backtracking plain step, so accepted states descend E as
  the circuit does; a stalled sample restarts its history.
- ``"gradient"``: the reference schedule, plain steps ``s ← s + η F(s)`` (η = 0.1 is
  Euler at dt = 0.1 τ of the circuit's own dynamics).
- ``"auto"`` (default): ``"anderson"`` (on a small circuit of another family than the
  crossbar, Newton: :mod:`neurosim.engine.field_runner`). A circuit without an energy
  function (forward and backward arrays that differ — mismatch, wire resistance —,
  injection gains ≠ 1, clipping drivers) has no energy to follow, and a bare root finder
  reports saddles the circuit never settles into (measured on mismatched random chains:
  up to 97% of samples). So, there: (1) where arrays that differ are all that keeps the
  circuit from an energy function, its reciprocal part (each coupling's two arrays
  replaced by their mean) is settled first, energy-guided as above, to
  ``GUIDE_TOLERANCE``; (2) from there Anderson runs on the circuit itself, safeguarded
  by the residual (a step that raises it tenfold is backtracked), for at most
  ``ROOT_FINDER_PASSES``; (3) every equilibrium must pass a stability certificate
  (:mod:`neurosim.engine.stability`). A sample that fails it, or does not converge, is
  settled again from its start by plain steps stable on every node — the circuit's own
  dynamics. Stage (1) keeps the search in the basin the circuit's trajectory takes: on a
  trained digits network with 5% mismatch, the root finder alone ends in another stable
  state on 13 of 72 certified samples, with (1) on none of 256. On a circuit with
  several stable equilibria the accelerated path can still end in a neighbouring basin,
  as the energy-guided one does on reciprocal circuits (``bench/basin_bench.py``:
  mismatched Hopfield chains, 30 seeds × 40 inputs, 23 of 1,200; the energy-guided path
  on their reciprocal parts 30); ``"gradient"`` is trajectory-exact.

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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neurosim.engine.crossbar_system import CrossbarSystem
from neurosim.engine.shards import TILE_ROWS
from neurosim.engine.solvers import Anderson, Auto, Certified, Gradient, Newton, Solver
from neurosim.engine.system import Progress, System
from neurosim.errors import ConvergenceError
from neurosim.lower.crossbar import Crossbar
from neurosim.status import Status, sample_status

DEFAULT_TOLERANCE = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 3e-6}
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
    system: System | Crossbar,
    sources,
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
    """Equilibria of ``system`` (a :class:`neurosim.engine.system.System`, or a
    :class:`Crossbar`) for each setting in ``sources`` (the system's kind); with ``throw`` (the
    default) a sample that did not converge raises :class:`ConvergenceError` naming it
    and its status, else each sample's :class:`Status` is in the result.

    ``solver``: :mod:`neurosim.engine.solvers` (default :class:`Auto`: Anderson on a
    crossbar, Newton on a small circuit of another family). ``start`` (batch, free) or
    (free,): initial state (default 0, as ngspice; pass the free equilibrium to
    warm-start a nudged phase). ``tolerance``: on max |F| in model units (default 1e-6
    in float64, 3e-6 in float32); the state is then within about tolerance / (slowest
    decay rate) of the exact equilibrium — on the digits network 1e-6 gives 2e-6 model
    units, so tighten it for cross-checks (``check`` uses 1e-12). ``threads`` (default:
    one per core) work on tiles of ``tile_rows`` samples. ``progress(settled, batch)``
    is called whenever samples stop.
    """
    dtype = np.dtype(dtype)
    if dtype not in DEFAULT_TOLERANCE:
        raise ValueError(f"dtype must be float64 or float32, not {dtype}")
    solver = Auto() if solver is None else solver
    if not isinstance(solver, Gradient | Anderson | Certified | Newton | Auto):
        raise ValueError(f"solver must be one of neurosim.engine.solvers, not {solver!r}")
    tol = DEFAULT_TOLERANCE[dtype] if tolerance is None else float(tolerance)
    if not tol > 0:
        raise ValueError(f"tolerance must be positive, not {tolerance!r}")
    if not (isinstance(max_passes, int) and max_passes >= 1):
        raise ValueError(f"max_passes must be a positive integer, not {max_passes!r}")
    system = as_system(system)
    batch = sources.batch
    s0 = np.zeros((batch, system.free), dtype=dtype)
    if start is not None:
        s0[:] = np.broadcast_to(np.asarray(start, dtype=dtype), s0.shape)
    if not np.all(np.isfinite(s0)):
        raise ValueError("the start state holds NaN or inf")
    job = _Job(system, sources, s0, max_passes, (tol, threads, tile_rows), progress)
    state, residual, passes, followed, method = solver.settle(job)
    equilibrium = Equilibrium(
        state=state,
        residual=residual,
        passes=passes,
        status=sample_status(residual, tol),
        tolerance=tol,
        total_passes=int(passes.max(initial=0)),
        method=method,
        followed=followed,
    )
    return equilibrium.raise_if_failed() if throw else equilibrium


class _Job:
    """What a solver (:mod:`neurosim.engine.solvers`) settles: a batch of ``sources`` of
    ``system`` from ``start`` (its dtype the arithmetic's) within ``max_passes``; ``run``
    is (tolerance, threads, tile rows)."""

    def __init__(self, system: System, sources, start, max_passes: int, run, progress) -> None:
        self.system, self.sources, self.start = system, sources, start
        self.max_passes, self.batch, self.settings = max_passes, sources.batch, run
        self.runner = system.runner(sources, start.dtype, *run, Progress(self.batch, progress))
        self.has_energy = system.has_energy

    def run(self, start, kind: str, budget: int, option):
        """``kind`` ("anderson": ``option`` its depth; "gradient": its step) from
        ``start`` for at most ``budget`` passes: state, residual, passes."""
        return self.runner(self.sources, start, kind, budget, option)

    def safe_step(self) -> float:
        return self.runner.safe_step()

    def flags(self, value: bool) -> np.ndarray:
        """(batch,) bool, all ``value``: which samples were settled by plain steps."""
        return np.full(self.batch, value, dtype=bool)

    def guide(self, depth: int):
        """The start the root finder takes on a circuit without an energy, and the
        passes it cost: the guide system's energy-guided equilibrium to
        ``GUIDE_TOLERANCE`` where the system has one (for a crossbar its reciprocal
        part), else the start itself (module docstring, stage 1)."""
        part = self.system.guide()
        if part is None:
            return self.start, np.zeros(self.batch, dtype=np.int64)
        tol, threads, tile_rows = self.settings
        guide = part.runner(
            self.sources,
            self.start.dtype,
            max(tol, GUIDE_TOLERANCE),
            threads,
            tile_rows,
            Progress(self.batch, None),
        )
        guided, _, first = guide(self.sources, self.start, "anderson", self.max_passes, depth)
        return guided, first

    def follow_uncertified(self, state, residual, passes, step: float | None) -> np.ndarray:
        """:func:`_follow_uncertified` with plain steps of ``step`` (None: the safe one)."""
        step = self.safe_step() if step is None else step
        return _follow_uncertified(self, state, residual, passes, step)


def _follow_uncertified(job: _Job, state, residual, passes, step) -> np.ndarray:
    """Samples of a circuit without an energy that Anderson did not settle on a certified
    stable equilibrium (the system's :meth:`~neurosim.engine.system.System.stable`) are
    settled again from their start by the circuit's own dynamics (plain steps stable on
    every node); ``state``, ``residual`` and ``passes`` are updated in place (passes add
    up). Returns which."""
    run, sources = job.runner, job.sources
    converged = residual <= run.tol
    stable = np.zeros_like(converged)
    rows = np.flatnonzero(converged)
    if rows.size:
        stable[rows] = job.system.stable(sources.rows(rows), np.ascontiguousarray(state[rows]))
    redo = np.flatnonzero(~stable)
    if redo.size:
        run.report.add(-int(np.count_nonzero(converged[redo])))
        again, again_residual, again_passes = run(
            sources.rows(redo),
            job.start[redo],
            "gradient",
            job.max_passes,
            min(step, run.safe_step()),
        )
        state[redo], residual[redo] = again, again_residual
        passes[redo] += again_passes
    return ~stable


def residual(system: System | Crossbar, sources, state: np.ndarray) -> np.ndarray:
    """max_i |F_i| of each state (batch, free), the system's units, float64: one pass."""
    return np.max(np.abs(net_current(system, sources, state)), axis=1, initial=0.0)


def net_current(system: System | Crossbar, sources, state: np.ndarray) -> np.ndarray:
    """F(s): each free node's net current (for a crossbar ÷ (vs·g_unit)), (batch, free),
    float64, at ``state`` (batch, free): one pass."""
    return as_system(system).field(sources, state)


def as_system(circuit: System | Crossbar) -> System:
    """The engine's :class:`System` of a lowered circuit (a crossbar is wrapped)."""
    if isinstance(circuit, Crossbar):
        return CrossbarSystem(circuit)
    if not isinstance(circuit, System):
        raise TypeError(f"not a lowered circuit system: {type(circuit).__name__}")
    return circuit
