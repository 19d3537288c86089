"""The host's readout path: what an ADC and output noise do to each value it reads.

Unlike a device's conductance (written into the circuit), these act per evaluation, on
the values the host reads (DESIGN §6): ``out_noise`` adds N(0, σ²) to each reading, then
an ``adc_bits`` converter (0: ideal) clips it to [−adc_range, adc_range] and rounds it to
the nearest of 2^bits evenly spaced levels. Values are in model units (×
volts_per_unit: volts). aihwkit's tile defaults for comparison: out_res 1/(2⁹ − 2)
(9 bits), out_noise 0.06 of its output bound (its units differ: MVM outputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from neurosim.validation import Validated, at_least, non_negative, positive, setting


@dataclass(frozen=True, kw_only=True)
class Readout(Validated):
    """An ADC and output noise on the host's readings (module docstring)."""

    name: ClassVar[str] = "readout"

    adc_bits: int = setting(0, at_least(0), "a whole number >= 0 (0: ideal)", "ADC bits.")
    adc_range: float = setting(
        1.0, positive, "a finite number > 0 (model units)", "ADC full scale ± (model units)."
    )
    out_noise: float = setting(
        0.0, non_negative, "a finite number >= 0 (model units)", "Output noise σ per reading."
    )

    def levels(self) -> np.ndarray:
        """The 2^bits values the ADC gives (``adc_bits`` ≥ 1)."""
        return np.linspace(-self.adc_range, self.adc_range, 2**self.adc_bits)

    def read(self, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """What the host reads of ``values`` (any shape, model units)."""
        out = np.asarray(values, dtype=np.float64)
        if self.out_noise:
            out = out + self.out_noise * rng.standard_normal(out.shape)
        if self.adc_bits:
            step = 2 * self.adc_range / (2**self.adc_bits - 1)
            out = np.clip(out, -self.adc_range, self.adc_range)
            out = np.round((out + self.adc_range) / step) * step - self.adc_range
        return out
