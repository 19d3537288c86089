"""Thermal (Johnson–Nyquist) noise of the unit nodes: Langevin dynamics of the circuit.

A resistor of conductance G at temperature T carries a white noise current of one-sided
power spectral density ``S_I = 4kTG`` [A²/Hz] (:func:`johnson_density`; the one
definition of the law here). Put at a unit node of capacitance C, it turns the node's
dynamics into the Itô SDE ``C dV = I(V) dt + √(2kTG) dW`` (the two-sided density 2kTG
is the Wiener increment's variance per second). In model units (``s = V/vs``,
``τ = C/g_unit``, ``leak = G/g_unit``) that is ``ds = F(s)/τ dt + σ dW`` with

    σ = √(2kTG) / (C·vs)                      [model units / √s]   (:func:`diffusion`)

If the unit's drift is a gradient, ``τ ds/dt = −∂Φ/∂s``, the stationary density is
``∝ exp(−Φ/θ)`` with ``θ = τσ²/2 = kT·leak/(C·vs²)`` (:func:`model_temperature`):
the Fokker–Planck equation's zero-flux solution. For a lone node with its leak alone,
``Φ = leak·s²/2``, so the node's variance is ``θ/leak = kT/(C vs²)`` — kT/C in volts,
the classic result (a test checks it, and the multi-node Gaussian case against the
Lyapunov equation).

At 300 K and 100 pF, √(kT/C) is 6.4 µV against a 0.1 V unit, so sampling temperatures
are large (~10⁸–10⁹ K for θ ~ 0.1–1): they describe an injected noise current of the
same density, and neurosim reports the temperature a resistor would need to make it.
A SPICE netlist carries it as an independent current source ``trnoise(NA NT 0 0)``
whose samples, ``NT`` apart, have the rms ``NA = √(2kTG/NT)`` (:func:`sampled_rms`):
white noise of the same low-frequency density, band-limited at 1/(2 NT).
"""

from __future__ import annotations

import numpy as np

from neurosim.lower.crossbar import Crossbar

BOLTZMANN = 1.380649e-23  # J/K (SI, exact)


def johnson_density(conductance: np.ndarray | float, temperature: float) -> np.ndarray:
    """One-sided current-noise density 4kTG [A²/Hz] of conductance [S] at [K]."""
    _check_temperature(temperature)
    return 4.0 * BOLTZMANN * temperature * np.asarray(conductance, dtype=np.float64)


def node_sigma(
    conductance: np.ndarray | float,
    capacitance: np.ndarray | float,
    temperature: float,
    volts_per_unit: float,
) -> np.ndarray:
    """σ = √(2kTG)/(C·vs) [model units/√s]: a node of ``capacitance`` [F] carrying the
    Johnson noise of ``conductance`` [S] at ``temperature`` [K] (module docstring)."""
    two_sided = 0.5 * johnson_density(conductance, temperature)
    return np.sqrt(two_sided) / (np.asarray(capacitance, dtype=np.float64) * volts_per_unit)


def trnoise_rms(conductance: np.ndarray | float, temperature: float, interval: float) -> np.ndarray:
    """Rms current [A] of noise samples ``interval`` [s] apart with the Johnson density
    of ``conductance`` [S] at ``temperature`` [K]: ngspice's ``trnoise`` amplitude."""
    if not (np.isfinite(interval) and interval > 0):
        raise ValueError(f"the noise sample interval must be > 0 seconds, not {interval!r}")
    return np.sqrt(0.5 * johnson_density(conductance, temperature) / interval)


def leak_conductance(crossbar: Crossbar) -> np.ndarray:
    """Each free unit's leak conductance [S], (free,)."""
    return crossbar.leak * crossbar.meta.scaling.g_unit


def diffusion(crossbar: Crossbar, temperature: float, units: slice) -> np.ndarray:
    """σ (free,) [model units/√s]: the leak resistor's noise at ``temperature`` [K] on the
    free units in ``units``, 0 elsewhere (module docstring)."""
    scaling = crossbar.meta.scaling
    capacitance = crossbar.tau * scaling.g_unit
    sigma = np.zeros(crossbar.free)
    leak = leak_conductance(crossbar)[units]
    sigma[units] = node_sigma(leak, capacitance[units], temperature, scaling.volts_per_unit)
    return sigma


def model_temperature(crossbar: Crossbar, temperature: float, units: slice) -> np.ndarray:
    """θ = kT·leak/(C·vs²) of the units in ``units`` (dimensionless, model units of the
    energy): the stationary density is ∝ exp(−Φ/θ) where the drift is −∂Φ/∂s."""
    sigma = diffusion(crossbar, temperature, units)[units]
    return 0.5 * crossbar.tau[units] * sigma**2


def sampled_rms(
    crossbar: Crossbar, temperature: float, units: slice, interval: float
) -> np.ndarray:
    """Rms current [A] of noise samples ``interval`` [s] apart with the leak's density at
    ``temperature``: ngspice's ``trnoise`` amplitude, for the units in ``units``."""
    return trnoise_rms(leak_conductance(crossbar)[units], temperature, interval)


def _check_temperature(temperature: float) -> None:
    if not (np.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"the temperature must be >= 0 kelvin, not {temperature!r}")
