"""The DC law of a pn junction as ngspice's level-1 diode model has it (DESIGN.md §1).

With ``vte = N·Vt`` and ``isat = IS·area``, the current from anode to cathode at a
junction voltage ``vd`` is

    i(vd) = isat·(exp(vd/vte) − 1)             for vd ≥ −3·vte,
    i(vd) = −isat·(1 + (3·vte/(e·vd))³)         below (ngspice's reverse branch),

plus ``GMIN·vd`` in parallel, as ngspice's ``dioload`` adds it (both branches meet at
−3·vte with the same value). The exponent is capped at ``MAX_EXPONENT`` so that a wild
Newton trial stays finite; i is increasing, so its co-content
``∫₀^vd i(u) du`` is convex — the diode's share of a resistive circuit's energy.
Breakdown (BV) is not modelled here. The constants are ngspice's (CODATA 2014 k and q);
:func:`junction_at` gives isat and vte at the circuit's temperature (27 °C = TNOM unless
``.temp`` or ``.options temp=`` says otherwise).
"""

from __future__ import annotations

import numpy as np

from neurosim.circuit.units import KELVIN, TNOM_CELSIUS, temperature_factor

BOLTZMANN = 1.38064852e-23
CHARGE = 1.6021766208e-19
TEMPERATURE = KELVIN + TNOM_CELSIUS
THERMAL_VOLTAGE = BOLTZMANN * TEMPERATURE / CHARGE
GMIN = 1e-12
MAX_EXPONENT = 700.0


def junction_at(
    saturation: float, n: float, eg: float, xti: float, celsius: float, tnom: float
) -> tuple[float, float]:
    """(isat [A], vte [V]) of a junction of saturation current ``saturation`` [A] at the
    nominal temperature ``tnom`` [°C], emission coefficient ``n``, energy gap ``eg``
    [eV] and saturation-current exponent ``xti``, at ``celsius`` [°C] — SPICE's level-1
    temperature law (as ngspice's ``diotemp``)::

        vte = n·k·T/q,   isat(T) = IS·exp((T/Tnom − 1)·eg/vte + (xti/n)·ln(T/Tnom))
    """
    t, t0 = KELVIN + celsius, KELVIN + tnom
    vte = n * BOLTZMANN * t / CHARGE
    return saturation * np.exp((t / t0 - 1.0) * eg / vte + xti / n * np.log(t / t0)), vte


def diode_at(model, area: float, celsius: float, tnom: float) -> tuple[float, float, float]:
    """(isat [A], vte [V], rs [Ω]) of a diode of ``model`` (:class:`neurosim.circuit.ir.
    Model`) and ``area`` at ``celsius`` [°C]: :func:`junction_at`, from the model's own
    TNOM when it sets one (else ``tnom``), and rs·(1 + trs1·ΔT + trs2·ΔT²)."""
    own = model.get("tnom")
    t0 = own if np.isfinite(own) else tnom
    isat, vte = junction_at(
        model.get("is") * area, model.get("n"), model.get("eg"), model.get("xti"), celsius, t0
    )
    factor = temperature_factor(model.get("trs1"), model.get("trs2"), celsius - t0)
    return isat, vte, model.get("rs") * factor


def junction_current(vd, isat, vte) -> tuple[np.ndarray, np.ndarray]:
    """Current [A] and its conductance di/dvd [S] at junction voltages ``vd`` [V]
    (arrays broadcast against ``isat`` [A] and ``vte`` [V]). Past the exponent's cap the
    conductance stays the exponential's (as ngspice's), a steep slope that keeps Newton
    steps short there."""
    vd = np.asarray(vd, dtype=np.float64)
    x = np.minimum(vd / vte, MAX_EXPONENT)
    forward = vd >= -3.0 * vte
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        expo = np.exp(np.where(forward, x, 0.0))
        arg = (3.0 * vte / (np.where(forward, -1.0, vd) * np.e)) ** 3
        current = np.where(forward, isat * (expo - 1.0), -isat * (1.0 + arg))
        slope = np.where(forward, isat * expo / vte, isat * 3.0 * arg / vd)
    return current + GMIN * vd, slope + GMIN


def junction_co_content(vd, isat, vte) -> np.ndarray:
    """∫₀^vd i(u) du [W] of :func:`junction_current` (so its derivative is the current)."""
    vd = np.asarray(vd, dtype=np.float64)
    knee = -3.0 * vte
    cap = MAX_EXPONENT * vte
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        below_cap = np.minimum(vd, cap)
        forward = isat * (vte * np.expm1(np.maximum(below_cap, knee) / vte) - below_cap)
        forward += isat * np.expm1(MAX_EXPONENT) * np.maximum(vd - cap, 0.0)
        # below the knee: ∫ −isat(1 + c/u³) du from the knee, c = (3·vte/e)³
        c = (3.0 * vte / np.e) ** 3
        at_knee = isat * (vte * np.expm1(-3.0) + 3.0 * vte)
        u = np.where(vd < knee, vd, knee)
        reverse = at_knee - isat * ((u - knee) - 0.5 * c * (1.0 / u**2 - 1.0 / knee**2))
    return np.where(vd >= knee, forward, reverse) + 0.5 * GMIN * vd**2
