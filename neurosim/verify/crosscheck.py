"""Cross-check neurosim's DC solution of a netlist against ngspice's ``.op``.

neurosim solves crossbar networks and the circuits of its other families
(:mod:`neurosim.engine.systems`) with the batched engine (:mod:`neurosim.engine.relax`,
to a KCL residual of 1e-12 in the system's units, near round-off) and any other circuit
with the general MNA Newton solver. Both start from all unknowns zero, as ngspice does.
A network with several equilibria can send ngspice's Newton to one the circuit never
settles into. For such an operating point ngspice's own transient from rest decides
(``.tran`` with the capacitors' initial conditions, 2000 τ): if neurosim agrees with
where ngspice's circuit settles, the point counts as agreeing, and the report counts
these ``settled_retries``; otherwise the mismatch stands (DESIGN §1).
The tolerance is relative to the signal scale: ``volts_per_unit`` for neurosim
networks, else the largest node voltage ngspice reports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np

from neurosim.circuit.inputs import drive_from_inputs, drive_settings, fix_element_values
from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import NetworkMeta
from neurosim.engine.crossbar_system import CrossbarSystem
from neurosim.engine.dc import solve_dc
from neurosim.engine.relax import relax
from neurosim.engine.solvers import Auto, Gradient
from neurosim.engine.systems import lower_system
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import lower_crossbar
from neurosim.lower.mna import lower_dc
from neurosim.netlist.write import netlist_text

DEFAULT_RELATIVE_TOLERANCE = 1e-6
NODE_FLOOR_V = 1e-3  # a node's own scale is at least this (general circuits)
ENGINE_TOLERANCE = 1e-12  # model units: near float64 round-off in F (~1e-14)
MAX_PASSES = 100_000  # circuits without an energy settle along their own (slow) dynamics
SETTLE_TAUS = 2000  # how long ngspice's transient runs when its .op lands elsewhere
OSCILLATOR_DECAYS = 40  # an oscillator network's transient runs 40 slowest decay times


@dataclass(frozen=True)
class GroupDiff:
    """Largest |V_neurosim − V_ngspice| over the ``nodes`` nodes of one group, volts."""

    nodes: int
    max_abs_diff_v: float


@dataclass(frozen=True)
class CheckReport:
    """Outcome of :func:`cross_check`; ``ok`` iff every difference is within tolerance.

    ``settled_retries``: operating points where ngspice's ``.op`` reached another
    equilibrium than neurosim's, and ngspice's transient from rest settled at neurosim's.
    ``node_relative`` (circuits other than networks): the largest |ΔV| of a node over its
    own |V| (at least ``NODE_FLOOR_V``); ``ok`` also needs it within the relative
    tolerance, so a 100 kV node does not make 0.1 V a pass on a 1 V one.
    """

    groups: dict[str, GroupDiff]
    max_abs_diff_v: float
    tolerance_v: float
    signal_scale_v: float
    ok: bool
    inputs: int
    neurosim_seconds: float
    ngspice_seconds: float
    solver: str
    settled_retries: int = 0
    node_relative: float | None = None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        data = asdict(self)
        data["groups"] = {name: asdict(group) for name, group in self.groups.items()}
        return data


def settings_for_inputs(meta: NetworkMeta, inputs: np.ndarray) -> list[dict[str, float]]:
    """Source values (SI) for each row of ``inputs`` (see :mod:`neurosim.circuit.inputs`)."""
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
    """Solve ``circuit`` under each setting with neurosim and ngspice; compare.

    A setting maps independent sources to DC values; other elements it names (e.g. the
    ``gn_*`` nudge transconductances) must have the same value in every setting and are
    written into the circuit both solvers see. ``progress`` is called after each of the
    ``2 * len(settings)`` operating points.
    """
    progress = progress or (lambda: None)
    from neurosim.spice.ngspice import operating_points, require_ngspice

    require_ngspice()
    circuit, settings = fix_element_values(circuit, settings)
    phases = circuit.network is not None and circuit.network.family == "oscillator"
    start = time.perf_counter()
    if phases:
        ours, solver, rate = _oscillator_voltages(circuit, settings, progress)
    else:
        ours, solver = neurosim_voltages(circuit, settings, progress)
    neurosim_seconds = time.perf_counter() - start
    start = time.perf_counter()
    # the analyses and options are the harness's own; the temperatures stay (they are physics)
    celsius, tnom = circuit.temperature()
    kept = (f".options temp={celsius!r} tnom={tnom!r}",)
    text = netlist_text(replace(circuit, controls=kept))
    if phases:
        length = float(np.clip(OSCILLATOR_DECAYS / max(rate, 1e-300), 400.0, 40_000.0))
        tau = circuit.network.scaling.tau
        theirs = _transient_ends(text, settings, length * tau, tau, backend, progress)
    else:
        theirs = operating_points(text, settings, backend=backend, progress=progress)
    nodes = sorted(set(ours[0]) & set(theirs[0].voltages))
    if circuit.network is not None:
        scale = circuit.network.scaling.volts_per_unit
    else:
        scale = max((abs(v) for point in theirs for v in point.voltages.values()), default=1.0)
        scale = max(scale, 1e-3)
    tolerance = relative_tolerance * scale
    retried = 0
    for j, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if circuit.network is None or phases or _worst(a, b.voltages, nodes) <= tolerance:
            continue
        # Several equilibria: ngspice's Newton from 0 V may reach one the circuit never
        # settles into. Let ngspice's own transient from rest decide (DESIGN §1).
        settled = _settled_by_ngspice(text, settings[j], circuit.network.scaling.tau, backend)
        if _worst(a, settled, nodes) <= tolerance:
            theirs[j] = replace(theirs[j], voltages=settled)
            retried += 1
    ngspice_seconds = time.perf_counter() - start
    groups = {}
    for name, members in node_groups(circuit, nodes).items():
        diff = max(
            abs(a[n] - b.voltages[n]) for a, b in zip(ours, theirs, strict=True) for n in members
        )
        groups[name] = GroupDiff(len(members), float(diff))
    worst = max((g.max_abs_diff_v for g in groups.values()), default=0.0)
    ok = worst <= tolerance
    node_relative = None
    if circuit.network is None:
        node_relative = max(
            (
                abs(a[n] - b.voltages[n]) / max(abs(b.voltages[n]), NODE_FLOOR_V)
                for a, b in zip(ours, theirs, strict=True)
                for n in nodes
            ),
            default=0.0,
        )
        ok = ok and node_relative <= relative_tolerance
    return CheckReport(
        groups,
        worst,
        tolerance,
        scale,
        bool(ok),
        len(settings),
        neurosim_seconds,
        ngspice_seconds,
        solver,
        retried,
        node_relative,
    )


def _oscillator_voltages(circuit: Circuit, settings, progress) -> tuple[list[dict], str, float]:
    """An oscillator network's phases where its own dynamics settle from the
    capacitors' ``ic`` (plain steps along the gradient flow: the basin the circuit's
    transient reaches; DESIGN §1), as node voltages per setting; and the slowest decay
    rate there (per τ), which sets how long ngspice's transient must run."""
    from neurosim.engine.oscillator import lower_oscillator

    system = lower_oscillator(circuit)
    sources = system.sources_from_settings(settings)
    start = np.tile(system.start, (len(settings), 1))
    equilibrium = relax(
        system, sources, solver=Gradient(), start=start, tolerance=ENGINE_TOLERANCE,
        max_passes=MAX_PASSES,
    )  # fmt: skip
    volts = system.node_voltages(sources, equilibrium.state)
    for _ in settings:
        progress()
    rows = [{node: float(v[n]) for node, v in volts.items()} for n in range(len(settings))]
    rate = float(np.min(system.slowest_rate(sources, equilibrium.state)))
    return rows, f"oscillator engine ({equilibrium.method} from the capacitors' ic)", rate


