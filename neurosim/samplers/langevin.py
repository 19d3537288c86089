"""Sampling by the learned field's noisy dynamics (Flux Matching; DESIGN §5).

dx = f(x) dt + √2 dW, integrated by Euler–Maruyama from x0 ~ N(0, I):

    x_{k+1} = x_k + dt·f(x_k) + √(2 dt)·ξ_k,   ξ_k ~ N(0, I),

each f(x_k) read off the settled circuit (the spring readout f = αλ(x* − x), as
training reads it). A field with the data as its stationary law, conservative or not,
leaves the data's distribution unchanged; the samples are the points after ``steps``
steps, not clipped (a stationary law has tails). A noise-conditional circuit is read at
its smallest noise level σ_min.

**Annealed** (a noise-conditional circuit trained over [σ_min, σ_max]; the reference's
annealed sampler): the reverse-time variance-exploding SDE dx = −d(σ²)·f(x, σ) +
√(−d(σ²))·dW, from x0 ~ σ_max·N(0, I) down ``steps`` noise levels spaced evenly in
log σ from σ_max to σ_min, in Euler–Maruyama steps

    x_{k+1} = x_k + (σ_k² − σ_{k+1}²)·f(x_k, σ_k) + √(σ_k² − σ_{k+1}²)·ξ_k,

each f(x_k, σ_k) read off the circuit with its noise input at σ_k. The samples are then
the data smoothed at σ_min; **denoised**, one noise-free step more takes each to its
clean point's mean given it (Tweedie's formula, as a score model's last step),

    x ← x + σ_min²·f(x, σ_min),

exact for a conservative field (f = s; a rotational part adds σ_min²·(f − s)); it pulls
stragglers in but narrows each mode about as much as σ_min widened it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from itertools import pairwise

import numpy as np

from neurosim.host import Chip
from neurosim.samplers.flow import CircuitField, SampleStats
from neurosim.samplers.readout import Readout


def langevin(
    x0: np.ndarray,
    field: Callable[[np.ndarray], np.ndarray],
    dt: float,
    steps: int,
    rng: np.random.Generator,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """``steps`` Euler–Maruyama steps of ``dt`` from ``x0`` (batch, dim) along ``field``
    (module docstring); the noise drawn from ``rng``."""
    x = np.array(x0, dtype=np.float64, copy=True)
    scale = np.sqrt(2.0 * dt)
    for _ in range(steps):
        x = x + dt * field(x) + scale * rng.standard_normal(x.shape)
        if progress is not None:
            progress(1)
    return x


def annealed_langevin(
    x0: np.ndarray,
    field: Callable[[np.ndarray, float], np.ndarray],
    sigmas: np.ndarray,
    rng: np.random.Generator,
    progress: Callable[[int], None] | None = None,
    denoise: bool = False,
) -> np.ndarray:
    """The reverse-time SDE from ``x0`` (batch, dim) down the noise levels ``sigmas``
    (decreasing, model units) along ``field(x, σ)`` (module docstring); one step per
    level but the last, and with ``denoise`` Tweedie's step at the last; the noise drawn
    from ``rng``."""
    x = np.array(x0, dtype=np.float64, copy=True)
    for high, low in pairwise(sigmas):
        dvar = high**2 - low**2
        x = x + dvar * field(x, high) + np.sqrt(dvar) * rng.standard_normal(x.shape)
        if progress is not None:
            progress(1)
    if denoise:
        x = x + sigmas[-1] ** 2 * field(x, sigmas[-1])
    return x


def noise_levels(sigma_min: float, sigma_max: float, steps: int) -> np.ndarray:
    """``steps`` + 1 noise levels (model units) from ``sigma_max`` down to ``sigma_min``,
    evenly spaced in log σ."""
    return np.exp(np.linspace(np.log(sigma_max), np.log(sigma_min), int(steps) + 1))


def langevin_samples(
    chip: Chip,
    n: int,
    steps: int,
    dt: float,
    rng: np.random.Generator,
    alpha: float,
    *,
    readout: str = "spring",
    tolerance: float = 1e-6,
    max_passes: int = 5000,
    sigma_min: float | None = None,
    sigma_max: float | None = None,
    warm: bool = False,
    denoise: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, SampleStats]:
    """``n`` samples (n, dim) of ``chip``'s field by Langevin dynamics (module
    docstring): x0 ~ N(0, I) and the noise from ``rng``; the costs. A noise-conditional
    circuit is read at ``sigma_min``; with ``sigma_max`` too it is annealed from there
    (x0 ~ σ_max·N(0, I); ``dt`` unused), with ``denoise`` Tweedie's step at the end.
    ``warm``: each reading settles from the previous one's equilibrium (else from rest)."""
    readout = Readout(
        chip, readout, alpha, tolerance=tolerance, max_passes=max_passes, sigma_min=sigma_min
    )
    field = CircuitField(readout, warm=warm)
    x0 = rng.standard_normal((int(n), readout.dim))
    began = time.perf_counter()
    if sigma_max is None:
        x = langevin(x0, field, dt, steps, rng, progress)
    else:

        def at_level(x: np.ndarray, sigma: float) -> np.ndarray:
            readout.sigma = sigma
            return field(x)

        levels = noise_levels(sigma_min, sigma_max, steps)
        x = annealed_langevin(sigma_max * x0, at_level, levels, rng, progress, denoise)
    return x, field.stats(time.perf_counter() - began)
