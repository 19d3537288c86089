"""Cross-check neurosim's DC solution of a netlist against ngspice's ``.op``.

neurosim solves crossbar networks with the batched engine (:mod:`neurosim.engine.relax`,
to a residual 1000x below the voltage tolerance, at least 1e-12) and any other circuit
with the general MNA Newton solver. Both neurosim and ngspice start from all unknowns
zero (ngspice's default), so on circuits with several equilibria agreement tests the
equations, not basin luck.
The tolerance is relative to the signal scale: ``volts_per_unit`` for neurosim
networks, else the largest node voltage ngspice reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np

from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import NetworkMeta
from neurosim.engine.dc import solve_dc
from neurosim.engine.readout import node_voltages
from neurosim.engine.relax import relax
from neurosim.engine.sources import sources_from_settings
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import lower_crossbar
from neurosim.lower.mna import lower_dc
from neurosim.netlist.write import netlist_text
from neurosim.network.compile import drive_settings
from neurosim.network.inputs import drive_from_inputs

DEFAULT_RELATIVE_TOLERANCE = 1e-6
RESIDUAL_FLOOR = 1e-12  # model units; float64 round-off in F is ~1e-14


@dataclass(frozen=True)
class GroupDiff:
    """Largest |V_neurosim − V_ngspice| over the ``nodes`` nodes of one group, volts."""

    nodes: int
    max_abs_diff_v: float


@dataclass(frozen=True)
class CheckReport:
    """Outcome of :func:`cross_check`; ``ok`` iff every difference is within tolerance."""

    groups: dict[str, GroupDiff]
    max_abs_diff_v: float
    tolerance_v: float
    signal_scale_v: float
    ok: bool
    inputs: int
    neurosim_seconds: float
    ngspice_seconds: float
    solver: str

    def to_dict(self) -> dict:
        """JSON-ready form."""
        data = asdict(self)
        data["groups"] = {name: asdict(group) for name, group in self.groups.items()}
        return data


def settings_for_inputs(meta: NetworkMeta, inputs: np.ndarray) -> list[dict[str, float]]:
    """Source values (SI) for each row of ``inputs`` (see :mod:`neurosim.network.inputs`)."""
    return drive_settings(meta, drive_from_inputs(meta, inputs))


def node_groups(circuit: Circuit, nodes: list[str]) -> dict[str, list[str]]:
    """Group node names: by layer for unit nodes, by role otherwise, rest ``internal``."""
    layers = {layer.name for layer in circuit.network.layers} if circuit.network else set()
    groups: dict[str, list[str]] = {}
    for node in nodes:
        stem, _, index = node.rpartition("_")
        if stem in layers and index.isdigit():
            key = stem
        elif node in circuit.roles:
            key = circuit.roles[node].value
        else:
            key = "internal"
        groups.setdefault(key, []).append(node)
    return groups


def cross_check(
    circuit: Circuit,
    settings: list[dict[str, float]],
    *,
    relative_tolerance: float = DEFAULT_RELATIVE_TOLERANCE,
    backend: str = "auto",
    progress: Callable[[], None] | None = None,
) -> CheckReport:
    """Solve ``circuit`` under each source setting with neurosim and ngspice; compare.

    ``progress`` is called after each of the ``2 * len(settings)`` operating points.
    """
    progress = progress or (lambda: None)
    from neurosim.spice.ngspice import operating_points, require_ngspice

    require_ngspice()
    start = time.perf_counter()
    ours, solver = neurosim_voltages(circuit, settings, relative_tolerance, progress)
    neurosim_seconds = time.perf_counter() - start
    start = time.perf_counter()
    text = netlist_text(replace(circuit, controls=()))
    theirs = operating_points(text, settings, backend=backend, progress=progress)
    ngspice_seconds = time.perf_counter() - start
    nodes = sorted(set(ours[0]) & set(theirs[0].voltages))
    if circuit.network is not None:
        scale = circuit.network.scaling.volts_per_unit
    else:
        scale = max((abs(v) for point in theirs for v in point.voltages.values()), default=1.0)
        scale = max(scale, 1e-3)
    groups = {}
    for name, members in node_groups(circuit, nodes).items():
        diff = max(
            abs(a[n] - b.voltages[n]) for a, b in zip(ours, theirs, strict=True) for n in members
        )
        groups[name] = GroupDiff(len(members), float(diff))
    worst = max((g.max_abs_diff_v for g in groups.values()), default=0.0)
    tolerance = relative_tolerance * scale
    return CheckReport(
        groups,
        worst,
        tolerance,
        scale,
        bool(worst <= tolerance),
        len(settings),
        neurosim_seconds,
        ngspice_seconds,
        solver,
    )


def neurosim_voltages(
    circuit: Circuit,
    settings: list[dict[str, float]],
    relative_tolerance: float = DEFAULT_RELATIVE_TOLERANCE,
    progress: Callable[[], None] | None = None,
) -> tuple[list[dict[str, float]], str]:
    """neurosim's node voltages for each setting, and the name of the solver used."""
    progress = progress or (lambda: None)
    try:
        crossbar = lower_crossbar(circuit)
    except CircuitError:
        crossbar = None
    if crossbar is None:
        system = lower_dc(circuit)
        ours = []
        for setting in settings:
            system.set_sources(setting)
            ours.append(solve_dc(system).voltages)
            progress()
        return ours, "general MNA Newton"
    sources = sources_from_settings(crossbar, settings)
    tolerance = min(1e-9, max(relative_tolerance * 1e-3, RESIDUAL_FLOOR))
    equilibrium = relax(crossbar, sources, tolerance=tolerance).raise_if_failed()
    volts = node_voltages(crossbar, sources, equilibrium.state)
    for _ in settings:
        progress()
    rows = [{node: float(v[n]) for node, v in volts.items()} for n in range(len(settings))]
    return rows, f"crossbar engine ({equilibrium.method})"
