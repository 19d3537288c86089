"""The host's converters: a DAC on each input it sets, an ADC and noise on what it reads.

Unlike a device's conductance (written into the circuit), these act per evaluation, on
the values the host reads (DESIGN §6): ``out_noise`` adds N(0, σ²) to each reading, then
an ``adc_bits`` converter (0: ideal) clips it to [−adc_range, adc_range] and rounds it to
the nearest of 2^bits evenly spaced levels. Values are in model units (×
volts_per_unit: volts). aihwkit's tile defaults for comparison: out_res 1/(2⁹ − 2)
(9 bits), out_noise 0.06 of its output bound (its units differ: MVM outputs).

:class:`Drive` is the DAC on the input rows: each input value the host sets is clipped
to [−dac_range, dac_range] and rounded to the nearest of 2^dac_bits evenly spaced
levels (0: ideal), before the circuit settles. aihwkit's default for comparison:
inp_res 1/(2⁷ − 2) (7 bits) over inp_bound 1.
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
        return quantised(out, self.adc_bits, self.adc_range)


@dataclass(frozen=True, kw_only=True)
class Drive(Validated):
    """A DAC on the input rows (module docstring)."""

    name: ClassVar[str] = "drive"

    dac_bits: int = setting(0, at_least(0), "a whole number >= 0 (0: ideal)", "DAC bits.")
    dac_range: float = setting(
        1.0, positive, "a finite number > 0 (model units)", "DAC full scale ± (model units)."
    )

    def set(self, values: np.ndarray) -> np.ndarray:
        """The inputs the DAC puts out for ``values`` (any shape, model units)."""
        return quantised(np.asarray(values, dtype=np.float64), self.dac_bits, self.dac_range)


def quantised(values: np.ndarray, bits: int, full_scale: float) -> np.ndarray:
    """``values`` clipped to ±``full_scale`` and rounded to the nearest of 2^``bits``
    evenly spaced levels (``bits`` 0: unchanged)."""
    if not bits:
        return values
    step = 2 * full_scale / (2**bits - 1)
    out = np.clip(values, -full_scale, full_scale)
    return np.round((out + full_scale) / step) * step - full_scale
