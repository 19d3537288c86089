"""Flow-matching generation on the circuit (DESIGN §4.4, §5): Euler steps of its field.

x0 ~ N(0, I), then ``round(t1/dt)`` steps ``x ← x + dt·v(x)`` from t = 0 to t1, then a
clip to [−1, 1]. The learned field has no time input, so t only counts steps; t1 > 1
carries the flow on past the data (extended generation). ``t1/dt`` must be a whole
number of steps (to a relative 1e-6): the last step is never shortened.

Each step is one host round trip: set the sources to x, let the circuit settle, read
the current (:class:`neurosim.samplers.readout.Readout`). By default each settling starts
from rest (x, h = 0), as training's free phases do, so the field read is the one that
was trained. ``warm=True`` starts from where the previous step left it (the hardware
need not reset between steps), which needs fewer passes (measured on the digits
network at its initialisation: 8.0 vs 9.4 passes per relaxation, samples equal to the
solver tolerance). Where the energy has several minima the two can differ: a warm start
follows the branch the circuit is on. Measured on the digits shape with Xavier gain
0.8, 2 of 20,000 readings changed minimum; at gain 1.0, 2.3% (half the samples).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ConvergenceError
from neurosim.host import MAX_UNSETTLED, Chip
from neurosim.samplers.readout import Readout

STEP_SLACK = 1e-6  # relative distance of t1/dt from a whole number that is accepted

Field = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SampleStats:
    """What generation cost. ``passes``: Σ over steps of the most passes any sample
    needed (the batch's cost); ``mean_passes``: per relaxation (one sample, one step);
    ``unsettled``: relaxations that did not reach the tolerance (their reading is used
    anyway), ``unsettled_samples``: samples with at least one; ``worst_residual``: the
    largest residual returned (model units); ``seconds``: wall time of the steps;
    ``heat_j`` and ``physical_seconds``: what each sample cost the simulated hardware
    (the analog sampler's transient; a host loop's ``probes`` samples, whose every
    settling is timed from the circuit's slowest time constant —
    :meth:`neurosim.samplers.readout.Readout.costs` — over ``settle_seconds`` per step
    on average); NaN where not measured."""

    steps: int
    relaxations: int
    passes: int
    mean_passes: float
    unsettled: int
    unsettled_samples: int
    worst_residual: float
    seconds: float
    heat_j: float = float("nan")  # mean heat per sample [J]
    physical_seconds: float = float("nan")  # the circuit's own time per sample [s]
    settle_seconds: float = float("nan")  # mean settling time per step [s] (host loops)
    probes: int = 0  # samples whose hardware costs were measured (host loops)
    probe_seconds: float = 0.0  # wall time spent measuring them (not in ``seconds``)


def step_count(t1: float, dt: float) -> int:
    """round(t1/dt); ``ValueError`` unless t1, dt > 0 and t1/dt is a whole number."""
    if not (np.isfinite(t1) and t1 > 0):
        raise ValueError(f"t1 must be positive, not {t1!r}")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be positive, not {dt!r}")
    steps = round(t1 / dt)
    if steps < 1 or abs(t1 / dt - steps) > STEP_SLACK * steps:
        raise ValueError(f"t1 = {t1:g} is not a whole number of steps dt = {dt:g}")
    return steps


class CircuitField:
    """v(x) read off a circuit, one settling per call, as a host loop sees it.

    With ``warm`` each call starts from the previous call's equilibrium (the first from
    rest). Counts passes and unsettled relaxations; raises :class:`ConvergenceError` when
    more than :data:`MAX_UNSETTLED` of a batch does not settle.
    """

    def __init__(self, readout: Readout, *, warm: bool = False, probes: int = 0) -> None:
        self.readout, self.warm, self.probes = readout, warm, probes
        self.calls = self.relaxations = self.passes = self.pass_sum = self.unsettled = 0
        self.worst = 0.0
        self.start: np.ndarray | None = None
        self.ever_unsettled: np.ndarray | None = None
        self.hardware: np.ndarray | None = None  # (2, probes): Σ seconds, Σ joules
        self.settle_times: list[np.ndarray] = []
        self.probe_seconds = 0.0

    def __call__(self, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """The velocity (batch, dim) at ``x`` (batch, dim); ``rows``: which samples of
        the first call's batch ``x`` holds (None: all of them)."""
        start = self.start if self.warm else None
        reading = self.readout.read(x, start)
        eq = reading.equilibrium
        if self.probes:
            self._probe(x, start, eq.state, np.arange(x.shape[0]) if rows is None else rows)
        self.calls += 1
        failed = ~eq.converged
        if self.ever_unsettled is None:
            self.ever_unsettled = np.zeros(failed.shape, dtype=bool)
        if rows is None:
            self.ever_unsettled |= failed
        else:
            self.ever_unsettled[rows] |= failed
        self.relaxations += failed.size
        self.passes += eq.total_passes
        self.pass_sum += int(eq.passes.sum())
        self.unsettled += int(failed.sum())
        residual = np.where(np.isfinite(eq.residual), eq.residual, np.inf)  # NaN: broke down
        self.worst = max(self.worst, float(residual.max(initial=0.0)))
        if failed.sum() > MAX_UNSETTLED * failed.size:
            raise ConvergenceError(
                f"step {self.calls}: more than {MAX_UNSETTLED:.0%} of the samples did not "
                f"settle: {eq.summary()}"
            )
        self.start = eq.state
        return reading.velocity

    def _probe(self, x, start, settled, rows) -> None:
        """The hardware's cost of this reading for the probe samples (index < probes)."""
        began = time.perf_counter()
        if self.hardware is None:  # the first call holds the whole batch
            self.hardware = np.zeros((2, min(self.probes, x.shape[0])))
        take = np.flatnonzero(rows < self.probes)
        if take.size:
            first = None if start is None else start[take]
            seconds, joules = self.readout.costs(x[take], first, settled[take])
            self.hardware[:, rows[take]] += np.stack([seconds, joules])
            self.settle_times.append(seconds)
        self.probe_seconds += time.perf_counter() - began

    def stats(self, seconds: float) -> SampleStats:
        """The tally so far, with ``seconds`` of wall time (the probes' time left out)."""
        measured = bool(self.settle_times)
        return SampleStats(
            steps=self.calls,
            relaxations=self.relaxations,
            passes=self.passes,
            mean_passes=self.pass_sum / max(self.relaxations, 1),
            unsettled=self.unsettled,
            unsettled_samples=0 if self.ever_unsettled is None else int(self.ever_unsettled.sum()),
            worst_residual=self.worst,
            seconds=seconds - self.probe_seconds,
            heat_j=float(self.hardware[1].mean()) if measured else float("nan"),
            physical_seconds=float(self.hardware[0].mean()) if measured else float("nan"),
            settle_seconds=float(np.concatenate(self.settle_times).mean())
            if measured
            else float("nan"),
            probes=self.hardware.shape[1] if measured else 0,
            probe_seconds=self.probe_seconds,
        )


