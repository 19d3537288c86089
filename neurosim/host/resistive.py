"""The host's view of a deep resistive network (:mod:`neurosim.network.resistive`).

What a host beside such a chip does, and no more: set the input source pairs, the
nudge conductances and their target sources, let the circuit settle (batched Newton on
its nodal equations, :mod:`neurosim.engine.diode_network`), read node voltages, and
program each device's conductance. The circuit's energy is its co-content, so a device
of conductance G across ΔV contributes ½·G·ΔV² and, with θ = G/g_unit and energies in
units of g_unit·vs², ∂E/∂θ = ½·(ΔV/vs)²: each device's local update needs only the
voltage across it (DESIGN §3.2). The nudge of an output unit is the crossbar's (a VCCS
of β·g_unit toward its target source), so the EP estimators of
:mod:`neurosim.learn.estimators` apply unchanged; sources are
:class:`neurosim.engine.sources.Sources` and states are the unit nodes' voltages ÷ vs,
the free layers in the network's order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.resistive import device_ends, device_names
from neurosim.engine.diode_network import SourceValues, lower_diode_network
from neurosim.engine.relax import Equilibrium, relax
from neurosim.engine.sources import Sources
from neurosim.errors import CircuitError, ConvergenceError
from neurosim.netlist.write import element_line


class ResistiveChip:
    """A resistive network circuit as a host sees it (module docstring)."""

    general = None  # settled by the engine, always
    note = None
    readout = None
    drive = None

    def __init__(self, circuit: Circuit) -> None:
        meta = circuit.network
        if meta is None or meta.family != "resistive":
            raise CircuitError("the circuit is not a neurosim resistive network")
        self._circuit = circuit
        self._system = lower_diode_network(circuit)
        scaling = meta.scaling
        self._low = scaling.g_min / scaling.g_unit
        self._names = device_names(meta)
        index = {node: i for i, node in enumerate(self._system.nodes)}
        missing = [n for names in self._names.values() for n in names if n not in circuit.elements]
        if missing:
            raise CircuitError(f"the resistive network lacks device {missing[0]}")
        self._ends = {}  # parameter -> (devices, 2) node indices (-1: ground)
        for name, pairs in device_ends(meta).items():
            for element, nodes in zip(self._names[name], pairs, strict=True):
                if tuple(circuit.elements[element].nodes) != nodes:
                    raise CircuitError(
                        f"device {element} joins {' '.join(circuit.elements[element].nodes)}, "
                        f"the network needs {' '.join(nodes)}"
                    )
            self._ends[name] = np.array([[index.get(n, -1) for n in p] for p in pairs])
        self._as_read = {
            name: np.array([1.0 / (circuit.elements[e].value * scaling.g_unit) for e in names])
            for name, names in self._names.items()
        }
        self._theta = {name: values.copy() for name, values in self._as_read.items()}
        self._masks = {
            name: np.array([circuit.is_trainable(e) for e in names])
            for name, names in self._names.items()
        }
        self.trained = tuple(name for name, mask in self._masks.items() if mask.any())
        self._units = self._unit_order(meta, index)
        self._nudges = self._nudge_elements(meta, circuit)
        self._fixed_laplacian = self._system.laplacian - self._device_laplacian(
            self._as_read, self._netlist_nudge()
        )
        self.version = 0

    # what the chip is
    @property
    def meta(self) -> NetworkMeta:
        return self._circuit.network

    @property
    def free(self) -> int:
        return len(self._units)

    def free_slices(self) -> dict[str, slice]:
        """Free layer -> its slice of a state vector (network order)."""
        out, start = {}, 0
        for layer in self.meta.layers:
            if layer.kind != "input":
                out[layer.name] = slice(start, start + layer.size)
                start += layer.size
        return out

    def input_slices(self) -> dict[str, slice]:
        """Input layer -> its slice of the input sources."""
        out, start = {}, 0
        for layer in self.meta.layers:
            if layer.kind == "input":
                out[layer.name] = slice(start, start + layer.size)
                start += layer.size
        return out

    def sources(self, batch: int = 1) -> Sources:
        """The netlist's own source settings, ``batch`` times (inputs read off the
        positive source of each pair)."""
        vs, g_unit = self.meta.scaling.volts_per_unit, self.meta.scaling.g_unit
        elements = self._circuit.elements
        inputs = [
            elements[f"vin_{layer.name}_{i}_p"].value / vs
            for layer in self.meta.layers
            if layer.kind == "input"
            for i in range(layer.size)
        ]
        targets = np.zeros(self.free)
        nudge = np.zeros(self.free)
        for unit, (gn, vnt) in self._nudges.items():
            targets[unit] = elements[vnt].value / vs
            nudge[unit] = elements[gn].value / g_unit
        return Sources(
            inputs=np.tile(np.array(inputs, dtype=float), (batch, 1)),
            targets=np.zeros((batch, self.free)),
            nudge_targets=np.tile(targets, (batch, 1)),
            nudge=nudge,
        )

    # settle and read
    def settle(
        self, sources: Sources, *, throw: bool = False, start=None, **options
    ) -> Equilibrium:
        """The circuit's equilibrium under ``sources`` (unique: its co-content is
        strictly convex); ``options`` as :func:`neurosim.engine.relax.relax`."""
        vs = self.meta.scaling.volts_per_unit
        system = replace(
            self._system,
            laplacian=self._fixed_laplacian + self._device_laplacian(self._theta, sources.nudge),
        )
        values = self._source_values(sources)
        guess = None
        if start is not None:
            guess = np.zeros((sources.batch, self._system.free))
            guess[:, self._units] = np.asarray(start) * vs
        settled = relax(system, values, start=guess, throw=False, **options)
        state = settled.state[:, self._units] / vs
        settled = replace(settled, state=state)
        if throw and not settled.ok:
            raise ConvergenceError(settled.summary())
        return settled

    def read(self, state: np.ndarray, layer: str) -> np.ndarray:
        """The units of ``layer`` at ``state`` (batch, free): (batch, size), model units."""
        return state[:, self.free_slices()[layer]]

    def voltages(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """Every node's voltage [V] (batch, nodes + 1; the last column ground) with the
        units at ``state`` (batch, free), in the order of the lowered system's nodes."""
        vs = self.meta.scaling.volts_per_unit
        free = np.zeros((state.shape[0], self._system.free))
        free[:, self._units] = state * vs
        fixed = self._source_values(sources).values @ self._system.fixing
        return np.concatenate([free, fixed, np.zeros((state.shape[0], 1))], axis=1)

    def local_gradients(self, sources: Sources, state: np.ndarray) -> dict[str, np.ndarray]:
        """Batch-mean ∂E/∂θ = ½(ΔV/vs)² of every trained parameter's devices at
        ``state`` (batch, free), each in its parameter's shape."""
        vs = self.meta.scaling.volts_per_unit
        v = self.voltages(sources, state)
        out = {}
        for name in self.trained:
            ends = self._ends[name]
            across = (v[:, ends[:, 0]] - v[:, ends[:, 1]]) / vs
            out[name] = (0.5 * np.mean(across**2, axis=0)).reshape(self._shape(name))
        return out

    # program
    def program(self, deltas: Mapping[str, np.ndarray]) -> None:
        """Move each parameter by ``deltas[name]`` (θ = G/g_unit, the parameter's shape),
        each device held in [g_min, g_unit]; only devices marked trainable change."""
        for name, delta in deltas.items():
            if name not in self.trained:
                raise KeyError(f"{name} is not a trained parameter of this chip")
            delta = np.asarray(delta, dtype=np.float64)
            if delta.shape != self._shape(name):
                raise ValueError(
                    f"{name}: update of shape {delta.shape}, expected {self._shape(name)}"
                )
            moved = np.clip(self._theta[name] + delta.ravel(), self._low, 1.0)
            self._theta[name] = np.where(self._masks[name], moved, self._theta[name])
        self.version += 1

    def parameters(self) -> dict[str, np.ndarray]:
        """Every parameter θ = G/g_unit, in its shape."""
        return {
            name: theta.reshape(self._shape(name)).copy() for name, theta in self._theta.items()
        }

    def device_state(self) -> dict[str, np.ndarray]:
        """What a checkpoint stores: every device's conductance [S]."""
        g_unit = self.meta.scaling.g_unit
        return {f"conductance/{name}": theta * g_unit for name, theta in self._theta.items()}

    def load_device_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Put the devices of ``state`` (from :meth:`device_state`) back."""
        if set(state) != {f"conductance/{name}" for name in self._theta}:
            raise CircuitError("the saved device state is for another circuit")
        g_unit = self.meta.scaling.g_unit
        for key, value in state.items():
            name = key.split("/", 1)[1]
            if np.shape(value) != self._theta[name].shape:
                raise CircuitError(f"the saved conductances of {name} have another shape")
            self._theta[name] = np.array(value, dtype=np.float64) / g_unit
        self.version += 1

    def set_values(self, values: Mapping[str, np.ndarray]) -> None:
        """Program each parameter of ``values`` (θ, its shape) exactly."""
        self.program({name: np.asarray(v) - self.parameters()[name] for name, v in values.items()})

    def set_readout(self, readout, seed: int = 0) -> None:
        if readout is not None:
            raise CircuitError("an ADC readout is not modelled for resistive networks yet")

    def set_drive(self, drive) -> None:
        if drive is not None:
            raise CircuitError("an input DAC is not modelled for resistive networks yet")

    def stray_trainable(self) -> list[str]:
        """Elements marked trainable that are no device of the network."""
        devices = {name for names in self._names.values() for name in names}
        return [
            name
            for name in self._circuit.elements
            if self._circuit.is_trainable(name) and name not in devices
        ]

    def circuit(self, title: str | None = None) -> Circuit:
        """The circuit with its devices as programmed; everything else as given."""
        g_unit = self.meta.scaling.g_unit
        elements = dict(self._circuit.elements)
        for name, names in self._names.items():
            now, then = self._theta[name], self._as_read[name]
            for index in np.flatnonzero(now != then):
                element = elements[names[index]]
                elements[element.name] = replace(element, value=float(1.0 / (now[index] * g_unit)))
        return replace(self._circuit, title=title or self._circuit.title, elements=elements)

    def fingerprint(self) -> str:
        """SHA-256 of every element that is not a device (its line), the device names and
        the trainable marks."""
        devices = {name for names in self._names.values() for name in names}
        digest = hashlib.sha256()
        for name, element in self._circuit.elements.items():
            digest.update((name if name in devices else element_line(element)).encode())
            digest.update(b"\n")
        digest.update(" ".join(self._circuit.trainable).encode())
        return digest.hexdigest()

    # helpers
    def _shape(self, name: str) -> tuple[int, ...]:
        return self.meta.parameter_shapes()[name]

    def _unit_order(self, meta: NetworkMeta, index: dict[str, int]) -> np.ndarray:
        """The lowered system's free-node index of each unit, in state order."""
        units = [
            f"{layer.name}_{i}"
            for layer in meta.layers
            if layer.kind != "input"
            for i in range(layer.size)
        ]
        order = np.array([index[u] for u in units])
        if self._system.free != len(units) or np.any(order >= self._system.free):
            raise CircuitError("a resistive network's only free nodes are its units")
        return order

    def _nudge_elements(self, meta: NetworkMeta, circuit: Circuit) -> dict[int, tuple[str, str]]:
        """Unit (state index) -> (its nudge VCCS, its target source), where present."""
        out = {}
        for layer, where in self.free_slices().items():
            for i in range(meta.layer(layer).size):
                gn, vnt = f"gn_{layer}_{i}", f"vnt_{layer}_{i}"
                if gn in circuit.elements and vnt in circuit.elements:
                    out[where.start + i] = (gn, vnt)
        return out

    def _netlist_nudge(self) -> np.ndarray:
        nudge = np.zeros(self.free)
        for unit, (gn, _) in self._nudges.items():
            nudge[unit] = self._circuit.elements[gn].value / self.meta.scaling.g_unit
        return nudge

    def _device_laplacian(self, theta: Mapping[str, np.ndarray], nudge: np.ndarray) -> np.ndarray:
        """The Laplacian [S] of the devices at ``theta`` and of the nudges (free,), over
        the lowered system's nodes (ground dropped)."""
        g_unit = self.meta.scaling.g_unit
        size = len(self._system.nodes) + 1
        ends = [self._ends[name] for name in self._names]
        values = [theta[name] * g_unit for name in self._names]
        targets = self._system.nodes.index
        for unit, (_, vnt) in self._nudges.items():
            node = self._circuit.elements[vnt].nodes[0]
            ends.append(np.array([[self._units[unit], targets(node)]]))
            values.append(np.array([nudge[unit] * g_unit]))
        a, b = np.concatenate(ends).T
        g = np.concatenate(values)
        a = np.where(a < 0, size - 1, a)
        b = np.where(b < 0, size - 1, b)
        out = np.zeros((size, size))
        np.add.at(out, (a, a), g)
        np.add.at(out, (b, b), g)
        np.add.at(out, (a, b), -g)
        np.add.at(out, (b, a), -g)
        return out[:-1, :-1]

    def _source_values(self, sources: Sources) -> SourceValues:
        """The lowered system's source values for ``sources`` (inputs as ±x·vs pairs,
        nudge targets ×vs)."""
        vs = self.meta.scaling.volts_per_unit
        column = {name: k for k, name in enumerate(self._system.sources)}
        values = np.tile(self._system.defaults, (sources.batch, 1))
        k = 0
        for layer in self.meta.layers:
            if layer.kind != "input":
                continue
            for i in range(layer.size):
                x = sources.inputs[:, k] * vs
                values[:, column[f"vin_{layer.name}_{i}_p"]] = x
                values[:, column[f"vin_{layer.name}_{i}_n"]] = -x
                k += 1
        for unit, (_, vnt) in self._nudges.items():
            values[:, column[vnt]] = sources.nudge_targets[:, unit] * vs
        return SourceValues(values)
