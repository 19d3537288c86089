"""ngspice's resistor model (``.model NAME r ...``), read into a value at DC.

A resistor ``R n+ n- [VALUE] MODEL [l=] [w=] [m=] [tc1=] [tc2=]`` takes its resistance
from VALUE, else from the model's ``r`` (alias ``resistance``), else from its geometry:
``rsh·(l − 2·short)/(w − 2·narrow)`` (``w`` defaults to the model's ``defw``, 10 µm;
``dlr`` and ``dw``, ngspice's other names for ``short`` and ``narrow``, win when both
are given). At ΔT from
the nominal temperature (the model's ``tnom``, else the circuit's) it is scaled by
``1.01^(tce·ΔT)`` when ``tce`` is given, else by ``1 + tc1·ΔT + tc2·ΔT²`` (the
instance's coefficients over the model's); ``m`` devices in parallel divide it. Each rule
was checked against ngspice 39 (tests/netlist/test_public_syntax.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from neurosim.circuit.units import temperature_factor

# parameter -> default (NaN: not given); those without a DC part are read and kept aside
RESISTOR_PARAMS: dict[str, float] = {
    "r": math.nan, "resistance": math.nan, "rsh": math.nan, "defw": 10e-6, "narrow": 0.0,
    "short": 0.0, "dw": 0.0, "dlr": 0.0, "tc1": 0.0, "tc2": 0.0, "tce": math.nan,
    "tnom": math.nan, "kf": 0.0, "af": 0.0, "lf": 1.0, "wf": 1.0, "ef": 1.0,
}  # fmt: skip


def model_resistance(
    model: Mapping[str, float],
    value: float | None,
    geometry: Mapping[str, float],
    celsius: float,
    tnom: float,
) -> float:
    """The resistance [Ω] of an instance of ``model`` (given parameters only) with its own
    ``value`` (None: none given) and ``geometry`` (``l``, ``w``, ``m``, ``tc1``, ``tc2``,
    ``tce`` where given) at ``celsius`` [°C] (module docstring); ValueError says what is missing."""
    p = RESISTOR_PARAMS | dict(model)
    if value is None:
        value = p["r"] if math.isfinite(p["r"]) else p["resistance"]
    if not math.isfinite(value):
        if not math.isfinite(p["rsh"]) or "l" not in geometry:
            raise ValueError("needs a value, the model's r, or its rsh and the instance's l=")
        length = geometry["l"] - 2.0 * (p["dlr"] or p["short"])
        width = geometry.get("w", p["defw"]) - 2.0 * (p["dw"] or p["narrow"])
        if length <= 0 or width <= 0:
            raise ValueError(f"its effective length {length:g} m or width {width:g} m is not > 0")
        value = p["rsh"] * length / width
    delta = celsius - (p["tnom"] if math.isfinite(p["tnom"]) else tnom)
    tce = geometry.get("tce", p["tce"])
    tc1, tc2 = geometry.get("tc1", p["tc1"]), geometry.get("tc2", p["tc2"])
    factor = temperature_factor(tc1, tc2, delta, tce if math.isfinite(tce) else None)
    return value * factor / geometry.get("m", 1.0)
