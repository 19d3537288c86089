"""Oscillator Ising machines (DESIGN.md §3.3) as a :class:`neurosim.engine.system.System`.

The state is each oscillator's phase φ (batch, free) in radians, the free layers in the
network's order; the inputs x (batch, inputs) act as fields. With ``J`` (free, free)
the symmetric couplings, ``X`` (inputs, free) the input couplings, ``h`` and ``K``
(free,) the fields and locking strengths and a nudge β (free,) toward targets t,

    E(φ) = −½ Σ_ij J_ij cos(φ_i − φ_j) − Σ_i (h + xX)_i cos φ_i − ½ Σ_i K_i cos 2φ_i
           + Σ_i β_i·½(cos φ_i − t_i)²

and the field is F = −∂E/∂φ (τ dφ/dt = F, the circuit's dynamics). Σ_j J_ij sin(φ_i −
φ_j) is sin φ_i (J cos φ)_i − cos φ_i (J sin φ)_i: two products per pass. E has many
minima: where the state settles depends on where it starts (DESIGN §1). The parameters
are read off the netlist's behavioural sources (:mod:`neurosim.circuit.oscillator`);
a source that is not its template is refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.circuit.ir import Circuit
from neurosim.circuit.oscillator import parameter, source_names
from neurosim.engine.field_runner import FieldRunner
from neurosim.engine.sources import Sources
from neurosim.errors import CircuitError


@dataclass(frozen=True)
class OscillatorNetwork:
    """A lowered oscillator network (build with :func:`lower_oscillator`); sources are
    :class:`neurosim.engine.sources.Sources` (inputs, nudge targets, nudge)."""

    units: tuple[str, ...]  # free oscillators' nodes, state order
    inputs: tuple[str, ...]  # input nodes, input order
    couplings: np.ndarray  # J (free, free), symmetric, zero diagonal
    input_couplings: np.ndarray  # X (inputs, free)
    fields: np.ndarray  # h (free,)
    locking: np.ndarray  # K (free,)
    nudge: np.ndarray  # the netlist's β (free,)
    targets: tuple[str | None, ...]  # each unit's nudge-target node (None: no nudge)
    volts_per_unit: float
    start: np.ndarray  # the capacitors' ic phases (free,)

    # -- the System protocol --------------------------------------------------------

    @property
    def free(self) -> int:
        return len(self.units)

    @property
    def has_energy(self) -> bool:
        return True

    def labels(self) -> list[str]:
        return list(self.units)

    def field(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        sin, cos = np.sin(state), np.cos(state)
        drive = self._drive(sources)
        out = -(sin * (cos @ self.couplings) - cos * (sin @ self.couplings))
        out -= drive * sin + self.locking * np.sin(2.0 * state)
        out += sources.nudge * (cos - sources.nudge_targets) * sin
        return out

    def energy(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        sin, cos = np.sin(state), np.cos(state)
        pairs = 0.5 * (
            np.sum(cos * (cos @ self.couplings), 1) + np.sum(sin * (sin @ self.couplings), 1)
        )
        own = np.sum(self._drive(sources) * cos + 0.5 * self.locking * np.cos(2.0 * state), 1)
        pull = 0.5 * np.sum(sources.nudge * (cos - sources.nudge_targets) ** 2, 1)
        return -pairs - own + pull

    def jacobian(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """J = ∂F/∂φ (batch, free, free)."""
        sin, cos = np.sin(state), np.cos(state)
        # off the diagonal: J_ik cos(φ_i − φ_k)
        out = self.couplings * (
            cos[:, :, None] * cos[:, None, :] + sin[:, :, None] * sin[:, None, :]
        )
        index = np.arange(self.free)
        out[:, index, index] = self._own_slope(sources, state)
        return out

    def jvp(self, sources: Sources, state: np.ndarray, direction: np.ndarray) -> np.ndarray:
        sin, cos = np.sin(state), np.cos(state)
        cross = cos * ((cos * direction) @ self.couplings) + sin * (
            (sin * direction) @ self.couplings
        )
        return cross + self._own_slope(sources, state) * direction

    def diagonal(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """A bound on |∂F_i/∂φ_i| over every state (the energy is not convex, so −J_ii
        can vanish or turn negative): Σ_j |J_ij| + |h + xX|_i + 2|K_i| + β_i(1 + |t_i|)."""
        bound = np.abs(self.couplings).sum(1) + np.abs(self._drive(sources))
        bound = bound + 2.0 * np.abs(self.locking)
        bound = bound + np.abs(sources.nudge) * (1.0 + np.abs(sources.nudge_targets))
        return np.maximum(bound, 1e-12)

    def stable(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """A local minimum of E: −J positive definite (a Cholesky factorisation)."""
        out = np.zeros(state.shape[0], dtype=bool)
        hessians = -self.jacobian(sources, state)
        for b, hessian in enumerate(hessians):
            try:
                np.linalg.cholesky(hessian)
                out[b] = True
            except np.linalg.LinAlgError:
                pass
        return out & np.all(np.isfinite(state), axis=1)

    def guide(self) -> None:
        return None

    def runner(self, sources, dtype, tol, threads, tile_rows, report) -> FieldRunner:
        """NumPy loops (:mod:`neurosim.engine.field_runner`) without Newton (it can stop
        at a saddle of this energy); one thread, float64."""
        return FieldRunner(self, tol, report, newton=False)

    def slowest_rate(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """The smallest eigenvalue of the Hessian −J at ``state`` (batch,): the slowest
        decay rate near a minimum, per τ."""
        return np.linalg.eigvalsh(-self.jacobian(sources, state))[:, 0]

    # -- what check and relax read ----------------------------------------------------

    def sources_from_settings(self, settings: list[dict[str, float]]) -> Sources:
        """Each setting (input source ``vin_<unit>`` -> volts, target source
        ``vnt_<unit>`` -> volts) over zero inputs, targets and the netlist's nudge."""
        vs, batch = self.volts_per_unit, len(settings)
        inputs = np.zeros((batch, len(self.inputs)))
        targets = np.zeros((batch, self.free))
        column = {f"vin_{u}": (inputs, k) for k, u in enumerate(self.inputs)}
        column |= {f"vnt_{u}": (targets, k) for k, u in enumerate(self.units)}
        for n, setting in enumerate(settings):
            for name, value in setting.items():
                if name not in column:
                    raise KeyError(f"{name} is not a source of this oscillator network")
                array, k = column[name]
                array[n, k] = value / vs
        return Sources(inputs, np.zeros((batch, self.free)), targets, self.nudge.copy())

    def node_voltages(self, sources: Sources, state: np.ndarray) -> dict[str, np.ndarray]:
        """Node name -> (batch,) volts: the phases (φ·vs), the inputs and targets."""
        vs = self.volts_per_unit
        out = {u: state[:, k] * vs for k, u in enumerate(self.units)}
        out |= {u: sources.inputs[:, k] * vs for k, u in enumerate(self.inputs)}
        for k, target in enumerate(self.targets):
            if target is not None:
                out[target] = sources.nudge_targets[:, k] * vs
        return out

    def _drive(self, sources: Sources) -> np.ndarray:
        """Each oscillator's field h + xX (batch, free)."""
        return self.fields + sources.inputs @ self.input_couplings

    def _own_slope(self, sources: Sources, state: np.ndarray) -> np.ndarray:
        """∂F_i/∂φ_i (batch, free)."""
        sin, cos = np.sin(state), np.cos(state)
        pairs = -(cos * (cos @ self.couplings) + sin * (sin @ self.couplings))
        own = -self._drive(sources) * cos - 2.0 * self.locking * np.cos(2.0 * state)
        pull = sources.nudge * ((cos - sources.nudge_targets) * cos - sin * sin)
        return pairs + own + pull


