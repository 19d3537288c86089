"""Settle a netlist for rows of user inputs and collect what to save: a crossbar network
for rows of its input layers and spring targets, a circuit of another family
(:mod:`neurosim.engine.systems`) for rows of its independent sources' values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neurosim.circuit.inputs import drive_from_inputs, drive_settings
from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.structure import default_structure
from neurosim.engine.energy import dissipated_power, energy
from neurosim.engine.general import GENERAL_SOLVER, equilibrium, solve_settings
from neurosim.engine.readout import node_voltages
from neurosim.engine.relax import Equilibrium, relax
from neurosim.engine.sources import Sources, sources_from_drive
from neurosim.engine.system import System
from neurosim.engine.systems import lower_system
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import Crossbar, lower_crossbar
from neurosim.status import status_codes


@dataclass(frozen=True)
class InputEquilibria:
    """Equilibria of one netlist for rows of inputs (``inputs`` (n, width), model units)."""

    crossbar: Crossbar
    inputs: np.ndarray
    sources: Sources
    equilibrium: Equilibrium
    dtype: str

    note = None  # settled by the engine: nothing to say

    @property
    def meta(self) -> NetworkMeta:
        """The network's metadata (written into the file)."""
        return self.crossbar.meta

    def layer_states(self) -> dict[str, np.ndarray]:
        """Free layer -> (n, size) model units."""
        state = self.equilibrium.state.astype(np.float64)
        return {name: state[:, where] for name, where in self.crossbar.free_slices().items()}

    def layer_voltages(self) -> dict[str, np.ndarray]:
        """Every layer -> unit-node voltages (n, size) [V]."""
        volts = node_voltages(self.crossbar, self.sources, self.equilibrium.state)
        return {
            layer.name: np.stack([volts[f"{layer.name}_{i}"] for i in range(layer.size)], 1)
            for layer in self.crossbar.meta.layers
        }

    def record(self, *, netlist: str) -> dict:
        """What ``relax`` saves, as :func:`neurosim.io.equilibria_h5.write_equilibria`'s
        ``attrs``, ``datasets`` and ``groups`` (the engine writes no files)."""
        eq, cb = self.equilibrium, self.crossbar
        scaling = cb.meta.scaling
        state = eq.state.astype(np.float64)
        attrs, datasets = _common(
            eq,
            self.inputs,
            netlist,
            self.dtype,
            amperes_per_unit=scaling.volts_per_unit * scaling.g_unit,
        )
        # a row that diverged holds huge or non-finite values: its power and energy are
        # stored as they come out (inf, NaN) beside its status, without numpy warnings
        with np.errstate(all="ignore"):
            datasets["power_w"] = dissipated_power(cb, self.sources, state)
            try:
                datasets["energy"] = energy(cb, self.sources, state)
            except CircuitError:
                pass  # a mismatched circuit has no energy function: omitted from the file
        groups = {"state": self.layer_states(), "voltages": self.layer_voltages()}
        return {"attrs": attrs, "datasets": datasets, "groups": groups}


@dataclass(frozen=True)
class InputBatch:
    """A lowered crossbar and the sources of each input row, ready to settle."""

    crossbar: Crossbar
    inputs: np.ndarray
    sources: Sources

    def settle(
        self,
        *,
        progress: Callable[[int, int], None] | None = None,
        dtype: str = "float64",
        **options,
    ) -> InputEquilibria:
        """Relax the batch; ``options`` go to :func:`neurosim.engine.relax.relax`."""
        equilibrium = _settle(self.crossbar, self.sources, dtype, progress, options)
        return InputEquilibria(self.crossbar, self.inputs, self.sources, equilibrium, dtype)