def euler(
    x0: np.ndarray,
    field: Field,
    dt: float,
    steps: int,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """``steps`` Euler steps x ← x + dt·field(x) from ``x0`` (batch, dim); no clipping.

    ``progress(1)`` is called after each step.
    """
    x = np.array(x0, dtype=np.float64, copy=True)
    for _ in range(steps):
        x += dt * field(x)
        if progress is not None:
            progress(1)
    return x


def euler_samples(
    chip: Chip,
    n: int,
    t1: float,
    dt: float,
    rng: np.random.Generator,
    alpha: float,
    readout: str = "spring",
    progress: Callable[[int], None] | None = None,
    *,
    warm: bool = False,
    tolerance: float = 1e-6,
    max_passes: int = 5000,
    probes: int = 0,
) -> tuple[np.ndarray, SampleStats]:
    """``n`` samples (n, dim) in [−1, 1] generated by ``chip``'s field from
    x0 ~ N(0, I) (drawn from ``rng``) with Euler steps of ``dt`` up to ``t1``.

    ``readout``: ``"spring"`` or ``"energy"`` (:mod:`neurosim.samplers.readout`), scaled
    by ``alpha``; ``warm``: start each settling from the previous equilibrium;
    ``probes``: samples whose hardware costs are measured (:class:`SampleStats`).
    """
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n must be a positive integer, not {n!r}")
    steps = step_count(t1, dt)
    field = CircuitField(
        Readout(chip, readout, alpha, tolerance=tolerance, max_passes=max_passes),
        warm=warm,
        probes=probes,
    )
    x0 = rng.standard_normal((int(n), field.readout.dim))
    began = time.perf_counter()
    x = euler(x0, field, dt, steps, progress)
    return np.clip(x, -1.0, 1.0), field.stats(time.perf_counter() - began)
