"""Lower a circuit to modified nodal analysis (MNA) equations for DC operating points.

Unknowns ``x``: node voltages (ground excluded) followed by branch currents of the
elements that fix a voltage (V, E, H, voltage B sources, and inductors, which are
shorts at DC). The residual is ``F(x) = A x − rhs + f(x)``: rows of nodes sum the
currents leaving the node, rows of branches state the element's voltage law. ``A`` is
constant; ``f`` collects behavioural sources and diodes. Capacitors are open at DC.
Branch currents follow ngspice: positive from the + node through the element to the −.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from neurosim.circuit.expr import compile_scalar, derivative, references
from neurosim.circuit.ir import GROUND, Circuit, Element, require_dc_solvable
from neurosim.circuit.junction import diode_at, junction_current
from neurosim.errors import CircuitError

_BRANCH_KINDS = "vehl"


@dataclass(frozen=True)
class Behavioural:
    """A B source lowered: its row(s), value function and partial derivatives."""

    name: str
    rows: tuple[int, int]  # (+row, -row) for current output; (branch row, -1) for voltage
    output: str
    value: Callable
    partials: tuple[tuple[int, Callable], ...]


@dataclass(frozen=True)
class Diode:
    """A junction between unknowns ``anode``/``cathode`` (-1 = ground), ngspice level 1."""

    name: str
    anode: int
    cathode: int
    saturation: float  # IS * area [A]
    vte: float  # N * Vt [V]


@dataclass
class MnaSystem:
    """The lowered DC equations of a circuit. Build with :func:`lower_dc`."""

    node_index: dict[str, int]
    branch_index: dict[str, int]
    matrix: sp.csr_matrix
    rhs: np.ndarray
    behavioural: list[Behavioural]
    diodes: list[Diode]
    source_rows: dict[
        str, list[tuple[int, float]]
    ]  # V/I name -> [(row, sign)]: rhs[row] = sign*value

    @property
    def row_scale(self) -> np.ndarray:
        """1 / largest |entry| of each row of ``A``: makes amperes and volts comparable."""
        largest = abs(self.matrix).max(axis=1).toarray().ravel()
        return 1.0 / np.where(largest > 0, largest, 1.0)

    @property
    def size(self) -> int:
        """Number of unknowns."""
        return self.matrix.shape[0]

    def set_sources(self, values: Mapping[str, float]) -> None:
        """Set DC values (volts or amperes) of independent sources by element name."""
        for name, value in values.items():
            if name not in self.source_rows:
                raise KeyError(f"{name!r} is not an independent source of this circuit")
            for row, sign in self.source_rows[name]:
                self.rhs[row] = sign * value

    @property
    def node_count(self) -> int:
        """Unknowns that are node voltages (the first ones); the rest are branch currents."""
        return len(self.node_index)

    def residual(self, x: np.ndarray, source_scale: float = 1.0) -> np.ndarray:
        """``F(x)``, shape (size,), with independent sources scaled by ``source_scale``."""
        out = self.matrix @ x - source_scale * self.rhs
        for source in self.behavioural:
            value = source.value(x)
            plus, minus = source.rows
            if source.output == "i":
                if plus >= 0:
                    out[plus] += value
                if minus >= 0:
                    out[minus] -= value
            else:
                out[plus] -= value
        for diode in self.diodes:
            current, _ = diode_current(diode, _junction(x, diode))
            if diode.anode >= 0:
                out[diode.anode] += current
            if diode.cathode >= 0:
                out[diode.cathode] -= current
        return out

    def jacobian(self, x: np.ndarray) -> sp.csc_matrix:
        """``dF/dx`` as a sparse matrix."""
        rows, cols, vals = [], [], []
        for source in self.behavioural:
            plus, minus = source.rows
            for col, partial in source.partials:
                slope = partial(x)
                if source.output == "i":
                    for row, sign in ((plus, 1.0), (minus, -1.0)):
                        if row >= 0:
                            rows.append(row), cols.append(col), vals.append(sign * slope)
                else:
                    rows.append(plus), cols.append(col), vals.append(-slope)
        for diode in self.diodes:
            _, conductance = diode_current(diode, _junction(x, diode))
            for row, rsign in ((diode.anode, 1.0), (diode.cathode, -1.0)):
                for col, csign in ((diode.anode, 1.0), (diode.cathode, -1.0)):
                    if row >= 0 and col >= 0:
                        rows.append(row), cols.append(col), vals.append(rsign * csign * conductance)
        extra = sp.csr_matrix((vals, (rows, cols)), shape=self.matrix.shape)
        return (self.matrix + extra).tocsc()

    def voltages(self, x: np.ndarray) -> dict[str, float]:
        """Node voltages by name (internal diode nodes included), volts."""
        return {name: float(x[i]) for name, i in self.node_index.items()}

    def currents(self, x: np.ndarray) -> dict[str, float]:
        """Branch currents by element name, amperes (ngspice's sign)."""
        return {name: float(x[i]) for name, i in self.branch_index.items()}


def _junction(x: np.ndarray, diode: Diode) -> float:
    va = x[diode.anode] if diode.anode >= 0 else 0.0
    vc = x[diode.cathode] if diode.cathode >= 0 else 0.0
    return float(va - vc)


def diode_current(diode: Diode, vd: float) -> tuple[float, float]:
    """ngspice level-1 DC junction current and conductance at voltage ``vd``
    (:mod:`neurosim.circuit.junction`)."""
    current, conductance = junction_current(vd, diode.saturation, diode.vte)
    return float(current), float(conductance)


def lower_dc(circuit: Circuit) -> MnaSystem:
    """Build the DC MNA system of ``circuit`` (validated first, and refused by name where
    its topology alone makes it singular: :func:`neurosim.circuit.ir.require_dc_solvable`)."""
    circuit.validate()
    require_dc_solvable(circuit)
    nodes = [n for n in circuit.nodes() if n != GROUND]
    node_index = {n: i for i, n in enumerate(nodes)}
    internal = {}
    for element in circuit.elements.values():
        if element.kind == "d" and circuit.models[element.model].get("rs") > 0:
            internal[element.name] = len(node_index)
            node_index[f"{element.name}#internal"] = len(node_index)
    branch_index = {}
    for element in circuit.elements.values():
        if element.kind in _BRANCH_KINDS or (element.kind == "b" and element.output == "v"):
            branch_index[element.name] = len(node_index) + len(branch_index)
    size = len(node_index) + len(branch_index)
    builder = _Builder(node_index, branch_index, size, circuit.temperature())
    for element in circuit.elements.values():
        builder.stamp(circuit, element, internal.get(element.name))
    matrix = sp.csr_matrix((builder.vals, (builder.rows, builder.cols)), shape=(size, size))
    return MnaSystem(
        node_index,
        branch_index,
        matrix,
        builder.rhs,
        builder.behavioural,
        builder.diodes,
        builder.source_rows,
    )


def norton(elements: list[Element], node: str) -> tuple[float, float]:
    """The Norton equivalent of the linear one-port ``elements`` (R, C, V, I, E, G; their
    other ends at ground or at their own nodes) seen at ``node``: ``(G [S], I [A])`` such
    that they drive the current ``I − G·v`` into ``node`` held at ``v`` volts. Two solves
    of their MNA equations with ``node`` held at 0 and 1 V; :class:`CircuitError` if
    those are singular (a floating node or a loop of voltage sources)."""
    names = {e.name for e in elements}
    probe = next(f"v{k}" for k in range(len(names) + 1) if f"v{k}" not in names)
    circuit = Circuit(elements={e.name: e for e in elements})
    circuit.add(Element(probe, (node, GROUND), 0.0))
    singular = CircuitError(
        f"the elements {', '.join(sorted(names))} have no unique DC solution "
        "(a floating node or a loop of voltage sources)"
    )
    try:
        system = lower_dc(circuit)
    except CircuitError:  # about the probe, maybe: say it of the elements
        raise singular from None
    matrix = system.matrix.tocsc()
    current = []
    for volts in (0.0, 1.0):
        system.set_sources({probe: volts})
        with warnings.catch_warnings():
            warnings.simplefilter("error", spla.MatrixRankWarning)
            try:  # linear: F(x) = A x − rhs
                x = spla.spsolve(matrix, system.rhs)
            except (spla.MatrixRankWarning, RuntimeError):
                x = np.array([np.nan])
        if not np.all(np.isfinite(x)):
            raise singular
        current.append(float(x[system.branch_index[probe]]))  # into the probe's + node
    return current[0] - current[1], current[0]


class _Builder:
    def __init__(
        self,
        node_index: dict[str, int],
        branch_index: dict[str, int],
        size: int,
        temperature: tuple[float, float],
    ):
        self.node_index, self.branch_index = node_index, branch_index
        self.temperature = temperature  # (circuit, nominal) [°C]: the diodes' laws
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.rhs = np.zeros(size)
        self.behavioural: list[Behavioural] = []
        self.diodes: list[Diode] = []
        self.source_rows: dict[str, list[tuple[int, float]]] = {}

    def node(self, name: str) -> int:
        return -1 if name == GROUND else self.node_index[name]

    def add(self, row: int, col: int, value: float) -> None:
        if row >= 0 and col >= 0:
            self.rows.append(row), self.cols.append(col), self.vals.append(value)

    def conductance(self, a: int, b: int, g: float) -> None:
        self.add(a, a, g), self.add(b, b, g), self.add(a, b, -g), self.add(b, a, -g)

    def branch(self, name: str, a: int, b: int) -> int:
        """KCL entries of a voltage-fixing element and the + / - part of its law."""
        j = self.branch_index[name]
        self.add(a, j, 1.0), self.add(b, j, -1.0), self.add(j, a, 1.0), self.add(j, b, -1.0)
        return j

    def stamp(self, circuit: Circuit, e: Element, internal: int | None) -> None:
        kind = e.kind
        a, b = self.node(e.nodes[0]), self.node(e.nodes[1])
        if kind == "r":
            self.conductance(a, b, 1.0 / e.value)
        elif kind in "vl":
            j = self.branch(e.name, a, b)
            if kind == "v":
                self.rhs[j] = e.value
                self.source_rows[e.name] = [(j, 1.0)]
        elif kind == "i":
            # Current leaving a through the source: residual += value at a, -= at b.
            pairs = [(r, s) for r, s in ((a, -1.0), (b, 1.0)) if r >= 0]
            for row, sign in pairs:
                self.rhs[row] += sign * e.value
            self.source_rows[e.name] = pairs
        elif kind == "e":
            j = self.branch(e.name, a, b)
            c, d = self.node(e.nodes[2]), self.node(e.nodes[3])
            self.add(j, c, -e.value), self.add(j, d, e.value)
        elif kind == "g":
            c, d = self.node(e.nodes[2]), self.node(e.nodes[3])
            self.add(a, c, e.value), self.add(a, d, -e.value)
            self.add(b, c, -e.value), self.add(b, d, e.value)
        elif kind == "f":
            jc = self.branch_index[e.control]
            self.add(a, jc, e.value), self.add(b, jc, -e.value)
        elif kind == "h":
            j = self.branch(e.name, a, b)
            self.add(j, self.branch_index[e.control], -e.value)
        elif kind == "b":
            self.behavioural.append(self._behavioural(e, a, b))
        elif kind == "d":
            self._diode(circuit, e, a, b, internal)
        # capacitors are open at DC

    def _leaf(self, leaf: tuple) -> str:
        if leaf[0] == "v":
            return "0.0" if leaf[1] == GROUND else f"x[{self.node_index[leaf[1]]}]"
        return f"x[{self.branch_index[leaf[1]]}]"

    def _behavioural(self, e: Element, a: int, b: int) -> Behavioural:
        nodes, sources = references(e.expr)
        leaves = [("v", n) for n in sorted(nodes) if n != GROUND]
        leaves += [("i", s) for s in sorted(sources)]
        partials = []
        for leaf in leaves:
            col = int(self._leaf(leaf)[2:-1])
            partials.append((col, compile_scalar(derivative(e.expr, leaf), self._leaf)))
        if e.output == "v":
            j = self.branch(e.name, a, b)
            rows = (j, -1)
        else:
            rows = (a, b)
        value = compile_scalar(e.expr, self._leaf)
        return Behavioural(e.name, rows, e.output, value, tuple(partials))

    def _diode(self, circuit: Circuit, e: Element, a: int, b: int, internal: int | None) -> None:
        model = circuit.models[e.model]
        if math.isfinite(model.get("bv")):
            raise CircuitError(
                f"{circuit.where(e.name)}{e.name}: diode breakdown (bv) is not modelled by "
                "neurosim's solver (ngspice models it; without bv the circuit can be checked)"
            )
        junction_anode = a
        isat, vte, rs = diode_at(model, e.value, *self.temperature)
        if internal is not None:
            self.conductance(a, internal, e.value / rs)
            junction_anode = internal
        self.diodes.append(Diode(e.name, junction_anode, b, isat, vte))