def prepare_inputs(
    circuit: Circuit, inputs: np.ndarray | None
) -> InputBatch | FamilyBatch | GeneralBatch:
    """Lower ``circuit`` and build the sources of each row of ``inputs`` (checked; for a
    circuit of another family than the crossbar, None means its own source values). A
    network netlist the crossbar engine cannot lower (an added nonlinear element, say)
    is settled as written by the general MNA solver (:class:`GeneralBatch`)."""
    if circuit.network is None:
        return prepare_family(circuit, inputs)
    rows = np.asarray(inputs)
    drive = drive_from_inputs(circuit.network, rows)
    if circuit.network.family != "crossbar":  # a resistive or oscillator network
        family, system = lower_system(circuit)
        settings = drive_settings(circuit.network, drive)
        if len(settings) != rows.shape[0]:  # a network without inputs: one setting
            settings = settings[:1] * rows.shape[0]
        columns = tuple(s for layer in drive.inputs for s in _units(circuit.network, layer))
        sources = system.sources_from_settings(settings)
        start = getattr(system, "start", None)  # oscillators: the capacitors' ic phases
        if start is not None:
            start = np.tile(start, (rows.shape[0], 1))
        return FamilyBatch(family, system, columns, rows.astype(np.float64), sources, start)
    try:
        crossbar = lower_crossbar(circuit)
    except CircuitError as error:  # an edit the engine cannot fold: solved as written
        settings = drive_settings(circuit.network, drive)
        return GeneralBatch(circuit, rows.astype(np.float64), settings, str(error))
    sources = sources_from_drive(crossbar, drive, batch=rows.shape[0])
    return InputBatch(crossbar, rows.astype(np.float64), sources)


@dataclass(frozen=True)
class FamilyEquilibria:
    """Equilibria of a circuit of the family ``family`` for rows ``inputs`` (n, sources)
    of its independent sources' values ``columns`` (volts, amperes)."""

    family: str
    system: System
    columns: tuple[str, ...]
    inputs: np.ndarray
    sources: object
    equilibrium: Equilibrium
    dtype: str

    meta = None  # not a network: the file has no network metadata
    note = None

    def record(self, *, netlist: str) -> dict:
        """What ``relax`` saves (see :meth:`InputEquilibria.record`): states and node
        voltages by node name, the source columns by name."""
        eq, system = self.equilibrium, self.system
        state = eq.state.astype(np.float64)
        attrs, datasets = _common(
            eq, self.inputs, netlist, self.dtype, family=self.family, sources=list(self.columns)
        )
        if system.has_energy:
            with np.errstate(all="ignore"):  # as for a crossbar: a diverged row's value
                datasets["energy"] = system.energy(self.sources, state)
        labels = system.labels()
        groups = {
            "state": {label: state[:, i] for i, label in enumerate(labels)},
            "voltages": system.node_voltages(self.sources, state),
        }
        return {"attrs": attrs, "datasets": datasets, "groups": groups}


@dataclass(frozen=True)
class FamilyBatch:
    """A lowered circuit of a family and the sources of each row, ready to settle."""

    family: str
    system: System
    columns: tuple[str, ...]
    inputs: np.ndarray
    sources: object
    start: np.ndarray | None = None  # where the batch starts (None: the solver's 0)

    def settle(
        self,
        *,
        progress: Callable[[int, int], None] | None = None,
        dtype: str = "float64",
        **options,
    ) -> FamilyEquilibria:
        """Relax the batch; ``options`` go to :func:`neurosim.engine.relax.relax`."""
        if self.start is not None:
            options = {"start": self.start, **options}
        equilibrium = _settle(self.system, self.sources, dtype, progress, options)
        return FamilyEquilibria(
            self.family, self.system, self.columns, self.inputs, self.sources, equilibrium, dtype
        )


def _units(meta: NetworkMeta, layer: str) -> list[str]:
    return [f"{layer}_{i}" for i in range(meta.layer(layer).size)]


