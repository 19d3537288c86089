"""Equilibrium Matching's samplers on the circuit (EqM §3.3; DESIGN §5): descent of the
learned landscape.

The circuit's readout v(x) (:class:`neurosim.samplers.flow.CircuitField`) is the
negative of the learned gradient, f(x) = −v(x) (:mod:`neurosim.learn.eqm`). From
x0 ~ N(0, I), for at most ``steps`` steps of size η:

- gradient descent: x_{k+1} = x_k − η f(x_k);
- Nesterov (``mu`` > 0): x_{k+1} = x_k − η f(x_k + μ (x_k − x_{k−1}));
- adaptive compute (``g_min`` > 0): a sample stops at the first k with
  ‖f(x_k)‖₂ < g_min (no look-ahead: the gradient tested is the one at x_k), so each
  sample takes its own number of steps; only the samples still moving are read.

Then a clip to [−1, 1]. Every reading settles the circuit from rest, as training's free
phases do.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from neurosim.host import Chip
from neurosim.samplers.flow import CircuitField, SampleStats
from neurosim.samplers.readout import Readout


def descend(
    x0: np.ndarray,
    field: Callable[[np.ndarray, np.ndarray], np.ndarray],
    eta: float,
    steps: int,
    *,
    mu: float = 0.0,
    g_min: float = 0.0,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Descend from ``x0`` (batch, dim) along ``field`` (the velocity −f, called with
    the points and which samples they are; module docstring); returns the points (no
    clipping) and each sample's step count (batch,)."""
    x = np.array(x0, dtype=np.float64, copy=True)
    previous = x.copy()
    taken = np.zeros(x.shape[0], dtype=np.int64)
    moving = np.arange(x.shape[0])
    for _ in range(steps):
        if moving.size == 0:
            break
        here = x[moving]
        look = here + mu * (here - previous[moving]) if mu else here
        v = field(look, moving)
        if g_min:
            going = np.linalg.norm(v, axis=1) >= g_min
            moving, here, v = moving[going], here[going], v[going]
        previous[moving] = here
        x[moving] = here + eta * v
        taken[moving] += 1
        if progress is not None:
            progress(1)
    return x, taken


def descent_samples(
    chip: Chip,
    n: int,
    rng: np.random.Generator,
    alpha: float,
    eta: float,
    steps: int,
    *,
    mu: float = 0.0,
    g_min: float = 0.0,
    readout: str = "spring",
    tolerance: float = 1e-6,
    max_passes: int = 5000,
    progress: Callable[[int], None] | None = None,
    x0: np.ndarray | None = None,
    probes: int = 0,
) -> tuple[np.ndarray, np.ndarray, SampleStats]:
    """``n`` samples (n, dim) in [−1, 1] by descending ``chip``'s landscape from ``x0``
    (n, dim) or x0 ~ N(0, I) (drawn from ``rng``), each sample's step count (n,), and
    the costs (the hardware's measured on the first ``probes`` samples)."""
    if not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n must be a positive integer, not {n!r}")
    field = CircuitField(
        Readout(chip, readout, alpha, tolerance=tolerance, max_passes=max_passes), probes=probes
    )
    if x0 is None:
        x0 = rng.standard_normal((int(n), field.readout.dim))
    elif np.shape(x0) != (int(n), field.readout.dim):
        raise ValueError(f"x0 has shape {np.shape(x0)}, expected ({n}, {field.readout.dim})")
    began = time.perf_counter()
    x, taken = descend(x0, field, eta, steps, mu=mu, g_min=g_min, progress=progress)
    return np.clip(x, -1.0, 1.0), taken, field.stats(time.perf_counter() - began)
