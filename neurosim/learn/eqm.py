"""Equilibrium Matching's data (EqM, Wang et al. 2025; DESIGN §4.3): corrupted samples
and the gradient the landscape should have there.

For a data point x, noise ε ~ N(0, I) and γ ~ U(0, 1): x_γ = γx + (1 − γ)ε, and the
target gradient is (ε − x)·c(γ), with the paper's decays (eqs. 4–6) times the gradient
multiplier λ_c:

- linear: c(γ) = λ_c·(1 − γ);
- truncated (the paper's default, a = 0.8, λ_c = 4): c(γ) = λ_c·min(1, (1 − γ)/(1 − a));
- piecewise: c(γ) = λ_c·(b − (b − 1)γ/a) for γ ≤ a, λ_c·(1 − γ)/(1 − a) above.

Trained through GradEP exactly like flow matching: the circuit's spring readout v is
fitted to u = −(ε − x)·c(γ) = (x − ε)·c(γ), so the learned gradient of the landscape
is f(x) = −v(x), and gradient-descent sampling x ← x − ηf(x) is x ← x + ηv(x). There
is no time input. The batch of epoch e (every data point, once) is a pure function of
(data, seed, e), as flow matching's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.learn.loop import epoch_rng

DECAYS = ("truncated", "linear", "piecewise")
PAIRINGS = ("independent", "ot")


def decay(gamma: np.ndarray, kind: str, a: float, b: float, multiplier: float) -> np.ndarray:
    """c(γ) of ``kind`` (module docstring) at ``gamma`` (any shape, in [0, 1])."""
    gamma = np.asarray(gamma, dtype=np.float64)
    if kind == "linear":
        shape = 1.0 - gamma
    elif kind == "truncated":
        shape = np.minimum(1.0, (1.0 - gamma) / (1.0 - a))
    elif kind == "piecewise":
        shape = np.where(gamma <= a, b - (b - 1.0) * gamma / a, (1.0 - gamma) / (1.0 - a))
    else:
        raise ValueError(f"unknown decay {kind!r} (one of {', '.join(DECAYS)})")
    return multiplier * shape


@dataclass(frozen=True)
class EqMBatch:
    """Corrupted samples x_γ (``x_t``) and the target velocity u = (x − ε)·c(γ), each
    (batch, dim); ``x1``: the data points, ``noise``: ε, ``gamma``: (batch, 1)."""

    x1: np.ndarray
    noise: np.ndarray
    gamma: np.ndarray
    c: np.ndarray  # (batch, 1): c(γ)

    @property
    def x_t(self) -> np.ndarray:
        return self.gamma * self.x1 + (1.0 - self.gamma) * self.noise

    @property
    def u(self) -> np.ndarray:
        return (self.x1 - self.noise) * self.c


@dataclass(frozen=True)
class EqMTarget:
    """The decay of the target gradient (module docstring)."""

    kind: str = "truncated"
    a: float = 0.8
    b: float = 1.0
    multiplier: float = 4.0


class EqMBatches:
    """The EqM batch of each epoch: all the data, with noise and γ drawn from
    ``epoch_rng(seed, epoch)``. ``pairing`` "independent" (the paper's): each data
    point gets its own noise draw; "ot": the epoch's noise is paired with the data by
    exact optimal transport, as flow matching's batches are
    (:class:`neurosim.learn.flow.FlowBatches`: the same draws, γ = its t) — paths that
    do not cross, so the target at x_γ is nearly a function of x_γ."""

    def __init__(
        self,
        data: np.ndarray,
        seed: int,
        target: EqMTarget,
        pairing: str = "independent",
        ahead: bool = False,
    ) -> None:
        if pairing not in PAIRINGS:
            raise ValueError(f"pairing must be one of {', '.join(PAIRINGS)}, not {pairing!r}")
        self.data = np.asarray(data, dtype=np.float64)
        self.seed, self.target = int(seed), target
        self._paired = None
        if pairing == "ot":
            from neurosim.learn.flow import FlowBatches

            self._paired = FlowBatches(self.data, self.seed, ahead=ahead)

    def get(self, epoch: int) -> EqMBatch:
        """The batch of ``epoch``."""
        t = self.target
        if self._paired is not None:
            flow = self._paired.get(epoch)
            noise, gamma = flow.x0, flow.t
        else:
            rng = epoch_rng(self.seed, epoch)
            noise = rng.standard_normal(self.data.shape)
            gamma = rng.uniform(size=(self.data.shape[0], 1))
        return EqMBatch(self.data, noise, gamma, decay(gamma, t.kind, t.a, t.b, t.multiplier))

    def close(self) -> None:
        """End the pairing's worker process, if any."""
        if self._paired is not None:
            self._paired.close()
