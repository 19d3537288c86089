"""Analog sampling: the circuit descends its own landscape (DESIGN §5).

An EqM-trained circuit's energy has its minima on the data: with the visible nodes
released (springs disconnected) and started at x0 ~ N(0, I) (the hidden units at rest),
the circuit's own dynamics C dV/dt = −∂Φ/∂V carry them downhill — gradient-descent
sampling done by physics, in physical time, with no host in the loop. The engine's
transient solver (:func:`neurosim.engine.transient.transient`, adaptive RK45) integrates
it for ``duration`` seconds; the visible units' final values, clipped to [−1, 1], are
the samples. What it costs the simulated hardware is measured too: the physical time
and the heat the circuit dissipates per sample (joules).

With an ``inductance`` > 0 [H] in series with each released node's capacitor the
units carry momentum (:mod:`neurosim.engine.transient`: a heavy ball of mass L·C and
friction C/G): Nesterov-like descent done by the circuit.

At a ``temperature`` > 0 [K] each released node also carries the thermal noise of its
leak resistor (:mod:`neurosim.engine.noise`): Langevin dynamics, integrated by
Euler–Maruyama in steps of ``time_step`` seconds, whose stationary density is
∝ exp(−Φ/θ) where the drift is a gradient of Φ (θ: :meth:`ReleasedChip.model_temperature`).
:func:`released_circuit` is the circuit that runs — sample 0's start in its capacitors,
the noise as ``trnoise`` current sources — valid ngspice.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from neurosim.circuit.ir import Circuit
from neurosim.errors import NeurosimError
from neurosim.host import Chip
from neurosim.samplers.flow import SampleStats
from neurosim.samplers.readout import sampled_layer
from neurosim.samplers.settings import MAX_STEPS

TIME_STEP_TAUS = 0.05  # the default Euler–Maruyama step, in the units' smallest τ
MAX_DURATION_TAUS = 1e4  # longest run, in the units' largest τ (a digits circuit: 10 ms)


def analog_samples(
    chip: Chip,
    n: int,
    rng: np.random.Generator,
    duration: float,
    checkpoints: int = 20,
    *,
    tolerance: float = 1e-6,
    temperature: float = 0.0,
    time_step: float | None = None,
    inductance: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, SampleStats]:
    """``n`` samples (n, dim) in [−1, 1] from ``chip`` released for ``duration`` [s]
    (module docstring), each sample's integrator steps (n,), and the costs (``stats``:
    the mean heat per sample in joules and the physical time). ``temperature`` [K],
    ``time_step`` [s] (default: 0.05 of the smallest unit τ) and ``inductance`` [H]
    as the module docstring."""
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n must be a positive integer, not {n!r}")
    released, start = _released_start(chip, int(n), rng)
    step = _checked_budget(chip, duration, temperature, time_step)
    noisy = {"inertia": released.inertia(inductance)} if inductance > 0 else {}
    if temperature > 0:
        noisy.update(method="euler", dt=step, noise=released.noise(temperature))
        seed = int(rng.integers(2**62))
    sources = released.sources(int(n))
    times = np.linspace(0.0, duration, checkpoints + 1)[1:]
    began = time.perf_counter()
    state, steps, heat = start, np.zeros(int(n), dtype=np.int64), np.zeros(int(n))
    t0 = 0.0
    for k, t in enumerate(times):  # one call per reporting time, so progress can be shown
        if temperature > 0:
            noisy["seed"] = (seed, k)
        run = released.transient(
            sources, np.array([t - t0]), start=state, atol=tolerance * 1e-4, **noisy
        )
        state, t0 = run.states[-1], t
        steps += run.steps
        heat += run.heat[-1]
        if progress is not None:
            progress(1)
    stats = transient_stats(steps, heat, time.perf_counter() - began, duration)
    where = released.free_slices()[released.layer]
    return np.clip(state[:, where], -1.0, 1.0), steps, stats


HOLD_TAUS = 20.0  # the default holding capacitor's τ_z, in the units' largest τ


def held_samples(
    chip: Chip,
    n: int,
    rng: np.random.Generator,
    alpha: float,
    model_time: float,
    *,
    hold_tau: float | None = None,
    time_step: float | None = None,
    sigma_min: float | None = None,
    checkpoints: int = 20,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, SampleStats, dict]:
    """``n`` samples (n, dim) of Langevin dynamics of ``chip``'s field integrated by the
    circuit itself (:mod:`neurosim.host.held`): each spring's target a capacitor node of
    time constant ``hold_tau`` [s] (default ``HOLD_TAUS`` of the largest unit τ) started
    at x0 ~ N(0, I), with the noise current that makes it Langevin at unit temperature,
    for ``model_time`` (the circuit's α·τ_z·model_time seconds) in Euler–Maruyama steps
    of ``time_step`` [s]; a noise-conditional circuit at ``sigma_min``. Also each
    sample's step count, the costs, and what describes the run (temperature [K],
    physical seconds, τ_z)."""
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n must be a positive integer, not {n!r}")
    layer, held, described = _held(chip, alpha, hold_tau, time_step)
    duration = alpha * held.tau * model_time
    step = described["time_step"]
    if duration / step > MAX_STEPS:
        raise NeurosimError(
            f"the held circuit runs {duration:g} s (alpha x hold time constant x model time) "
            f"in steps of {step:g} s (--time-step): {duration / step:.3g} Euler–Maruyama "
            f"steps; at most {MAX_STEPS:,}"
        )
    x0 = rng.standard_normal((int(n), held.where.stop - held.where.start))
    sources = chip.spring_sources(layer, x0, sigma_min)
    state = chip.rest_start(layer, x0)
    options = {"method": "euler", "dt": step, "held": held.held()}
    options["held_noise"] = held.noise(described["temperature"])
    seed = int(rng.integers(2**62))
    began = time.perf_counter()
    steps, heat, t0 = np.zeros(int(n), dtype=np.int64), np.zeros(int(n)), 0.0
    for k, t in enumerate(np.linspace(0.0, duration, checkpoints + 1)[1:]):
        run = held.transient(sources, np.array([t - t0]), start=state, seed=(seed, k), **options)
        state, t0 = run.states[-1], t
        sources.targets[:, held.where] = run.held[-1]
        steps += run.steps
        heat += run.heat[-1]
        if progress is not None:
            progress(1)
    stats = transient_stats(steps, heat, time.perf_counter() - began, duration)
    return sources.targets[:, held.where].copy(), steps, stats, described


def held_circuit(
    chip: Chip,
    rng: np.random.Generator,
    alpha: float,
    hold_tau: float | None = None,
    time_step: float | None = None,
    sigma_min: float | None = None,
) -> tuple[Circuit, dict]:
    """The circuit :func:`held_samples` runs with the same generator state, valid
    ngspice: sample 0's start in its capacitors, a ``trnoise`` source per held node, a
    noise-conditional circuit's noise input at ``sigma_min``; and what describes the run
    (as :func:`held_samples`)."""
    layer, held, described = _held(chip, alpha, hold_tau, time_step)
    x0 = rng.standard_normal((1, held.where.stop - held.where.start))
    start = chip.rest_start(layer, x0)[0]
    inputs = chip.spring_sources(layer, x0, sigma_min).inputs[0]
    circuit = held.circuit(start, described["temperature"], described["time_step"], inputs)
    return circuit, described


def _held(chip: Chip, alpha: float, hold_tau: float | None, time_step: float | None):
    """The sampled layer, its held view (``hold_tau`` [s], default ``HOLD_TAUS`` of the
    largest unit τ) and what describes a held run: the noise temperature [K] for α
    ``alpha``, τ_z [s] and the Euler–Maruyama step [s]."""
    layer = sampled_layer(chip)
    tau = hold_tau if hold_tau is not None else HOLD_TAUS * float(np.max(chip.time_constants()))
    held = chip.hold(layer, tau)
    step = time_step_of(chip, time_step)
    return layer, held, {"temperature": held.temperature(alpha), "hold_tau": tau, "time_step": step}


def transient_stats(
    steps: np.ndarray, heat: np.ndarray, seconds: float, duration: float
) -> SampleStats:
    """The costs of a sampler that runs the circuit's transient: integrator ``steps``
    (n,) and ``heat`` [J] (n,) per sample, ``seconds`` of wall time, ``duration`` [s]
    of circuit time."""
    return SampleStats(
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


def released_circuit(
    chip: Chip,
    n: int,
    rng: np.random.Generator,
    temperature: float = 0.0,
    time_step: float | None = None,
    inductance: float = 0.0,
) -> Circuit:
    """The circuit :func:`analog_samples` runs with the same arguments, valid ngspice:
    springs removed, sample 0's start as the capacitors' ``ic``, at ``temperature``
    > 0 a ``trnoise`` source per released node, sampled every ``time_step``, and with
    ``inductance`` an inductor in series with each released node's capacitor."""
    released, start = _released_start(chip, int(n), rng)
    step = time_step_of(chip, time_step)
    return released.circuit(
        start=start[0], temperature=temperature, interval=step, inductance=inductance
    )


