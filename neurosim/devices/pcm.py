"""aihwkit's PCM-like device model (``PCMLikeNoiseModel``, IBM aihwkit
``src/aihwkit/inference/noise/pcm.py``; Nandakumar et al., ICECS 2019), in SI units.

With x = g_T/g_max for a device programmed to target g_T [S]:

- programming: g_prog = max(g_T + s_p·σ_p·N(0, 1), 0), with σ_p = (c0 + c1·x + c2·x²)
  in µS, fitted at g_max = 25 µS and scaled by g_max/25 µS; c = (0.26348, 1.9650,
  −1.1731);
- drift exponent, per device: ν = s_d·|μ + σ·N(0, 1)|, μ = clip(−0.0155·ln x + 0.0244,
  0.049, 0.1), σ = clip(−0.0125·ln x − 0.0059, 0.008, 0.045) (x clipped at ≥ 1e-7);
- t seconds after programming: g_drift = g_prog·((t + t0)/t0)^−ν (t0 = 20 s) plus the
  1/f read noise accumulated since programming, g = max(g_drift + s_r·|g_drift|·
  Q_s·√ln((t + t0 + t_read)/(2·t_read))·N(0, 1), 0), Q_s = min(0.0088/max(x^0.65,
  1e-3), 0.2), t_read = 250 ns. aihwkit's code takes x of g_prog here where its docs
  take g_T; its maintainers say the docs are right (aihwkit issue #436): g_T is used.

s_p, s_r, s_d are ``prog_noise_scale``, ``read_noise_scale``, ``drift_scale`` (default
1); every name is aihwkit's. Targets above g_max cannot be reached: they are programmed
to g_max. Right after programming (no time given) the devices hold g_prog; aihwkit's
drift at t_inference = 0 is :meth:`PCMLike.at_time` with 0 s (it adds the read noise
accumulated over t0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from neurosim.devices.base import Programmed, drifted
from neurosim.validation import Validated, non_negative, positive, setting

PROG_COEFF_US = (0.26348, 1.9650, -1.1731)  # µS, fitted at PROG_REFERENCE_G_MAX
PROG_REFERENCE_G_MAX = 25e-6  # S
ZERO_CLIP = 1e-7  # smallest g_T/g_max the drift fit is evaluated at


@dataclass(frozen=True, kw_only=True)
class PCMLike(Validated):
    """aihwkit's PCM-like model (module docstring); defaults are aihwkit's."""

    name: ClassVar[str] = "pcm"

    g_max: float = setting(
        25e-6, positive, "a finite number > 0 (siemens)", "Largest conductance [S]."
    )
    t0: float = setting(20.0, positive, "a finite number > 0 (seconds)", "Drift time origin [s].")
    t_read: float = setting(
        250e-9, positive, "a finite number > 0 (seconds)", "1/f noise read duration [s]."
    )
    prog_noise_scale: float = setting(
        1.0, non_negative, "a finite number >= 0", "Scale of the programming noise."
    )
    read_noise_scale: float = setting(
        1.0, non_negative, "a finite number >= 0", "Scale of the accumulated 1/f read noise."
    )
    drift_scale: float = setting(
        1.0, non_negative, "a finite number >= 0", "Scale of the drift exponents."
    )

    def programming_sigma(self, target: np.ndarray) -> np.ndarray:
        """σ_p [S] of devices programmed to ``target`` [S] (before ``prog_noise_scale``)."""
        x = np.asarray(target) / self.g_max
        c0, c1, c2 = PROG_COEFF_US
        return (c0 + c1 * x + c2 * x * x) * 1e-6 * (self.g_max / PROG_REFERENCE_G_MAX)

    def drift_moments(self, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """μ and σ of the normal whose magnitude is ν, for ``target`` [S]."""
        log_x = np.log(np.maximum(np.abs(np.asarray(target)) / self.g_max, ZERO_CLIP))
        mu = np.clip(-0.0155 * log_x + 0.0244, 0.049, 0.1)
        sigma = np.clip(-0.0125 * log_x - 0.0059, 0.008, 0.045)
        return mu, sigma

    def read_noise_sigma(self, target: np.ndarray, seconds: float) -> np.ndarray:
        """Relative σ of the 1/f noise accumulated ``seconds`` after programming."""
        x = np.abs(np.asarray(target)) / self.g_max
        q_s = np.minimum(0.0088 / np.maximum(x**0.65, 1e-3), 0.2)
        t = seconds + self.t0
        return q_s * np.sqrt(np.log((t + self.t_read) / (2.0 * self.t_read)))

    def program(self, target: np.ndarray, rng: np.random.Generator) -> Programmed:
        target = np.minimum(np.asarray(target, dtype=np.float64), self.g_max)
        noise = rng.standard_normal(target.shape)
        g = np.maximum(target + self.prog_noise_scale * self.programming_sigma(target) * noise, 0.0)
        mu, sigma = self.drift_moments(target)
        nu = self.drift_scale * np.abs(mu + sigma * rng.standard_normal(target.shape))
        return Programmed(target, g, nu)

    def at_time(self, devices: Programmed, seconds: float, rng: np.random.Generator) -> np.ndarray:
        g = drifted(devices.g, devices.nu, seconds, self.t0)
        sigma = self.read_noise_scale * self.read_noise_sigma(devices.target, seconds)
        return np.maximum(g + np.abs(g) * sigma * rng.standard_normal(g.shape), 0.0)
