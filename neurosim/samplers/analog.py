"""Analog sampling: the circuit descends its own landscape (DESIGN §5).

An EqM-trained circuit's energy has its minima on the data: with the visible nodes
released (springs disconnected) and started at x0 ~ N(0, I) (the hidden units at rest),
the circuit's own dynamics C dV/dt = −∂Φ/∂V carry them downhill — gradient-descent
sampling done by physics, in physical time, with no host in the loop. The engine's
transient solver (:func:`neurosim.engine.transient.transient`, adaptive RK45) integrates
it for ``duration`` seconds; the visible units' final values, clipped to [−1, 1], are
the samples. What it costs the simulated hardware is measured too: the physical time
and the heat the circuit dissipates per sample (joules).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from neurosim.host import Chip
from neurosim.samplers.flow import SampleStats
from neurosim.samplers.readout import sampled_layer


def analog_samples(
    chip: Chip,
    n: int,
    rng: np.random.Generator,
    duration: float,
    checkpoints: int = 20,
    *,
    tolerance: float = 1e-6,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, SampleStats]:
    """``n`` samples (n, dim) in [−1, 1] from ``chip`` released for ``duration`` [s]
    (module docstring), each sample's integrator steps (n,), and the costs (``stats``:
    the mean heat per sample in joules and the physical time)."""
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n must be a positive integer, not {n!r}")
    layer = sampled_layer(chip)
    where = chip.free_slices()[layer]
    released = chip.release(layer)
    x0 = rng.standard_normal((int(n), where.stop - where.start))
    start = np.zeros((int(n), chip.free))
    start[:, where] = x0
    sources = released.sources(int(n))
    times = np.linspace(0.0, duration, checkpoints + 1)[1:]
    began = time.perf_counter()
    state, steps, heat = start, np.zeros(int(n), dtype=np.int64), np.zeros(int(n))
    t0 = 0.0
    for t in times:  # one call per reporting time, so progress can be shown
        run = released.transient(sources, np.array([t - t0]), start=state, atol=tolerance * 1e-4)
        state, t0 = run.states[-1], t
        steps += run.steps
        heat += run.heat[-1]
        if progress is not None:
            progress(1)
    seconds = time.perf_counter() - began
    stats = SampleStats(
        steps=int(steps.max()),
        relaxations=0,
        passes=int(steps.sum()),
        mean_passes=float(steps.mean()),
        unsettled=0,
        unsettled_samples=0,
        worst_residual=0.0,
        seconds=seconds,
        heat_j=float(heat.mean()),
        physical_seconds=float(duration),
    )
    return np.clip(state[:, where], -1.0, 1.0), steps, stats
