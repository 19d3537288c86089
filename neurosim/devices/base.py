"""What every device model offers, and the one drift law they share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class Programmed:
    """Devices right after programming: their ``target`` and programmed conductances
    ``g`` [S] and, per device, its drift exponent ``nu`` (zero: no drift); one shape."""

    target: np.ndarray
    g: np.ndarray
    nu: np.ndarray


class DeviceModel(Protocol):
    """Programs target conductances onto devices and ages them."""

    def program(self, target: np.ndarray, rng: np.random.Generator) -> Programmed:
        """The devices (any shape) after programming each to ``target`` [S]."""
        ...

    def at_time(self, devices: Programmed, seconds: float, rng: np.random.Generator) -> np.ndarray:
        """Conductances [S] of ``devices`` ``seconds`` ≥ 0 after programming."""
        ...


def drifted(g: np.ndarray, nu: np.ndarray, seconds: float, t0: float) -> np.ndarray:
    """Conductance drift G(t) = G·((t + t0)/t0)^−ν (DESIGN §6; aihwkit's PCM drift with
    its time origin ``t0`` [s], the first read after programming), per device."""
    return g * ((seconds + t0) / t0) ** (-nu)
