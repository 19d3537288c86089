"""The resistor–diode family: networks of resistors and junction diodes, driven by sources.

A netlist belongs to the family when it holds only resistors, diodes (ngspice level 1,
:mod:`neurosim.circuit.junction`; no breakdown), capacitors (open at DC), independent
current sources, independent voltage sources with one terminal at ground (each fixes
its node), and the VCCSs of nudges — one across its own control pair (a conductance),
one driving ``g·(v_t − v_x)`` into a node ``x`` from a node ``t`` a source fixes (a
resistor to a target source, as far as every other node can tell), or one controlled
by a source-fixed node and ground (a current set by that source) — and every other
node has a DC path to a fixed node or ground. A deep resistive network's netlist
(:mod:`neurosim.network.resistive`) is one. The
state is the free nodes' voltages [V]; the field is each free node's net current
divided by ``g_ref`` (the median resistor conductance), so a tolerance is in volts of
mismatch across one typical resistor. Resistors and junctions are monotone, so the
circuit's co-content

    E(v) = Σ_R ½·G·(Δv)² + Σ_D ∫₀^{v_d} i(u) du − Σ_I I·v(n−) + Σ_I I·v(n+)

(÷ ``g_ref``) is strictly convex with F = −∂E/∂v: the equilibrium is unique, and stable
(the Hessian −J is positive definite everywhere). Kendall et al. (2020) train such
networks by Equilibrium Propagation; here they settle and are checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosim.circuit.ir import GROUND, Circuit, require_dc_solvable
from neurosim.circuit.junction import diode_at, junction_co_content, junction_current
from neurosim.engine.field_runner import FieldRunner
from neurosim.errors import CircuitError

KINDS = "rdcvig"


@dataclass(frozen=True)
class SourceValues:
    """Values of a diode network's independent sources for a batch: ``values`` (batch,
    sources) in the order of :attr:`DiodeNetwork.sources`, volts and amperes."""

    values: np.ndarray

    @property
    def batch(self) -> int:
        return self.values.shape[0]

    def rows(self, index) -> SourceValues:
        return SourceValues(self.values[index])


@dataclass(frozen=True)
class DiodeNetwork:
    """A lowered resistor–diode network (build with :func:`lower_diode_network`).

    Nodes are numbered free first, then fixed (one per voltage source), then ground.
    ``laplacian`` (nodes, nodes) the resistors' conductances [S] over free and fixed
    nodes; ``incidence`` (diodes, nodes + 1) +1 at each junction's anode, −1 at its
    cathode; ``isat``, ``vte`` (diodes,); ``injection`` (sources, nodes + 1) the current
    each source's unit value drives into each node (current sources) and
    ``fixing`` (sources, fixed) the voltage each unit value sets (voltage sources).
    """

    nodes: tuple[str, ...]
    free_count: int
    sources: tuple[str, ...]
    defaults: np.ndarray
    laplacian: np.ndarray
    incidence: np.ndarray
    isat: np.ndarray
    vte: np.ndarray
    injection: np.ndarray
    fixing: np.ndarray
    g_ref: float

    # -- the System protocol --------------------------------------------------------

    @property
    def free(self) -> int:
        return self.free_count

    @property
    def has_energy(self) -> bool:
        return True

    def labels(self) -> list[str]:
        return list(self.nodes[: self.free_count])

    def field(self, sources: SourceValues, state: np.ndarray) -> np.ndarray:
        v = self._all_nodes(sources, state)
        current = -v[:, :-1] @ self.laplacian[:, : self.free_count]
        current += (sources.values @ self.injection)[:, : self.free_count]
        junction, _ = junction_current(v @ self.incidence.T, self.isat, self.vte)
        current -= junction @ self.incidence[:, : self.free_count]
        return current / self.g_ref

    def energy(self, sources: SourceValues, state: np.ndarray) -> np.ndarray:
        v = self._all_nodes(sources, state)
        resistive = 0.5 * np.einsum("bi,ij,bj->b", v[:, :-1], self.laplacian, v[:, :-1])
        junctions = junction_co_content(v @ self.incidence.T, self.isat, self.vte).sum(axis=1)
        driven = np.sum((sources.values @ self.injection) * v, axis=1)
        return (resistive + junctions - driven) / self.g_ref

    def jvp(self, sources: SourceValues, state: np.ndarray, direction: np.ndarray) -> np.ndarray:
        slope = self._junction_slopes(sources, state)
        d = self.incidence[:, : self.free_count]
        return (
            -(direction @ self.laplacian[: self.free_count, : self.free_count]) / (self.g_ref)
            - ((slope * (direction @ d.T)) @ d) / self.g_ref
        )

    def jacobian(self, sources: SourceValues, state: np.ndarray) -> np.ndarray:
        """J = ∂F/∂v (batch, free, free): −(L_ff + Dᵀ·diag(g_d)·D) ÷ g_ref, D the
        junctions' incidence on the free nodes and g_d their slopes at ``state``."""
        slope = self._junction_slopes(sources, state)
        d = self.incidence[:, : self.free_count]
        own = self.laplacian[: self.free_count, : self.free_count]
        return -(own + (d.T * slope[:, None, :]) @ d) / self.g_ref

    def diagonal(self, sources: SourceValues, state: np.ndarray) -> np.ndarray:
        slope = self._junction_slopes(sources, state)
        d = self.incidence[:, : self.free_count]
        own = np.diag(self.laplacian)[: self.free_count]
        return (own + slope @ (d * d)) / self.g_ref

    def stable(self, sources: SourceValues, state: np.ndarray) -> np.ndarray:
        """Every finite equilibrium: the energy is strictly convex (module docstring)."""
        return np.all(np.isfinite(state), axis=1)

    def guide(self) -> None:
        return None

    def runner(self, sources, dtype, tol, threads, tile_rows, report) -> FieldRunner:
        """NumPy loops (:mod:`neurosim.engine.field_runner`); one thread, float64."""
        return FieldRunner(self, tol, report)

    # -- what check and relax read ----------------------------------------------------

    def sources_from_settings(self, settings: list[dict[str, float]]) -> SourceValues:
        """Each setting (source name -> value, V or A) over the netlist's own values."""
        values = np.tile(self.defaults, (len(settings), 1))
        column = {name: k for k, name in enumerate(self.sources)}
        for n, setting in enumerate(settings):
            for name, value in setting.items():
                if name not in column:
                    raise KeyError(f"{name} is not a source of this circuit")
                values[n, column[name]] = value
        return SourceValues(values)

    def node_voltages(self, sources: SourceValues, state: np.ndarray) -> dict[str, np.ndarray]:
        """Node name -> (batch,) volts, free and fixed nodes (not diodes' internal ones)."""
        v = self._all_nodes(sources, state)
        return {
            node: v[:, i] for i, node in enumerate(self.nodes) if not node.endswith("#internal")
        }

    def _all_nodes(self, sources: SourceValues, state: np.ndarray) -> np.ndarray:
        """(batch, nodes + 1): free state, fixed voltages, ground (0)."""
        fixed = sources.values @ self.fixing
        ground = np.zeros((len(state), 1))
        return np.concatenate([np.asarray(state, dtype=np.float64), fixed, ground], axis=1)

    def _junction_slopes(self, sources: SourceValues, state: np.ndarray) -> np.ndarray:
        v = self._all_nodes(sources, state)
        return junction_current(v @ self.incidence.T, self.isat, self.vte)[1]


