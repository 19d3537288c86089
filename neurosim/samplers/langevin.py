"""Sampling by the learned field's noisy dynamics (Flux Matching; DESIGN §5).

dx = f(x) dt + √2 dW, integrated by Euler–Maruyama from x0 ~ N(0, I):

    x_{k+1} = x_k + dt·f(x_k) + √(2 dt)·ξ_k,   ξ_k ~ N(0, I),

each f(x_k) read off the settled circuit (the spring readout f = αλ(x* − x), as
training reads it). A field with the data as its stationary law, conservative or not,
leaves the data's distribution unchanged; the samples are the points after ``steps``
steps, not clipped (a stationary law has tails).
"""

from __future__ import annotations

import time
from collections.abc import Callable

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
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, SampleStats]:
    """``n`` samples (n, dim) of ``chip``'s field by Langevin dynamics (module
    docstring): x0 ~ N(0, I) and the noise from ``rng``; the costs."""
    field = CircuitField(Readout(chip, readout, alpha, tolerance=tolerance, max_passes=max_passes))
    x0 = rng.standard_normal((int(n), field.readout.dim))
    began = time.perf_counter()
    x = langevin(x0, field, dt, steps, rng, progress)
    return x, field.stats(time.perf_counter() - began)