def prepare_family(circuit: Circuit, inputs: np.ndarray | None) -> FamilyBatch:
    """Lower ``circuit`` onto its family; each row of ``inputs`` (n, sources) holds the
    values of its independent sources in netlist order (None: the netlist's own)."""
    try:
        family, system = lower_system(circuit)
    except CircuitError as error:
        raise CircuitError(f"relax needs a neurosim network netlist, or {error}") from None
    columns = tuple(e.name for e in circuit.elements.values() if e.kind in "vi")
    own = np.array([[circuit.elements[name].value for name in columns]])
    rows = own if inputs is None else np.asarray(inputs, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != len(columns):
        raise CircuitError(
            f"inputs of shape {rows.shape}: this circuit takes rows of {len(columns)} source "
            f"values ({', '.join(columns)})"
        )
    settings = [dict(zip(columns, row, strict=True)) for row in rows.tolist()]
    return FamilyBatch(family, system, columns, rows, system.sources_from_settings(settings))


def _settle(system, sources, dtype: str, progress, options: dict) -> Equilibrium:
    """:func:`relax` of a batch whose file records every row's status (no raise)."""
    return relax(system, sources, dtype=np.dtype(dtype), progress=progress, throw=False, **options)


@dataclass(frozen=True)
class GeneralEquilibria:
    """Equilibria of a network netlist settled by the general MNA solver, one row at a
    time: ``equilibrium`` as the engine reports one (states in model units, the free
    layers in the network's layer order, the MNA
    residual — amperes at nodes, volts on branches — ÷ (vs·g_unit), Newton iterations as
    passes, each row's status); ``reason``: why the
    crossbar engine could not lower it; ``voltages``: each row's node voltages [V];
    ``layers``: every layer's unit-node voltages (n, size) [V]."""

    circuit: Circuit
    inputs: np.ndarray
    equilibrium: Equilibrium
    voltages: list[dict[str, float]]
    layers: dict[str, np.ndarray]
    reason: str
    dtype: str = "float64"

    @property
    def meta(self) -> NetworkMeta:
        return self.circuit.network

    @property
    def note(self) -> str:
        """One line for the user: which solver and why."""
        return f"settled by the {GENERAL_SOLVER} solver, one input at a time ({self.reason})"

    def record(self, *, netlist: str) -> dict:
        """What ``relax`` saves (see :meth:`InputEquilibria.record`; no energy or power)."""
        eq, meta = self.equilibrium, self.circuit.network
        scaling = meta.scaling
        states = {
            name: volts / scaling.volts_per_unit
            for name, volts in self.layers.items()
            if meta.layer(name).kind != "input"
        }
        attrs, datasets = _common(
            eq,
            self.inputs,
            netlist,
            self.dtype,
            amperes_per_unit=scaling.volts_per_unit * scaling.g_unit,
            general_solver_reason=self.reason,
        )
        return {
            "attrs": attrs,
            "datasets": datasets,
            "groups": {"state": states, "voltages": self.layers},
        }


@dataclass(frozen=True)
class GeneralBatch:
    """A network netlist the crossbar engine cannot lower, and each row's settings."""

    circuit: Circuit
    inputs: np.ndarray
    settings: list[dict[str, float]]
    reason: str

    def settle(
        self, *, progress: Callable[[int, int], None] | None = None, **_options
    ) -> GeneralEquilibria:
        """Each row's operating point by :func:`neurosim.engine.dc.solve_dc` from 0 V (as
        ngspice's ``.op``); the engine's options do not apply."""
        meta = self.circuit.network
        points = solve_settings(self.circuit, self.settings, progress)
        structure = self.circuit.structure or default_structure(meta)
        layers = {}  # layer -> (n, size) unit-node voltages
        for layer in meta.layers:
            nodes = structure.names(layer.name, "node", layer.size)
            volts = [[p.voltages[node] for node in nodes] for p in points]
            layers[layer.name] = np.array(volts).reshape(len(points), layer.size)
        free = [
            node
            for layer in meta.layers
            if layer.kind != "input"
            for node in structure.names(layer.name, "node", layer.size)
        ]
        settled = equilibrium(points, free, meta.scaling)
        voltages = [p.voltages for p in points]
        return GeneralEquilibria(self.circuit, self.inputs, settled, voltages, layers, self.reason)


def _common(eq: Equilibrium, inputs: np.ndarray, netlist: str, dtype: str, **extra):
    """The attributes (``extra`` added) and datasets of every relax file: each row's
    input, residual, passes and status, and how the batch was settled."""
    codes, names = status_codes(eq.status)
    attrs = {
        "netlist": netlist,
        "method": eq.method,
        "dtype": dtype,
        "tolerance": eq.tolerance,
        **extra,
        "converged": int(eq.converged.sum()),
        "total": int(eq.converged.size),
        "status_names": list(names),
    }
    datasets = {
        "inputs": inputs,
        "residual": eq.residual,
        "passes": eq.passes,
        "converged": eq.converged,
        "status": codes,
    }
    return attrs, datasets
