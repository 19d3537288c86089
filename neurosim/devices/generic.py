"""A generic device (the kinds of non-ideality CrossSim and MemTorch model): a finite
range, 2^bits levels, programming noise, stuck devices and drift.

Defaults are ideal, as CrossSim's (``simulator/configs/default.json``: noise 0, bits 0
meaning continuous, CrossSim issue #35). A device programmed to target g_T [S]:

1. range: g_T is clipped to [g_min, g_max];
2. levels: with ``bits`` ≥ 1, rounded to the nearest of 2^bits levels evenly spaced
   over [g_min, g_max] (MemTorch's finite conductance states);
3. programming noise: + σ·N(0, 1), σ = ``prog_noise`` [S] (``absolute``) or
   ``prog_noise``·g (``proportional``), then clipped to the range again (CrossSim's
   Normal Independent / Proportional models);
4. stuck devices (MemTorch's stuck-at faults): with probability ``p_stuck_min`` at
   g_min, ``p_stuck_max`` at g_max, ``p_stuck_random`` at a uniform value in the range;
   stuck devices do not drift;
5. drift: ν = |N(``nu``, ``nu_spread``)| per device, G(t) = G·((t + t0)/t0)^−ν
   (MemTorch's ``model_conductance_drift`` law, t0 = ``t0``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from neurosim.devices.base import Programmed, drifted
from neurosim.validation import (
    SettingsError,
    Validated,
    at_least,
    non_negative,
    one_of,
    positive,
    setting,
)


def _probability(value) -> bool:
    return non_negative(value) and value <= 1


def _upper_bound(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True, kw_only=True)
class Generic(Validated):
    """A generic device (module docstring); every default is ideal."""

    name: ClassVar[str] = "generic"

    g_min: float = setting(0.0, non_negative, "a finite number >= 0 (siemens)", "Range low [S].")
    g_max: float = setting(
        math.inf, _upper_bound, "a number > 0 (siemens; inf: no limit)", "Range high [S]."
    )
    bits: int = setting(0, at_least(0), "a whole number >= 0 (0: continuous)", "Level bits.")
    prog_noise: float = setting(
        0.0, non_negative, "a finite number >= 0", "Programming noise σ ([S] or relative)."
    )
    prog_noise_kind: str = setting(
        "absolute",
        one_of("absolute", "proportional"),
        "absolute or proportional",
        "absolute: σ in siemens; proportional: σ relative to the conductance.",
    )
    p_stuck_min: float = setting(0.0, _probability, "in [0, 1]", "Share stuck at g_min.")
    p_stuck_max: float = setting(0.0, _probability, "in [0, 1]", "Share stuck at g_max.")
    p_stuck_random: float = setting(0.0, _probability, "in [0, 1]", "Share stuck at random.")
    nu: float = setting(0.0, non_negative, "a finite number >= 0", "Mean drift exponent.")
    nu_spread: float = setting(
        0.0, non_negative, "a finite number >= 0", "Device-to-device σ of the drift exponent."
    )
    t0: float = setting(20.0, positive, "a finite number > 0 (seconds)", "Drift time origin [s].")

    def __post_init__(self) -> None:
        super().__post_init__()
        owner = type(self).__name__
        if not self.g_max > self.g_min:
            raise SettingsError(
                "g_max", f"must be above g_min ({self.g_min:g}), not {self.g_max!r}", owner
            )
        if self.p_stuck_min + self.p_stuck_max + self.p_stuck_random > 1:
            raise SettingsError(
                "p_stuck_random", "and the other stuck shares must sum to <= 1", owner
            )
        finite = math.isfinite(self.g_max)
        for name, used in (
            ("bits", self.bits > 0),
            ("p_stuck_random", self.p_stuck_random > 0),
            ("p_stuck_max", self.p_stuck_max > 0),
        ):
            if used and not finite:
                raise SettingsError(name, "needs a finite g_max", owner)

    def levels(self) -> np.ndarray:
        """The 2^bits conductances [S] a device can take (``bits`` ≥ 1)."""
        return np.linspace(self.g_min, self.g_max, 2**self.bits)

    def program(self, target: np.ndarray, rng: np.random.Generator) -> Programmed:
        target = np.clip(np.asarray(target, dtype=np.float64), self.g_min, self.g_max)
        g = target
        if self.bits:
            step = (self.g_max - self.g_min) / (2**self.bits - 1)
            g = self.g_min + np.round((g - self.g_min) / step) * step
        if self.prog_noise:
            scale = self.prog_noise * (g if self.prog_noise_kind == "proportional" else 1.0)
            g = np.clip(g + scale * rng.standard_normal(g.shape), self.g_min, self.g_max)
        nu = np.abs(self.nu + self.nu_spread * rng.standard_normal(g.shape))
        stuck_share = self.p_stuck_min + self.p_stuck_max + self.p_stuck_random
        if stuck_share:
            u = rng.uniform(size=g.shape)
            at_min = u < self.p_stuck_min
            at_max = (u >= self.p_stuck_min) & (u < self.p_stuck_min + self.p_stuck_max)
            at_random = (u >= self.p_stuck_min + self.p_stuck_max) & (u < stuck_share)
            g = np.where(at_min, self.g_min, g)
            g = np.where(at_max, self.g_max, g)
            if self.p_stuck_random:
                g = np.where(at_random, rng.uniform(self.g_min, self.g_max, g.shape), g)
            nu = np.where(u < stuck_share, 0.0, nu)
        return Programmed(target, g, nu)

    def at_time(self, devices: Programmed, seconds: float, rng: np.random.Generator) -> np.ndarray:
        return drifted(devices.g, devices.nu, seconds, self.t0)
