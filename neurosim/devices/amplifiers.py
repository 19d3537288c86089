"""The chip's amplifiers as made: gain errors, offsets and output swing.

Every unit drives its row lines through a driver amplifier (V_p = k·ρ(s)·vs, its
inverter V_n = −V_p) and takes its column current through an injection amplifier (a
transimpedance stage: gain g on the current it feeds the unit). A fabricated chip's
amplifiers differ from their design, each by its own fixed amount (drawn once per
chip, ξ ~ N(0, 1) per amplifier):

- driver gain k·(1 + ``driver_gain_error``·ξ);
- driver output offset + ``driver_offset``·ξ [V] (before the output limits);
- driver output swing: limited to ±``driver_swing`` [V] (inf: unlimited; a tighter
  limit the driver already has stays);
- injection gain g·(1 + ``injection_gain_error``·ξ).

These are properties of the circuit, so :mod:`neurosim.host.deploy` writes them into
its elements (ngspice sees the same chip). A linear layer's driver is a VCVS (an E
element): it takes the gain error only. Defaults are ideal (CrossSim's and aihwkit's
periphery defaults are ideal too); aihwkit models the same effects as output noise and
bounds on its MVM (``IOParameters``: out_bound, out_noise), not per amplifier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from neurosim.validation import Validated, non_negative, setting


def _swing(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class AmplifierErrors:
    """One chip's amplifiers: relative driver and injection gains (1: exact) and driver
    offsets [V], one per amplifier."""

    driver_gain: np.ndarray
    driver_offset: np.ndarray
    injection_gain: np.ndarray


@dataclass(frozen=True, kw_only=True)
class Amplifiers(Validated):
    """Gain errors, offsets and swing of the amplifiers (module docstring)."""

    name: ClassVar[str] = "amplifiers"

    driver_gain_error: float = setting(
        0.0, non_negative, "a finite number >= 0", "σ of each driver's relative gain error."
    )
    driver_offset: float = setting(
        0.0, non_negative, "a finite number >= 0 (volts)", "σ of each driver's offset [V]."
    )
    driver_swing: float = setting(
        math.inf, _swing, "a number > 0 (volts; inf: unlimited)", "Driver output limit ±[V]."
    )
    injection_gain_error: float = setting(
        0.0, non_negative, "a finite number >= 0", "σ of each injection's relative gain error."
    )

    def draw(self, drivers: int, injections: int, rng: np.random.Generator) -> AmplifierErrors:
        """The errors of a chip with ``drivers`` row drivers and ``injections`` units."""
        return AmplifierErrors(
            1 + self.driver_gain_error * rng.standard_normal(drivers),
            self.driver_offset * rng.standard_normal(drivers),
            1 + self.injection_gain_error * rng.standard_normal(injections),
        )

    def ideal(self) -> bool:
        """True if these amplifiers are exact."""
        return self == Amplifiers()
