"""aihwkit's pulsed-update devices: a weight moved by pulses of a small, noisy step.

In-situ training writes an update Δw to a device as a number of pulses, each moving it
by about ``dw_min`` (IBM aihwkit, ``simulator/configs/devices.py``: ``PulsedDevice``,
``ConstantStepDevice``, ``SoftBoundsDevice``, ``ExpStepDevice``; presets
``simulator/presets/devices.py``; the update rules
``src/rpucuda/rpu_{pulsed,constantstep,linearstep,expstep}_device.cpp``).
As aihwkit's, a device holds a signed weight w (a differential pair in the circuit:
θ = ``w_unit``·w in model units) and every default below is aihwkit's.

Per device, drawn once (device-to-device, ``PulsedDevice.populate``), with ξ ~ N(0, 1):
bounds b_max = w_max·(1 + w_max_dtod·ξ), b_min = w_min·(1 + w_min_dtod·ξ) (swapped if
crossed, then b_max = |b_max|, b_min = −|b_min|); a gain g = 1 + dw_min_dtod·ξ and an
asymmetry r = up_down_dtod·ξ give the steps up = |(min(up_down, 0) + g + r)·dw_min|
and down = |(−max(up_down, 0) + g − r)·dw_min|.

One pulse up (down), c ~ N(0, 1) drawn per pulse (cycle-to-cycle, ``dw_min_std``):

- constant step: w += up·(1 + dw_min_std·c)  (w −= down·(1 + dw_min_std·c));
- soft bounds: the step shrinks to zero at the bound, s = up·(1 − w/b_max)
  (down·(1 − w/b_min)); with ``mult_noise`` w ± s·(1 + dw_min_std·c), else
  w ± (s + step·dw_min_std·c);
- exp (``ExpStepDevice``): with z = 2w/(b_max − b_min)·a + b, s = up·max(1 −
  A_up·e^(γ_up·z), 0) (down·max(1 − A_down·e^(−γ_down·z), 0)), w ± s·(1 + dw_min_std·c);

then w is clipped to [b_min, b_max] (``mult_noise`` matters for soft bounds only: the
other steps' noise is multiplicative, as aihwkit's). With ``write_noise_std`` > 0 the circuit sees
w + write_noise_std·dw_min·ξ, drawn anew each time a device is written (also when it
is set), while the pulses move the hidden w.

An update Δw becomes n = ⌊|Δw|/dw_min + u⌋ pulses in its direction (u ~ U(0, 1): the
expected number of aihwkit's stochastic pulse coincidences, n·dw_min = |Δw| on
average), at most ``max_pulses`` (aihwkit's pulse-train length ``desired_bl``, 31).
Setting weights (the start of training) clips them to the bounds, as aihwkit's
``set_weights`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from neurosim.validation import Validated, at_least, non_negative, one_of, positive, setting

STEPS = ("constant", "soft_bounds", "exp")


def _bool(value) -> bool:
    return isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


def _negative(value) -> bool:
    return _number(value) and value < 0


@dataclass(frozen=True)
class PulsedArray:
    """The drawn parameters of an array of devices, each of its shape: the steps of one
    pulse up and down and the bounds, in weight units."""

    up: np.ndarray
    down: np.ndarray
    w_min: np.ndarray
    w_max: np.ndarray


@dataclass(frozen=True)
class Written:
    """Devices after a write: the ``hidden`` weights the pulses move, the ``apparent``
    weights the circuit sees (hidden + write noise) and the signed ``pulses`` given."""

    hidden: np.ndarray
    apparent: np.ndarray
    pulses: np.ndarray


@dataclass(frozen=True, kw_only=True)
class ConstantStep(Validated):
    """aihwkit's ``ConstantStepDevice`` (module docstring); defaults are aihwkit's."""

    name: ClassVar[str] = "constant_step"

    step: str = setting(
        "constant",
        one_of(*STEPS),
        ", ".join(STEPS),
        "How a pulse's step depends on w: constant, soft_bounds or exp (module docstring).",
    )
    dw_min: float = setting(0.001, positive, "a finite number > 0", "Mean step of one pulse.")
    dw_min_dtod: float = setting(
        0.3, non_negative, "a finite number >= 0", "Device-to-device σ of the step (rel.)."
    )
    dw_min_std: float = setting(
        0.3, non_negative, "a finite number >= 0", "Cycle-to-cycle σ of a step (rel.)."
    )
    up_down: float = setting(0.0, _number, "a finite number", "Up/down step asymmetry.")
    up_down_dtod: float = setting(
        0.01, non_negative, "a finite number >= 0", "Device-to-device σ of the asymmetry."
    )
    w_max: float = setting(0.6, positive, "a finite number > 0", "Mean upper bound.")
    w_max_dtod: float = setting(
        0.3, non_negative, "a finite number >= 0", "Device-to-device σ of w_max (rel.)."
    )
    w_min: float = setting(-0.6, _negative, "a finite number < 0", "Mean lower bound.")
    w_min_dtod: float = setting(
        0.3, non_negative, "a finite number >= 0", "Device-to-device σ of w_min (rel.)."
    )
    mult_noise: bool = setting(
        False, _bool, "true or false", "Cycle noise proportional to the soft-bound step."
    )
    write_noise_std: float = setting(
        0.0, non_negative, "a finite number >= 0", "Write noise σ in units of dw_min."
    )
    max_pulses: int = setting(31, at_least(1), "a whole number >= 1", "Most pulses per update.")
    w_unit: float = setting(
        1.0, positive, "a finite number > 0 (model units)", "θ of a unit weight."
    )
    a: float = setting(0.244, _number, "a finite number", "exp: scale of z.")
    b: float = setting(0.2425, _number, "a finite number", "exp: offset of z.")
    gamma_up: float = setting(12.44625, _number, "a finite number", "exp: γ of the up step.")
    gamma_down: float = setting(12.78785, _number, "a finite number", "exp: γ of the down step.")
    A_up: float = setting(0.00081, _number, "a finite number", "exp: A of the up step.")
    A_down: float = setting(0.36833, _number, "a finite number", "exp: A of the down step.")

    def devices(self, shape: tuple[int, ...], rng: np.random.Generator) -> PulsedArray:
        """Draw the parameters of an array of ``shape`` devices (module docstring)."""
        w_max = self.w_max * (1 + self.w_max_dtod * rng.standard_normal(shape))
        w_min = self.w_min * (1 + self.w_min_dtod * rng.standard_normal(shape))
        gain = 1 + self.dw_min_dtod * rng.standard_normal(shape)
        r = self.up_down_dtod * rng.standard_normal(shape)
        up = np.abs((min(self.up_down, 0.0) + gain + r) * self.dw_min)
        down = np.abs((-max(self.up_down, 0.0) + gain - r) * self.dw_min)
        low, high = np.minimum(w_min, w_max), np.maximum(w_min, w_max)
        return PulsedArray(up, down, -np.abs(low), np.abs(high))

    def set_weights(self, w: np.ndarray, devices: PulsedArray, rng: np.random.Generator) -> Written:
        """Devices set to weights ``w``: clipped to their bounds, plus write noise."""
        hidden = np.clip(np.asarray(w, dtype=np.float64), devices.w_min, devices.w_max)
        pulses = np.zeros(hidden.shape, dtype=np.int64)
        return Written(hidden, self._apparent(hidden, hidden, True, rng), pulses)

    def update(
        self,
        hidden: np.ndarray,
        apparent: np.ndarray,
        dw: np.ndarray,
        devices: PulsedArray,
        rng: np.random.Generator,
    ) -> Written:
        """Devices at ``hidden`` (seen as ``apparent``) after the pulses that write the
        update ``dw`` (weight units; module docstring)."""
        dw = np.asarray(dw, dtype=np.float64)
        count = np.floor(np.abs(dw) / self.dw_min + rng.uniform(size=dw.shape))
        count = np.minimum(count, self.max_pulses).astype(np.int64)
        up = dw > 0
        w = np.array(hidden, dtype=np.float64).ravel()
        step = np.where(up, devices.up, devices.down).ravel()
        sign = np.where(up, 1.0, -1.0).ravel()
        bound = np.where(up, devices.w_max, devices.w_min).ravel()
        low, high, remaining = devices.w_min.ravel(), devices.w_max.ravel(), count.ravel()
        multiplicative = self.mult_noise or self.step != "soft_bounds"
        for k in range(int(count.max(initial=0))):
            on = np.flatnonzero(remaining > k)
            s = step[on]
            noise = self.dw_min_std * rng.standard_normal(on.size)
            shaped = s * self._shape(w[on], up.ravel()[on], bound[on], low[on], high[on])
            move = shaped * (1 + noise) if multiplicative else shaped + s * noise
            w[on] = np.clip(w[on] + sign[on] * move, low[on], high[on])
        hidden = w.reshape(dw.shape)
        pulses = np.where(up, count, -count)
        return Written(hidden, self._apparent(hidden, apparent, count > 0, rng), pulses)

    def _shape(self, w, up, bound, low, high) -> np.ndarray:
        """The factor a pulse's step takes at weight ``w`` (direction ``up``; ``bound``:
        the device's bound in that direction, ``low``/``high``: both bounds)."""
        if self.step == "constant":
            return np.ones_like(w)
        if self.step == "soft_bounds":
            return 1 - w / bound
        z = 2 * w / (high - low) * self.a + self.b
        y_up = 1 - self.A_up * np.exp(self.gamma_up * z)
        y_down = 1 - self.A_down * np.exp(-self.gamma_down * z)
        return np.maximum(np.where(up, y_up, y_down), 0.0)

    def _apparent(self, hidden, apparent, touched, rng) -> np.ndarray:
        """What the circuit sees: the hidden weights plus write noise drawn anew where
        ``touched``; elsewhere the ``apparent`` weights as they were."""
        if not self.write_noise_std:
            return hidden.copy()
        noisy = hidden + self.write_noise_std * self.dw_min * rng.standard_normal(hidden.shape)
        return np.where(touched, noisy, apparent)


