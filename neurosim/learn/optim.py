"""Optimisers the host applies to the device parameters: SGD with momentum and Adam.

An optimiser turns gradients into updates Δθ; the host programs them into the devices
(:meth:`neurosim.host.Chip.program`). State is a plain dict of arrays (and a step
count), so a checkpoint can store it. The update follows the usual definitions (Adam:
Kingma & Ba with bias correction, the form PyTorch implements; SGD momentum:
v ← μv + g, Δθ = −lr·v).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from neurosim.learn.settings import SCHEDULES


def scheduled_lr(lr: float, schedule: str, epoch: int, epochs: int) -> float:
    """The learning rate of epoch ``epoch`` (0-based) of ``epochs``: ``lr`` throughout
    ("constant"), or half a cosine from ``lr`` at the first epoch towards 0 after the
    last ("cosine": lr·½(1 + cos(π·epoch/epochs)))."""
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        return lr * 0.5 * (1.0 + np.cos(np.pi * epoch / epochs))
    raise ValueError(f"unknown learning-rate schedule {schedule!r} (known: {SCHEDULES})")


def clip_by_global_norm(grads: Mapping[str, np.ndarray], max_norm: float | None):
    """``grads`` scaled so their joint L2 norm is at most ``max_norm``; and that norm."""
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads.values())))
    if max_norm is None or norm <= max_norm or norm == 0.0:
        return dict(grads), norm
    scale = max_norm / norm
    return {name: g * scale for name, g in grads.items()}, norm


@dataclass
class Adam:
    """Adam with betas ``(beta1, beta2)``; ``state`` holds m, v per parameter and ``step``."""

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    state: dict = field(default_factory=dict)

    def step(self, grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One step: the update Δθ of each parameter in ``grads``."""
        step = self.state.get("step", 0) + 1
        self.state["step"] = step
        deltas = {}
        for name, g in grads.items():
            m = self.state.setdefault(f"m/{name}", np.zeros_like(g))
            v = self.state.setdefault(f"v/{name}", np.zeros_like(g))
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1**step)
            v_hat = v / (1 - self.beta2**step)
            deltas[name] = -(self.lr * m_hat / (np.sqrt(v_hat) + self.eps))
        return deltas

    def check_state(self, state: Mapping, shapes: Mapping[str, tuple]) -> None:
        """Raise ``ValueError`` unless ``state`` is this optimiser's state after a
        number of steps on parameters of ``shapes`` (name -> shape)."""
        _check_state(state, shapes, ("m", "v"))


@dataclass
class SGD:
    """SGD with momentum ``momentum``; ``state`` holds the velocity per parameter."""

    lr: float = 1e-2
    momentum: float = 0.9
    state: dict = field(default_factory=dict)

    def step(self, grads: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One step: the update Δθ of each parameter in ``grads``."""
        self.state["step"] = self.state.get("step", 0) + 1
        deltas = {}
        for name, g in grads.items():
            velocity = self.state.setdefault(f"v/{name}", np.zeros_like(g))
            velocity *= self.momentum
            velocity += g
            deltas[name] = -(self.lr * velocity)
        return deltas

    def check_state(self, state: Mapping, shapes: Mapping[str, tuple]) -> None:
        """Raise ``ValueError`` unless ``state`` is this optimiser's state after a
        number of steps on parameters of ``shapes`` (name -> shape)."""
        _check_state(state, shapes, ("v",))


def _check_state(state: Mapping, shapes: Mapping[str, tuple], kinds: tuple[str, ...]) -> None:
    """``state`` holds a step count ≥ 0 and, once it is > 0, exactly one finite array
    ``<kind>/<name>`` of the parameter's shape per kind and parameter."""
    step = state.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int | np.integer) or step < 0:
        raise ValueError(f"optimiser step {step!r} is not a count")
    expected = {f"{kind}/{name}" for kind in kinds for name in shapes} if step else set()
    given = {key for key in state if key != "step"}
    if expected - given:
        raise ValueError(f"optimiser state lacks {', '.join(sorted(expected - given))}")
    if given - expected:
        raise ValueError(f"optimiser state has unexpected {', '.join(sorted(given - expected))}")
    for key in expected:
        value = np.asarray(state[key])
        shape = tuple(shapes[key.split("/", 1)[1]])
        if value.shape != shape:
            raise ValueError(f"optimiser state {key} has shape {value.shape}, expected {shape}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"optimiser state {key} holds NaN or inf")
