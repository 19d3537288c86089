"""Exact devices: each takes its target and keeps it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from neurosim.devices.base import Programmed
from neurosim.validation import Validated


@dataclass(frozen=True, kw_only=True)
class Ideal(Validated):
    """Exact devices (today's mapping): programmed to their targets, no drift."""

    name: ClassVar[str] = "ideal"

    def program(self, target: np.ndarray, rng: np.random.Generator) -> Programmed:
        target = np.asarray(target, dtype=np.float64)
        return Programmed(target, target.copy(), np.zeros_like(target))

    def at_time(self, devices: Programmed, seconds: float, rng: np.random.Generator) -> np.ndarray:
        return devices.g.copy()