def lower_diode_network(circuit: Circuit) -> DiodeNetwork:
    """The :class:`DiodeNetwork` of ``circuit``, or :class:`CircuitError` saying why it is
    not one (the first element outside the family, or a node without a DC path)."""
    if circuit.network is not None and circuit.network.family != "resistive":
        raise CircuitError("a neurosim crossbar netlist is not a diode network")
    circuit.validate()
    require_dc_solvable(circuit)
    elements = list(circuit.elements.values())
    for e in elements:
        if e.kind not in KINDS:
            raise CircuitError(f"{circuit.where(e.name)}{e.name}: not a resistor–diode element")
        if e.kind == "v" and GROUND not in e.nodes[:2]:
            raise CircuitError(f"{circuit.where(e.name)}{e.name}: a floating voltage source")
        if e.kind == "d" and math.isfinite(circuit.models[e.model].get("bv")):
            raise CircuitError(f"{circuit.where(e.name)}{e.name}: diode breakdown (bv)")
    fixed = [
        (e.name, e.nodes[0] if e.nodes[1] == GROUND else e.nodes[1])
        for e in elements
        if e.kind == "v"
    ]
    fixed_nodes = [node for _, node in fixed]  # distinct: require_dc_solvable refused loops
    vccs = {e.name: _vccs(e, dict(fixed), circuit) for e in elements if e.kind == "g"}
    internal = [
        f"{e.name}#internal"
        for e in elements
        if e.kind == "d" and circuit.models[e.model].get("rs") > 0
    ]
    touched = {n for e in elements if e.kind != "c" for n in e.nodes[:2]} - {GROUND}
    free_nodes = sorted(touched - set(fixed_nodes)) + internal
    nodes = tuple(free_nodes + fixed_nodes)
    index = {node: i for i, node in enumerate(nodes)} | {GROUND: len(nodes)}
    size = len(nodes) + 1
    laplacian = np.zeros((size, size))
    junctions, isat, vte = [], [], []
    sources = [e.name for e in elements if e.kind in "vi"]
    temperature = circuit.temperature()
    injection = np.zeros((len(sources), size))
    fixing = np.zeros((len(sources), len(fixed)))
    for e in elements:
        a, b = (index.get(n) for n in e.nodes[:2])
        if e.kind == "r":
            _stamp(laplacian, a, b, 1.0 / e.value)
        elif e.kind == "g" and vccs[e.name][0] == "conductance":
            _, x, y = vccs[e.name]
            _stamp(laplacian, index[x], index[y], e.value)
        elif e.kind == "g":  # a current set by a source: into its − node, out of its +
            _, source, sign = vccs[e.name]
            injection[sources.index(source), a] -= sign * e.value
            injection[sources.index(source), b] += sign * e.value
        elif e.kind == "d":
            model = circuit.models[e.model]
            anode = a
            at = diode_at(model, e.value, *temperature)
            if model.get("rs") > 0:
                anode = index[f"{e.name}#internal"]
                _stamp(laplacian, a, anode, e.value / at[2])
            row = np.zeros(size)
            row[anode] += 1.0
            row[b] -= 1.0
            junctions.append(row)
            isat.append(at[0])
            vte.append(at[1])
        elif e.kind == "i":  # SPICE: the current flows from n+ through the source to n−
            injection[sources.index(e.name), a] -= 1.0
            injection[sources.index(e.name), b] += 1.0
        elif e.kind == "v":
            k = fixed_nodes.index(nodes[a] if e.nodes[1] == GROUND else nodes[b])
            fixing[sources.index(e.name), k] = 1.0 if e.nodes[1] == GROUND else -1.0
    _require_dc_paths(nodes[: len(free_nodes)], laplacian, junctions, circuit)
    conductances = -laplacian[np.triu_indices(size, 1)]
    return DiodeNetwork(
        nodes=nodes,
        free_count=len(free_nodes),
        sources=tuple(sources),
        defaults=np.array([circuit.elements[name].value for name in sources], dtype=float),
        laplacian=laplacian[:-1, :-1],
        incidence=np.array(junctions).reshape(-1, size),
        isat=np.array(isat),
        vte=np.array(vte),
        injection=injection,
        fixing=fixing,
        g_ref=float(np.median(conductances[conductances > 0])) if np.any(conductances > 0) else 1.0,
    )