def lower_oscillator(circuit: Circuit) -> OscillatorNetwork:
    """The :class:`OscillatorNetwork` of an oscillator network netlist, or
    :class:`CircuitError` naming the first element that is not the compiler's part."""
    meta = circuit.network
    if meta is None or meta.family != "oscillator":
        raise CircuitError("not a neurosim oscillator network")
    units = [f"{l.name}_{i}" for l in meta.layers if l.kind != "input" for i in range(l.size)]
    inputs = [f"{l.name}_{i}" for l in meta.layers if l.kind == "input" for i in range(l.size)]
    where = {u: k for k, u in enumerate(units)}
    column = {u: k for k, u in enumerate(inputs)}
    couplings = np.zeros((len(units), len(units)))
    input_couplings = np.zeros((len(inputs), len(units)))
    fields, locking = np.zeros(len(units)), np.zeros(len(units))
    seen = set()
    for entries in source_names(meta).values():
        for name, kind, nodes, node, other in entries:
            theta = _read(circuit, meta, name, kind, nodes, node, other)
            seen.add(name)
            if kind == "coupling":
                couplings[where[node], where[other]] = couplings[where[other], where[node]] = theta
            elif kind == "input":
                input_couplings[column[other], where[node]] = theta
            elif kind == "field":
                fields[where[node]] = theta
            else:
                locking[where[node]] = theta
    nudge, targets = np.zeros(len(units)), [None] * len(units)
    for k, unit in enumerate(units):
        name = f"bn_{unit}"
        if name in circuit.elements:
            target = f"{unit}_nt"
            nudge[k] = _read(circuit, meta, name, "nudge", ("0", unit), unit, target)
            targets[k] = target
            seen |= {name, f"vnt_{unit}"}
    vs = meta.scaling.volts_per_unit
    start = np.zeros(len(units))
    for k, unit in enumerate(units):
        capacitor = circuit.elements.get(f"cu_{unit}")
        if capacitor is None or tuple(capacitor.nodes) != (unit, "0"):
            raise CircuitError(f"oscillator {unit} has no capacitor cu_{unit} to ground")
        start[k] = (capacitor.ic or 0.0) / vs
        seen.add(capacitor.name)
    seen |= {f"vin_{u}" for u in inputs}
    extra = [name for name in circuit.elements if name not in seen]
    if extra:
        raise CircuitError(f"element {extra[0]} is not part of the oscillator network")
    return OscillatorNetwork(
        tuple(units), tuple(inputs), couplings, input_couplings, fields, locking,
        nudge, tuple(targets), vs, start,
    )  # fmt: skip


def _read(circuit: Circuit, meta, name, kind, nodes, node, other) -> float:
    element = circuit.elements.get(name)
    if element is None:
        raise CircuitError(f"the oscillator network lacks {name}")
    theta = None
    if element.kind == "b" and element.output == "i" and tuple(element.nodes) == nodes:
        theta = parameter(meta, element.expr, kind, node, other)
    if theta is None:
        raise CircuitError(
            f"{circuit.where(name)}{name}: not the oscillator network's {kind} source "
            "(neurosim/circuit/oscillator.py)"
        )
    return theta
