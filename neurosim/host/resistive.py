"""The host's view of a deep resistive network (:mod:`neurosim.network.resistive`).

What a host beside such a chip does, and no more: set the input source pairs, the
nudge conductances and their target sources, let the circuit settle (batched Newton on
its nodal equations, :mod:`neurosim.engine.diode_network`), read node voltages, and
program each device's conductance. The circuit's energy is its co-content, so a device
of conductance G across ΔV contributes ½·G·ΔV² and, with θ = G/g_unit and energies in
units of g_unit·vs², ∂E/∂θ = ½·(ΔV/vs)²: each device's local update needs only the
voltage across it (DESIGN §3.2). An output unit is a pair of nodes read as
s = (v_p − v_n)/vs, and its nudge adds exactly β·½(s − t)² to the energy (a conductance
β·g_unit across the pair and the current β·g_unit·t·vs it drives), so the EP estimators
of :mod:`neurosim.learn.estimators` apply unchanged. Sources are
:class:`neurosim.engine.sources.Sources`; a state holds the hidden units' voltages ÷ vs
and the output units' differences, the free layers in the network's order, and then
each output unit's n node ÷ vs (the pair's other coordinate, in no layer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.resistive import device_ends, device_names, unit_nodes
from neurosim.engine.diode_network import SourceValues, lower_diode_network
from neurosim.engine.relax import Equilibrium, relax
from neurosim.engine.sources import Sources
from neurosim.errors import CircuitError, ConvergenceError
from neurosim.host.family import FamilyHost, restored
from neurosim.host.programming import DeviceProgrammer


class ResistiveChip(FamilyHost):
    """A resistive network circuit as a host sees it (module docstring); every device
    is asked to take a value in [g_min, g_unit] and a checkpoint stores conductances [S].

    ``programmer`` (None: exact devices) writes each device through a device model
    (:class:`neurosim.host.programming.DeviceProgrammer`): the host then keeps what it
    asked of each device (its target) apart from what the device took, moves the target
    by each update and writes it afresh, and a checkpoint stores the targets too
    (``target/<name>`` [S])."""

    STORED = "conductance"

    def __init__(self, circuit: Circuit, programmer: DeviceProgrammer | None = None) -> None:
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
        self._held = {  # conductances [S]
            name: np.array([1.0 / circuit.elements[e].value for e in names])
            for name, names in self._names.items()
        }
        self._read_held = {name: held.copy() for name, held in self._held.items()}
        self.programmer = programmer
        self._targets = {name: held.copy() for name, held in self._held.items()}  # [S]
        self._masks = {
            name: np.array([circuit.is_trainable(e) for e in names])
            for name, names in self._names.items()
        }
        self.trained = tuple(name for name, mask in self._masks.items() if mask.any())
        self._programmed = {name for names in self._names.values() for name in names}
        self._coordinates(meta, index)
        self._nudges = self._nudge_elements(meta, circuit)
        netlist_nudge = self._netlist_nudge()
        self._fixed_laplacian = self._system.laplacian - self._device_laplacian(
            self._theta, netlist_nudge
        )
        self._fixed_injection = self._system.injection - self._nudge_injection(netlist_nudge)
        self.version = 0

    def sources(self, batch: int = 1) -> Sources:
        """The netlist's own source settings, ``batch`` times (inputs read off the
        positive source of each pair)."""
        vs = self.meta.scaling.volts_per_unit
        elements = self._circuit.elements
        inputs = [
            elements[f"vin_{layer.name}_{i}_p"].value / vs
            for layer in self.meta.layers
            if layer.kind == "input"
            for i in range(layer.size)
        ]
        targets = np.zeros(self.free)
        for unit, (_, _, _, target) in self._nudges.items():
            targets[unit] = elements[target].value / vs
        nudge = self._netlist_nudge()
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
        system = replace(
            self._system,
            laplacian=self._fixed_laplacian + self._device_laplacian(self._theta, sources.nudge),
            injection=self._fixed_injection + self._nudge_injection(sources.nudge),
        )
        values = self._source_values(sources)
        guess = None if start is None else self._node_volts(np.asarray(start))
        settled = relax(system, values, start=guess, throw=False, **options)
        settled = replace(settled, state=self._state(settled.state))
        if throw and not settled.ok:
            raise ConvergenceError(settled.summary())
        return settled

    def read(self, state: np.ndarray, layer: str) -> np.ndarray:
        """The units of ``layer`` at ``state`` (batch, free): (batch, size), model units."""
        return state[:, self.free_slices()[layer]]

    outputs = read  # no readout path: what the host reads is exact

    def voltages(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """Every node's voltage [V] (batch, nodes + 1; the last column ground) with the
        units at ``state`` (batch, free), in the order of the lowered system's nodes."""
        free = self._node_volts(state)
        fixed = self._source_values(sources).values @ self._system.fixing
        return np.concatenate([free, fixed, np.zeros((state.shape[0], 1))], axis=1)

    def local_gradients(self, sources: Sources, state: np.ndarray) -> dict[str, np.ndarray]:
        """Batch-mean ∂E/∂θ = ½(ΔV/vs)² of every trained parameter's devices at
        ``state`` (batch, free), each in its parameter's shape."""
        vs = self.meta.scaling.volts_per_unit
        v = self.voltages(sources, state)
        shapes = self.meta.parameter_shapes()
        out = {}
        for name in self.trained:
            ends = self._ends[name]
            across = (v[:, ends[:, 0]] - v[:, ends[:, 1]]) / vs
            out[name] = (0.5 * np.mean(across**2, axis=0)).reshape(shapes[name])
        return out

    # program
    def circuit(self, title: str | None = None) -> Circuit:
        """The circuit with its devices as programmed; everything else as given."""
        elements = dict(self._circuit.elements)
        for name, names in self._names.items():
            now, then = self._held[name], self._read_held[name]
            for index in np.flatnonzero(now != then):
                element = elements[names[index]]
                elements[element.name] = replace(element, value=float(1.0 / now[index]))
        return replace(self._circuit, title=title or self._circuit.title, elements=elements)

    def device_state(self) -> dict[str, np.ndarray]:
        """What a checkpoint stores: every device's conductance [S] (``conductance/``)
        and, on a device model, what the host asked of it (``target/``, [S])."""
        state = super().device_state()
        if self.programmer is not None:
            state.update({f"target/{n}": t.copy() for n, t in self._targets.items()})
        return state

    def load_device_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Put the devices (and targets) of ``state`` (from :meth:`device_state`) back."""
        targets = {k: v for k, v in state.items() if k.startswith("target/")}
        if (self.programmer is not None) != bool(targets):
            raise CircuitError("the saved device state is for another circuit")
        super().load_device_state({k: v for k, v in state.items() if k not in targets})
        if not targets:
            self._targets = {name: held.copy() for name, held in self._held.items()}
            return
        self._targets = restored(self._targets, targets, "target")

    # helpers
    def _asked(self, name: str) -> np.ndarray:
        return self._targets[name] / self.meta.scaling.g_unit

    def _write(self, name: str, asked: np.ndarray) -> np.ndarray:
        self._targets[name] = asked * self.meta.scaling.g_unit
        if self.programmer is None:
            return self._targets[name].copy()
        written = self.programmer.program_devices(self._targets[name], f"{self.STORED}/{name}")
        return np.where(self._masks[name], written, self._held[name])

    def _bounds(self) -> tuple[float, float]:
        return self._low, 1.0

    def _stored_scale(self) -> float:
        return self.meta.scaling.g_unit

    def _coordinates(self, meta: NetworkMeta, index: dict[str, int]) -> None:
        """Where each state coordinate lives: ``_plain`` (columns, nodes) of the hidden
        units; ``_pairs`` (columns of s, columns of the n node, p nodes, n nodes) of the
        output units; CircuitError unless the units' nodes are all the free nodes."""
        plain, pairs, column = [], [], 0
        tail = sum(layer.size for layer in meta.layers if layer.kind not in ("input", "hidden"))
        extra = self._system.free - tail
        for layer in meta.layers:
            if layer.kind == "input":
                continue
            for i in range(layer.size):
                nodes = unit_nodes(meta, layer.name, i)
                if len(nodes) == 1:
                    plain.append((column, index[nodes[0]]))
                else:
                    pairs.append((column, extra, index[nodes[0]], index[nodes[1]]))
                    extra += 1
                column += 1
        self._plain = np.array(plain, dtype=np.int64).reshape(-1, 2).T
        self._pairs = np.array(pairs, dtype=np.int64).reshape(-1, 4).T
        nodes = np.concatenate([self._plain[1], self._pairs[2], self._pairs[3]])
        if np.any(nodes >= self._system.free) or extra != self._system.free:
            raise CircuitError("a resistive network's only free nodes are its units'")

    def _node_volts(self, state: np.ndarray) -> np.ndarray:
        """The free nodes' voltages [V] (batch, free nodes) at ``state``."""
        vs = self.meta.scaling.volts_per_unit
        out = np.empty((state.shape[0], self._system.free))
        out[:, self._plain[1]] = state[:, self._plain[0]] * vs
        s, m, p, n = self._pairs
        out[:, n] = state[:, m] * vs
        out[:, p] = (state[:, s] + state[:, m]) * vs
        return out

    def _state(self, volts: np.ndarray) -> np.ndarray:
        """The state (batch, free) of free-node voltages ``volts`` (the inverse)."""
        vs = self.meta.scaling.volts_per_unit
        out = np.empty_like(volts)
        out[:, self._plain[0]] = volts[:, self._plain[1]] / vs
        s, m, p, n = self._pairs
        out[:, s] = (volts[:, p] - volts[:, n]) / vs
        out[:, m] = volts[:, n] / vs
        return out

    def _nudge_elements(self, meta: NetworkMeta, circuit: Circuit) -> dict[int, tuple]:
        """Output unit (the state column of s) -> (its pair's p and n node indices, its
        nudge VCCS's and its target source's names), where the netlist has the nudge
        (gn, gt, vnt)."""
        out = {}
        s, _, p, n = self._pairs
        names = [
            f"{layer.name}_{i}"
            for layer in meta.layers
            if layer.kind == "output"
            for i in range(layer.size)
        ]
        for unit, column, node_p, node_n in zip(names, s, p, n, strict=True):
            parts = (f"gn_{unit}", f"gt_{unit}", f"vnt_{unit}")
            if all(part in circuit.elements for part in parts):
                out[int(column)] = (int(node_p), int(node_n), parts[0], parts[2])
        return out

    def _netlist_nudge(self) -> np.ndarray:
        """The nudge strength (free,) the netlist's gn elements hold (units of g_unit)."""
        nudge = np.zeros(self.free)
        for column, (_, _, gn, _) in self._nudges.items():
            nudge[column] = self._circuit.elements[gn].value / self.meta.scaling.g_unit
        return nudge

    def _nudge_injection(self, nudge: np.ndarray) -> np.ndarray:
        """The current [A per volt of each source] the nudges (free,) drive: β·g_unit
        per volt of an output's target source, into its p node and out of its n node."""
        out = np.zeros_like(self._system.injection)
        column = {name: k for k, name in enumerate(self._system.sources)}
        for unit, (p, n, _, target) in self._nudges.items():
            g = nudge[unit] * self.meta.scaling.g_unit
            out[column[target], p] += g
            out[column[target], n] -= g
        return out

    def _device_laplacian(self, theta: Mapping[str, np.ndarray], nudge: np.ndarray) -> np.ndarray:
        """The Laplacian [S] of the devices at ``theta`` and of the nudges (free,), over
        the lowered system's nodes (ground dropped)."""
        g_unit = self.meta.scaling.g_unit
        size = len(self._system.nodes) + 1
        ends = [self._ends[name] for name in self._names]
        values = [theta[name] * g_unit for name in self._names]
        for unit, (p, n, _, _) in self._nudges.items():  # the conductance across the pair
            ends.append(np.array([[p, n]]))
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
        for unit, (_, _, _, target) in self._nudges.items():
            values[:, column[target]] = sources.nudge_targets[:, unit] * vs
        return SourceValues(values)