def time_step_of(chip: Chip, time_step: float | None) -> float:
    """The Euler–Maruyama step [s]: ``time_step``, else 0.05 of the smallest unit
    τ = C/g_unit."""
    if time_step is not None:
        return time_step
    return TIME_STEP_TAUS * float(np.min(chip.time_constants()))


def _checked_budget(chip: Chip, duration: float, temperature: float, time_step) -> float:
    """The Euler–Maruyama step [s]; :class:`NeurosimError` (naming the option) for a
    run longer than ``MAX_DURATION_TAUS`` time constants or, when noisy, more than
    ``MAX_STEPS`` steps."""
    longest = MAX_DURATION_TAUS * float(np.max(chip.time_constants()))
    if duration > longest:
        raise NeurosimError(
            f"--duration {duration:g} s is more than {MAX_DURATION_TAUS:g} of the circuit's "
            f"time constants ({longest:g} s); it settles within a few hundred"
        )
    step = time_step_of(chip, time_step)
    if temperature > 0 and duration / step > MAX_STEPS:
        raise NeurosimError(
            f"--duration {duration:g} s in steps of {step:g} s (--time-step) is "
            f"{duration / step:.3g} Euler–Maruyama steps; at most {MAX_STEPS:,}"
        )
    return step


def _released_start(chip: Chip, n: int, rng: np.random.Generator):
    """The released view of the sampled layer and the start states (n, free): x0 ~
    N(0, I) on the released units, the others at rest."""
    layer = sampled_layer(chip)
    where = chip.free_slices()[layer]
    start = np.zeros((n, chip.free))
    start[:, where] = rng.standard_normal((n, where.stop - where.start))
    return chip.release(layer), start
