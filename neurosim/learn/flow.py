"""The flow-matching objective (DESIGN §4.3): noise paired with data by exact OT."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class FlowBatch:
    """x_t = t·x1 + (1−t)·x0 and the target velocity u = x1 − x0, each (batch, dim)."""

    x0: np.ndarray
    x1: np.ndarray
    t: np.ndarray  # (batch, 1)

    @property
    def x_t(self) -> np.ndarray:
        return self.t * self.x1 + (1.0 - self.t) * self.x0

    @property
    def u(self) -> np.ndarray:
        return self.x1 - self.x0


def ot_pairing(noise: np.ndarray, data: np.ndarray) -> np.ndarray:
    """The permutation of ``noise`` rows minimising Σ‖noise_π(i) − data_i‖² (exact)."""
    cost = (
        np.sum(noise**2, axis=1)[:, None] - 2.0 * noise @ data.T + np.sum(data**2, axis=1)[None, :]
    )
    rows, cols = linear_sum_assignment(cost)
    order = np.empty(len(cols), dtype=np.int64)
    order[cols] = rows
    return order


def flow_batch(data: np.ndarray, rng: np.random.Generator, *, pair: bool = True) -> FlowBatch:
    """x0 ~ N(0, I), t ~ U(0, 1), x0 paired with ``data`` (batch, dim) by exact OT."""
    noise = rng.standard_normal(data.shape)
    t = rng.uniform(size=(data.shape[0], 1))
    if pair:
        noise = noise[ot_pairing(noise, data)]
    return FlowBatch(x0=noise, x1=np.asarray(data, dtype=np.float64), t=t)
