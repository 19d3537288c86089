"""The host's view of an oscillator Ising machine (:mod:`neurosim.network.oscillator`).

The host sets the input sources and the nudge (strength and target), lets the phases
settle from the capacitors' start (:mod:`neurosim.engine.oscillator`), reads each output
as cos φ, and reprograms the behavioural sources' coefficients. The local rules read
phase correlations only (DESIGN §3.3): with E as in :mod:`neurosim.engine.oscillator`,
∂E/∂J_ab = −cos(φ_a − φ_b), ∂E/∂J_xb = −x·cos φ_b, ∂E/∂h = −cos φ and ∂E/∂K = −½ cos 2φ.
The nudge is β·½(cos φ − t)², so the EP estimators of :mod:`neurosim.learn.estimators`
apply unchanged; sources are :class:`neurosim.engine.sources.Sources` and states are
the phases, the free layers in the network's order.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from neurosim.circuit.ir import Circuit
from neurosim.circuit.oscillator import expression, source_names
from neurosim.engine.oscillator import lower_oscillator
from neurosim.engine.relax import Equilibrium, relax
from neurosim.engine.sources import Sources
from neurosim.errors import CircuitError, ConvergenceError
from neurosim.host.family import FamilyHost

NO_DEVICES = (
    "an oscillator network has no devices to program: its couplings, fields and locking "
    "strengths are behavioural current sources, not conductances"
)


class OscillatorChip(FamilyHost):
    """An oscillator network circuit as a host sees it (module docstring); its
    parameters are unbounded and a checkpoint stores their values."""

    def __init__(self, circuit: Circuit) -> None:
        if any(a == b for a, b in circuit.network.couplings):
            raise CircuitError("training a layer coupled to itself is not supported yet")
        self._circuit = circuit
        self._system = lower_oscillator(circuit)
        meta = circuit.network
        self._sources = source_names(meta)
        units = {u: k for k, u in enumerate(self._system.units)}
        inputs = {u: k for k, u in enumerate(self._system.inputs)}
        self._index = {}  # parameter -> (rows, columns) into its system array, flat order
        for name, entries in self._sources.items():
            rows = [units[node] for _, _, _, node, _ in entries]
            if entries[0][1] == "input":
                rows = [inputs[other] for *_, other in entries]
            columns = [
                units[other] if kind == "coupling" else units[node]
                for _, kind, _, node, other in entries
            ]
            self._index[name] = (np.array(rows), np.array(columns))
        self._as_read = self._read(self._system)
        self._held = {name: v.copy() for name, v in self._as_read.items()}
        self._masks = {
            name: np.array([circuit.is_trainable(e[0]) for e in entries])
            for name, entries in self._sources.items()
        }
        self.trained = tuple(name for name, mask in self._masks.items() if mask.any())
        self._programmed = {e[0] for entries in self._sources.values() for e in entries}
        self.version = 0

    def sources(self, batch: int = 1) -> Sources:
        """Zero inputs and targets with the netlist's nudge, ``batch`` times."""
        return self._system.sources_from_settings([{}] * batch)

    def settle(
        self, sources: Sources, *, throw: bool = False, start=None, **options
    ) -> Equilibrium:
        """The phases where the circuit settles under ``sources`` from ``start`` (default:
        the capacitors' start phases); ``options`` as :func:`neurosim.engine.relax.relax`."""
        if start is None:
            start = np.tile(self._system.start, (sources.batch, 1))
        settled = relax(self._programmed_system(), sources, start=start, throw=False, **options)
        if throw and not settled.ok:
            raise ConvergenceError(settled.summary())
        return settled

    def read(self, state: np.ndarray, layer: str) -> np.ndarray:
        """cos φ of ``layer``'s oscillators at ``state`` (batch, size)."""
        return np.cos(state[:, self.free_slices()[layer]])

    outputs = read  # no readout path: what the host reads is exact

    def local_gradients(self, sources: Sources, state: np.ndarray) -> dict[str, np.ndarray]:
        """Batch-mean ∂E/∂θ of every trained parameter at ``state`` (module docstring)."""
        shapes = self.meta.parameter_shapes()
        out = {}
        for name in self.trained:
            rows, columns = self._index[name]
            kind = self._sources[name][0][1]
            if kind == "coupling":
                grad = -np.cos(state[:, rows] - state[:, columns])
            elif kind == "input":
                grad = -sources.inputs[:, rows] * np.cos(state[:, columns])
            elif kind == "field":
                grad = -np.cos(state[:, columns])
            else:
                grad = -0.5 * np.cos(2.0 * state[:, columns])
            out[name] = grad.mean(axis=0).reshape(shapes[name])
        return out

    def circuit(self, title: str | None = None) -> Circuit:
        """The circuit with its sources as programmed; everything else as given."""
        elements = dict(self._circuit.elements)
        for name, entries in self._sources.items():
            now, then = self._theta[name], self._as_read[name]
            for k in np.flatnonzero(now != then):
                element, kind, _, node, other = entries[k]
                tree = expression(self.meta, kind, now[k], node, other)
                elements[element] = replace(elements[element], expr=tree)
        return replace(self._circuit, title=title or self._circuit.title, elements=elements)

    def _read(self, system) -> dict[str, np.ndarray]:
        """Every parameter's values in the lowered system, flat."""
        out = {}
        for name, (rows, columns) in self._index.items():
            kind = self._sources[name][0][1]
            if kind == "coupling":
                out[name] = system.couplings[rows, columns].copy()
            elif kind == "input":
                out[name] = system.input_couplings[rows, columns].copy()
            elif kind == "field":
                out[name] = system.fields[columns].copy()
            else:
                out[name] = system.locking[columns].copy()
        return out

    def _programmed_system(self):
        """The lowered system with the parameters as programmed."""
        couplings = self._system.couplings.copy()
        input_couplings = self._system.input_couplings.copy()
        fields, locking = self._system.fields.copy(), self._system.locking.copy()
        for name, (rows, columns) in self._index.items():
            kind, theta = self._sources[name][0][1], self._theta[name]
            if kind == "coupling":
                couplings[rows, columns] = couplings[columns, rows] = theta
            elif kind == "input":
                input_couplings[rows, columns] = theta
            elif kind == "field":
                fields[columns] = theta
            else:
                locking[columns] = theta
        return replace(
            self._system,
            couplings=couplings,
            input_couplings=input_couplings,
            fields=fields,
            locking=locking,
        )
