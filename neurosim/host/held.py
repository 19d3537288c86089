"""A chip whose springs hold their own sample: the circuit integrates its learned field.

The spring readout f = αλ(x* − x) is the current the settled circuit draws from each
spring's target source. Replace that source by a capacitor C_z = τ_z·g_unit and the
target node z becomes the sample: KCL at z gives τ_z dz/dt = λ(x − z) — with the network
settled around z (τ_z ≫ its settling time), dz/dt = f(z)/(α·τ_z). In the model time
t_m = t/(α·τ_z) that is dz = f(z) dt_m: Euler integration of the field, done by physics
(:mod:`neurosim.engine.transient`, ``held``).

For Langevin dynamics dz = f dt_m + √2 dW_m the node z needs the noise σ_z = √(2/(α·τ_z))
[model units/√s]: a noise current at z of Johnson density 2kT·G, G = λ·g_unit (the
spring resistor's), at

    T = C_z·vs² / (α·λ·k)                                   (:meth:`HeldChip.temperature`)

(from σ_z = √(2kTG)/(C_z·vs), :func:`neurosim.engine.noise.node_sigma`). At C_z = 10 nF
and vs = 0.1 V that is ~10¹⁰ K / (αλ): an injected noise current, as the released
sampler's (:mod:`neurosim.engine.noise`); neurosim reports the temperature a resistor
would need to make it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from neurosim.circuit.ir import GROUND, Circuit, Element
from neurosim.engine.noise import BOLTZMANN, node_sigma, trnoise_rms
from neurosim.errors import CircuitError
from neurosim.host.view import DerivedView


class HeldChip(DerivedView):
    """``chip`` with the springs of visible ``layer`` held by capacitors of time
    constant ``tau`` [s] (module docstring); states are the chip's, the held targets z
    come back as the transient's ``held``."""

    kind = "held"

    def __init__(self, chip, layer: str, tau: float) -> None:
        if not (np.isfinite(tau) and tau > 0):
            raise ValueError(f"the holding time constant must be > 0 seconds, not {tau!r}")
        self.chip, self.layer, self.tau, self._version = chip, layer, float(tau), chip.version
        self._crossbar = chip._crossbar
        self.where = self.free_slices()[layer]
        self.scaling = chip.meta.scaling
        if not np.all(self._crossbar.spring[self.where] > 0):
            raise CircuitError(f"visible layer {layer} has no springs to hold")

    @property
    def capacitance(self) -> float:
        """C_z [F] of each holding capacitor."""
        return self.tau * self.scaling.g_unit

    def held(self) -> np.ndarray:
        """τ_z (free,) [s] on the held units, 0 elsewhere: the transient's ``held``."""
        out = np.zeros(self.free)
        out[self.where] = self.tau
        return out

    def model_time(self, seconds: float, alpha: float) -> float:
        """The model time t/(α·τ_z) that ``seconds`` of circuit time integrate."""
        return seconds / (alpha * self.tau)

    def temperature(self, alpha: float) -> float:
        """T [K] whose Johnson noise of the spring conductance at each z makes the held
        dynamics Langevin at unit temperature in model time (module docstring)."""
        spring = float(np.max(self._crossbar.spring[self.where]))
        vs = self.scaling.volts_per_unit
        return self.capacitance * vs**2 / (alpha * spring * BOLTZMANN)

    def noise(self, temperature: float) -> np.ndarray:
        """σ_z (free,) [model units/√s] at z of the springs' Johnson noise at
        ``temperature`` [K], 0 elsewhere: the transient's ``held_noise``."""
        out = np.zeros(self.free)
        conductance = self._crossbar.spring[self.where] * self.scaling.g_unit
        vs = self.scaling.volts_per_unit
        out[self.where] = node_sigma(conductance, self.capacitance, temperature, vs)
        return out

    def circuit(
        self,
        start: np.ndarray,
        temperature: float = 0.0,
        interval: float | None = None,
        inputs: np.ndarray | None = None,
        title: str | None = None,
    ) -> Circuit:
        """The held circuit, valid ngspice: each held spring's target source replaced by
        a capacitor ``cz_<unit>`` from its node to ground, starting (``ic=``) where the
        spring's target starts — sample 0's ``start`` (free,) [model units] on the held
        units, whose capacitors start there too (the others at ``start``); at
        ``temperature`` > 0 [K] a noise current ``inoise_<node>`` (``trnoise``, samples
        ``interval`` [s] apart) into each held node; ``inputs`` (input width,) [model
        units]: the clamped inputs' values (a noise-conditional circuit's noise level;
        None: the netlist's). Run with ``.tran ... uic``."""
        self._check()
        circuit = self.chip.circuit(title)
        if title is None:
            circuit = replace(circuit, title=f"{circuit.title} ({self.layer} held)")
        start = np.asarray(start, dtype=np.float64)
        if start.shape != (self.free,) or not np.all(np.isfinite(start)):
            raise ValueError(f"start must be {self.free} finite values (one per unit)")
        vs = self.scaling.volts_per_unit
        elements = dict(circuit.elements)
        parts, units = self._crossbar.layout.parts, self._crossbar.layout.units
        for name, value in zip(parts["capacitor"], start * vs, strict=True):
            elements[name] = replace(elements[name], ic=float(value))
        if inputs is not None:
            layout = self._crossbar.layout
            for name, value in zip(layout.sources, np.asarray(inputs) * vs, strict=True):
                elements[name] = replace(elements[name], value=float(value))
        spring = self._crossbar.spring[self.where] * self.scaling.g_unit
        for k, (unit, source) in enumerate(
            zip(units[self.where], parts["spring_source"][self.where], strict=True)
        ):
            node = elements.pop(source).nodes[0]
            value = float(start[self.where][k] * vs)
            _add(elements, Element(f"cz_{unit}", (node, GROUND), self.capacitance, ic=value))
            if temperature > 0:
                if interval is None:
                    raise ValueError("a noisy held circuit needs the noise sample interval")
                rms = float(trnoise_rms(spring[k], temperature, interval))
                extra = f"trnoise({rms:.6g} {interval:.6g} 0 0)"
                _add(elements, Element(f"inoise_{node}", (GROUND, node), 0.0, extra=extra))
        return replace(circuit, elements=elements)


def _add(elements: dict, element: Element) -> None:
    if element.name in elements:
        raise CircuitError(f"the circuit already has an element {element.name}")
    elements[element.name] = element