def _vccs(element, fixed: dict[str, str], circuit: Circuit) -> tuple:
    """A VCCS of the family: ``("conductance", x, y)`` — across its own control pair
    (``G x y x y g``), or ``G 0 x t x g`` / ``G x 0 x t g`` with t source-fixed, which
    drives g·(v_t − v_x) into x — or ``("driven", source, sign)`` for ``G a b t 0 g``
    with t fixed by ``source`` (v_t = sign·value); else :class:`CircuitError`."""
    out_p, out_n, control_p, control_n = element.nodes
    by_node = {node: name for name, node in fixed.items()}
    if (out_p, out_n) == (control_p, control_n):
        return ("conductance", out_p, out_n)
    if out_p == GROUND and control_n == out_n and control_p in by_node:
        return ("conductance", out_n, control_p)
    if out_n == GROUND and control_p == out_p and control_n in by_node:
        return ("conductance", out_p, control_n)
    if control_n == GROUND and control_p in by_node:
        source = circuit.elements[by_node[control_p]]
        return ("driven", source.name, 1.0 if source.nodes[1] == GROUND else -1.0)
    raise CircuitError(
        f"{circuit.where(element.name)}{element.name}: a VCCS in a resistor–diode network "
        "must be a nudge (across its own control pair, a pull toward a source-fixed node, "
        "or a current set by a source-fixed node)"
    )


def _stamp(laplacian: np.ndarray, a: int, b: int, g: float) -> None:
    laplacian[a, a] += g
    laplacian[b, b] += g
    laplacian[a, b] -= g
    laplacian[b, a] -= g


def _require_dc_paths(free: tuple[str, ...], laplacian, junctions, circuit: Circuit) -> None:
    """Every free node reaches a fixed node or ground through resistors and diodes."""
    size = len(laplacian)
    linked = laplacian != 0
    for row in junctions:
        ends = np.flatnonzero(row)
        linked[np.ix_(ends, ends)] = True
    reached = np.zeros(size, dtype=bool)
    reached[len(free) :] = True  # fixed nodes and ground
    frontier = np.flatnonzero(reached)
    while frontier.size:
        new = np.flatnonzero(linked[frontier].any(axis=0) & ~reached)
        reached[new] = True
        frontier = new
    if not reached.all():
        node = free[int(np.flatnonzero(~reached)[0])]
        raise CircuitError(f"node {node} has no DC path to ground or a voltage source")