def _transient_ends(text: str, settings, tstop: float, tau: float, backend, progress) -> list:
    """Where ngspice's ``.tran … uic`` from the capacitors' ``ic`` ends after ``tstop``
    seconds (steps of at most τ/4; ngspice's truncation-error control keeps the
    trajectory, the end state is exact), per setting, as operating points."""
    from neurosim.spice.ngspice import OperatingPoint, transients

    runs = transients(
        text, settings, tstop=tstop, tstep=tau / 4, tmax=tau / 4,
        backend=backend, progress=progress,
    )  # fmt: skip
    return [
        OperatingPoint({node: float(v[-1]) for node, v in run.voltages.items()}, {}) for run in runs
    ]


def _worst(ours: dict[str, float], theirs: dict[str, float], nodes: list[str]) -> float:
    return max(abs(ours[n] - theirs[n]) for n in nodes)


def _settled_by_ngspice(
    text: str, setting: dict[str, float], tau: float, backend: str
) -> dict[str, float]:
    """Node voltages where ngspice's ``.tran`` from rest (capacitors' ``ic``) ends.

    Integrates ``SETTLE_TAUS`` time constants with steps of at most τ/20.
    """
    from neurosim.spice.ngspice import transients

    tstop = SETTLE_TAUS * tau
    (run,) = transients(text, [setting], tstop=tstop, tstep=tau, tmax=tau / 20, backend=backend)
    return {node: float(values[-1]) for node, values in run.voltages.items()}


def neurosim_voltages(
    circuit: Circuit,
    settings: list[dict[str, float]],
    progress: Callable[[], None] | None = None,
) -> tuple[list[dict[str, float]], str]:
    """neurosim's node voltages for each setting, and the name of the solver used: the
    engine on a crossbar network or a circuit family (:mod:`neurosim.engine.systems`),
    else the general MNA solver."""
    progress = progress or (lambda: None)
    try:
        family, system, detail = "crossbar", CrossbarSystem(lower_crossbar(circuit)), ""
        if system.crossbar.wires:
            detail = f", {len(system.crossbar.wires)} wired arrays reduced"
    except CircuitError:
        try:
            (family, system), detail = lower_system(circuit), ""
        except CircuitError:
            return _general_voltages(circuit, settings, progress), "general MNA Newton"
    sources = system.sources_from_settings(settings)
    # the arbiter settles along the circuit's own dynamics where it has no energy
    # function: the accelerated path can end in a neighbouring basin there
    equilibrium = relax(
        system,
        sources,
        tolerance=ENGINE_TOLERANCE,
        max_passes=MAX_PASSES,
        solver=Auto() if system.has_energy else Gradient(),
    )
    volts = system.node_voltages(sources, equilibrium.state)
    for _ in settings:
        progress()
    rows = [{node: float(v[n]) for node, v in volts.items()} for n in range(len(settings))]
    return rows, f"{family} engine ({equilibrium.method}{detail})"


def _general_voltages(circuit: Circuit, settings, progress) -> list[dict[str, float]]:
    """Each setting's node voltages by the general MNA Newton solver."""
    system = lower_dc(circuit)
    ours = []
    for setting in settings:
        system.set_sources(setting)
        ours.append(solve_dc(system).voltages)
        progress()
    return ours