@dataclass(frozen=True, kw_only=True)
class SoftBounds(ConstantStep):
    """aihwkit's ``SoftBoundsDevice``: ``ConstantStepDevice``'s defaults with steps that
    shrink to zero at the bounds and multiplicative cycle noise."""

    name: ClassVar[str] = "soft_bounds"

    step: str = setting(
        "soft_bounds", one_of(*STEPS), ", ".join(STEPS), "How a pulse's step depends on w."
    )
    mult_noise: bool = setting(
        True, _bool, "true or false", "Cycle noise proportional to the soft-bound step."
    )


@dataclass(frozen=True, kw_only=True)
class ReRamSB(ConstantStep):
    """aihwkit's ``ReRamSBPresetDevice``: a loose soft-bounds fit to the ReRAM of Gong
    et al., Nat. Commun. 2018 (additive cycle noise, write noise, asymmetric bounds
    around a symmetry point already subtracted)."""

    name: ClassVar[str] = "reram_sb"

    step: str = setting(
        "soft_bounds", one_of(*STEPS), ", ".join(STEPS), "How a pulse's step depends on w."
    )
    dw_min: float = setting(0.002, positive, "a finite number > 0", "Mean step of one pulse.")
    dw_min_std: float = setting(
        3.75, non_negative, "a finite number >= 0", "Cycle-to-cycle σ of a step (rel.)."
    )
    w_max: float = setting(1.25, positive, "a finite number > 0", "Mean upper bound.")
    w_max_dtod: float = setting(
        0.3 / 1.25, non_negative, "a finite number >= 0", "Device-to-device σ of w_max (rel.)."
    )
    w_min: float = setting(-0.75, _negative, "a finite number < 0", "Mean lower bound.")
    w_min_dtod: float = setting(
        0.3 / 0.75, non_negative, "a finite number >= 0", "Device-to-device σ of w_min (rel.)."
    )
    write_noise_std: float = setting(
        56.0, non_negative, "a finite number >= 0", "Write noise σ in units of dw_min."
    )


@dataclass(frozen=True, kw_only=True)
class ReRamES(ConstantStep):
    """aihwkit's ``ReRamESPresetDevice``: an exponential-step fit to the ReRAM of Gong et
    al., Nat. Commun. 2018 (strong up/down asymmetry, large cycle and write noise)."""

    name: ClassVar[str] = "reram_es"

    step: str = setting("exp", one_of(*STEPS), ", ".join(STEPS), "How a pulse's step depends on w.")
    dw_min: float = setting(0.00135, positive, "a finite number > 0", "Mean step of one pulse.")
    up_down: float = setting(0.259359, _number, "a finite number", "Up/down step asymmetry.")
    w_max: float = setting(1.0, positive, "a finite number > 0", "Mean upper bound.")
    w_min: float = setting(-1.0, _negative, "a finite number < 0", "Mean lower bound.")
    a: float = setting(-0.5, _number, "a finite number", "exp: scale of z.")
    b: float = setting(-0.5, _number, "a finite number", "exp: offset of z.")
    gamma_up: float = setting(5.0, _number, "a finite number", "exp: γ of the up step.")
    gamma_down: float = setting(5.0, _number, "a finite number", "exp: γ of the down step.")
    A_up: float = setting(-1.18445, _number, "a finite number", "exp: A of the up step.")
    A_down: float = setting(-0.081404, _number, "a finite number", "exp: A of the down step.")
    dw_min_dtod: float = setting(
        0.2, non_negative, "a finite number >= 0", "Device-to-device σ of the step (rel.)."
    )
    up_down_dtod: float = setting(
        0.05, non_negative, "a finite number >= 0", "Device-to-device σ of the asymmetry."
    )
    dw_min_std: float = setting(
        5.0, non_negative, "a finite number >= 0", "Cycle-to-cycle σ of a step (rel.)."
    )
    write_noise_std: float = setting(
        75.0, non_negative, "a finite number >= 0", "Write noise σ in units of dw_min."
    )
