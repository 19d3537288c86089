"""Lower a compiled crossbar network (DESIGN.md §3.1) to the dense arrays the engine uses.

The circuit's own element values are read, never the parameters it was compiled from,
so an edited or non-ideal netlist is simulated as written. Every element must sit where
the compiler puts it (names and nodes as in :mod:`neurosim.network.compile`); anything
else raises :class:`CircuitError`, and callers fall back to the general MNA solver.

KCL at unit node ``u`` (voltage ``V = s·vs``), divided by ``vs·g_unit``, gives the
model-unit equation the engine solves (``τ = C/g_unit``)::

    τ ds/dt = F(s) = −leak·s + inj(s)·(Σ W ρ(s') + b) + spring·(t − s) + nudge·(nt − s)

where ``leak``, ``spring`` and ``nudge`` are conductances over ``g_unit``, ``inj`` is the
CCCS gain (or ρ'(s) for a Scellier–Bengio B-source injection), and each effective weight
is a device pair seen through the row drivers: a row pair driven at ``V_p = k_p·ρ·vs``
and ``V_n = k_n·V_p`` puts ``k_p (G⁺ + k_n G⁻)·ρ·vs`` into the column, so
``W = k_p (G⁺ + k_n G⁻)/g_unit`` (``(G⁺ − G⁻)/g_unit`` for ideal drivers). Biases are
``(G⁺ V_bias_p + G⁻ V_bias_n)/(vs·g_unit)``.

Layers are split into two groups ("even" and "odd") by two-colouring the coupling graph
(a layered network is bipartite): every coupling joins the groups, so one relaxation
pass is two dense products, ``ρ(even) @ M_eo`` and ``ρ(odd) @ M_oe``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from neurosim.circuit.expr import to_text
from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import NetworkMeta, Scaling
from neurosim.errors import CircuitError
from neurosim.network.activations import get_activation

ACTIVATION_CODES = {"linear": 0, "rho": 1, "tanh": 2}


@dataclass
class Group:
    """One side of the bipartite layer graph.

    ``layers``: names of its free layers then its clamped input layers, in the order of
    the columns of ``acts`` (the rows of the group's outgoing matrix). ``free``: the
    number of free units (the first columns); ``slices``: layer -> column slice.
    """

    layers: tuple[str, ...]
    free: int
    width: int
    slices: dict[str, slice]


@dataclass
class Crossbar:
    """Model-unit arrays of a crossbar circuit (see the module docstring).

    Per free unit (flat index over the even group's free units then the odd group's):
    ``bias``, ``leak``, ``spring``, ``inj_gain``, ``tau`` [s], ``act_code``, ``slope``
    (1 where the injection is ρ'(s)·i, else 0). ``m_eo`` (width_even × free_odd) and
    ``m_oe`` (width_odd × free_even) hold the effective weights. ``defaults``: the
    circuit's own source values in model units (``inputs`` per input unit, ``targets``,
    ``nudge_targets``, ``nudge`` and the capacitors' ``start`` (``ic``) per free unit).
    For the dissipated power:
    ``row_conductance_*`` [S] per unit of a group, ``Σ k_p²(G⁺ + k_n² G⁻)`` over the
    devices its row lines drive (so those devices dissipate ``Σ (ρ·vs)² · it``), and
    ``bias_power`` [W], the constant dissipation of the bias devices.
    """

    meta: NetworkMeta
    even: Group
    odd: Group
    m_eo: np.ndarray
    m_oe: np.ndarray
    bias: np.ndarray
    leak: np.ndarray
    spring: np.ndarray
    inj_gain: np.ndarray
    tau: np.ndarray
    act_code: np.ndarray
    slope: np.ndarray
    defaults: dict[str, np.ndarray]
    row_conductance_even: np.ndarray
    row_conductance_odd: np.ndarray
    bias_power: float = 0.0
    row_gains: np.ndarray | None = None  # (len(layout.rows), 2): k_p, k_n per row unit
    rails: np.ndarray | None = None  # (2,) bias rail voltages [V]
    layout: Layout | None = None

    @property
    def free(self) -> int:
        """Number of free units (the length of a state vector)."""
        return self.even.free + self.odd.free

    @property
    def input_width(self) -> int:
        """Number of clamped input units."""
        return (self.even.width - self.even.free) + (self.odd.width - self.odd.free)

    def free_slices(self) -> dict[str, slice]:
        """Free layer -> its slice of a flat state vector."""
        out = {}
        for group, offset in ((self.even, 0), (self.odd, self.even.free)):
            for name in group.layers[: _free_layer_count(self.meta, group)]:
                s = group.slices[name]
                out[name] = slice(s.start + offset, s.stop + offset)
        return out

    def input_slices(self) -> dict[str, slice]:
        """Input layer -> its slice of a flat input vector (even group's inputs first)."""
        out, offset = {}, 0
        for group in (self.even, self.odd):
            for name in group.layers[_free_layer_count(self.meta, group) :]:
                size = self.meta.layer(name).size
                out[name] = slice(offset, offset + size)
                offset += size
        return out

    def require_layout(self) -> Layout:
        """The element layout; :class:`CircuitError` for an :func:`ideal_crossbar`."""
        if self.layout is None:
            raise CircuitError(
                "this crossbar was built from parameters, not lowered from a circuit"
            )
        return self.layout

    def refresh(self, circuit: Circuit) -> None:
        """Re-read every element value of ``circuit`` (same topology) into the arrays."""
        if len(circuit.elements) != self.require_layout().element_count:
            raise CircuitError("the circuit's elements changed since lowering; lower it again")
        _fill(self, self.layout, circuit)

    def symmetric(self, rtol: float = 1e-12) -> bool:
        """True if every coupling is the same matrix in both directions."""
        eo = self.m_eo[: self.even.free]
        oe = self.m_oe[: self.odd.free]
        if not (np.all(np.isfinite(eo)) and np.all(np.isfinite(oe))):
            return False
        scale = max(float(np.max(np.abs(eo), initial=0.0)), 1e-300)
        return bool(np.allclose(eo, oe.T, rtol=0.0, atol=rtol * scale))


def _free_layer_count(meta: NetworkMeta, group: Group) -> int:
    return sum(1 for name in group.layers if meta.layer(name).kind != "input")


@dataclass
class Layout:
    """Element-name tables of a crossbar (built once per topology)."""

    units: list[str]  # free unit node names, flat order
    inputs: list[str]  # input unit node names, flat input order
    rows: list[str]  # row-driving unit names (free and input) that have row drivers
    arrays: list[tuple[str, str, str]]  # (element prefix, row layer, column layer)
    springs: frozenset[str] = frozenset()  # units with a spring to a target source
    nudges: frozenset[str] = frozenset()  # units with a nudge element
    element_count: int = 0


def lower_crossbar(circuit: Circuit) -> Crossbar:
    """The engine arrays of ``circuit``; :class:`CircuitError` if it is not a crossbar."""
    meta = circuit.network
    if meta is None:
        raise CircuitError("the circuit carries no neurosim network metadata")
    if meta.family != "crossbar":
        raise CircuitError(f"the engine's fast path handles crossbar networks, not {meta.family}")
    crossbar = _empty(meta)
    crossbar.layout = _check_topology(circuit, meta, crossbar.even, crossbar.odd)
    _fill(crossbar, crossbar.layout, circuit)
    return crossbar


def ideal_crossbar(meta: NetworkMeta, params: Mapping[str, np.ndarray]) -> Crossbar:
    """The arrays :func:`lower_crossbar` gives for ``compile_network(meta, params)``.

    Built from the model directly (no circuit of 10⁵–10⁶ elements to build and read):
    ideal drivers and injections, devices ``G± = g_min + max(±W, 0)·g_unit``, sources
    at zero. It has no element layout, so it cannot :meth:`Crossbar.refresh`.
    """
    scaling, vs = meta.scaling, meta.scaling.volts_per_unit
    crossbar = _empty(meta)
    slices = crossbar.free_slices()
    for name, where in slices.items():
        layer = meta.layer(name)
        crossbar.act_code[where] = ACTIVATION_CODES[layer.activation]
        crossbar.slope[where] = meta.law == "scellier_bengio" and layer.activation != "linear"
        crossbar.inj_gain[where] = 1.0
        crossbar.leak[where] = 1.0
        crossbar.tau[where] = scaling.tau
        if layer.kind == "visible":
            crossbar.spring[where] = meta.spring_lambda
        g_p, g_n = _pair(params[f"b_{name}"], scaling)
        crossbar.bias[where] = (g_p * vs - g_n * vs) / (vs * scaling.g_unit)
        crossbar.bias_power += float(np.sum((g_p + g_n) * vs**2))
    for k, (a, b) in enumerate(meta.couplings):
        g_p, g_n = _pair(params[f"w{k}"], scaling)
        _place(crossbar, a, b, (g_p - g_n) / scaling.g_unit, (g_p + g_n).sum(1))
        if meta.layer(a).kind != "input":
            _place(crossbar, b, a, (g_p - g_n).T / scaling.g_unit, (g_p + g_n).sum(0))
    crossbar.defaults = {
        "start": np.zeros(crossbar.free),
        "inputs": np.zeros(crossbar.input_width),
        "targets": np.zeros(crossbar.free),
        "nudge_targets": np.zeros(crossbar.free),
        "nudge": np.zeros(crossbar.free),
    }
    crossbar.rails = np.array([vs, -vs])
    return crossbar


def _pair(values: np.ndarray, scaling: Scaling) -> tuple[np.ndarray, np.ndarray]:
    """Device conductances of signed model values (the compiler's encoding)."""
    values = np.asarray(values, dtype=float)
    return (
        scaling.g_min + np.maximum(values, 0.0) * scaling.g_unit,
        scaling.g_min + np.maximum(-values, 0.0) * scaling.g_unit,
    )


def _empty(meta: NetworkMeta) -> Crossbar:
    even, odd = _groups(meta)
    n_free = even.free + odd.free
    return Crossbar(
        meta=meta,
        even=even,
        odd=odd,
        m_eo=np.zeros((even.width, odd.free)),
        m_oe=np.zeros((odd.width, even.free)),
        bias=np.zeros(n_free),
        leak=np.zeros(n_free),
        spring=np.zeros(n_free),
        inj_gain=np.zeros(n_free),
        tau=np.zeros(n_free),
        act_code=np.zeros(n_free, dtype=np.int64),
        slope=np.zeros(n_free, dtype=np.int64),
        defaults={},
        row_conductance_even=np.zeros(even.width),
        row_conductance_odd=np.zeros(odd.width),
    )


def _place(crossbar: Crossbar, rows: str, cols: str, weights, row_conductance) -> None:
    """Put the effective weights from layer ``rows`` onto layer ``cols`` in their block."""
    if rows in crossbar.even.slices:
        matrix, row_g = crossbar.m_eo, crossbar.row_conductance_even
        r_slice, c_slice = crossbar.even.slices[rows], crossbar.odd.slices[cols]
    else:
        matrix, row_g = crossbar.m_oe, crossbar.row_conductance_odd
        r_slice, c_slice = crossbar.odd.slices[rows], crossbar.even.slices[cols]
    matrix[r_slice, c_slice] = weights
    row_g[r_slice] += row_conductance


def _groups(meta: NetworkMeta) -> tuple[Group, Group]:
    """Two-colour the coupling graph (first layer of each component even)."""
    colour: dict[str, int] = {}
    for first in meta.layers:
        if first.name in colour:
            continue
        colour[first.name] = 0
        stack = [first.name]
        while stack:
            name = stack.pop()
            for a, b in meta.couplings:
                if name not in (a, b):
                    continue
                other = b if name == a else a
                if other not in colour:
                    colour[other] = 1 - colour[name]
                    stack.append(other)
                elif colour[other] == colour[name]:
                    raise CircuitError(
                        f"coupling {a}-{b} closes an odd cycle of layers; the engine's "
                        "fast path needs a bipartite (e.g. layered) network"
                    )
    groups = []
    for parity in (0, 1):
        members = [layer for layer in meta.layers if colour[layer.name] == parity]
        ordered = [l for l in members if l.kind != "input"] + [
            l for l in members if l.kind == "input"
        ]
        slices, offset = {}, 0
        for layer in ordered:
            slices[layer.name] = slice(offset, offset + layer.size)
            offset += layer.size
        free = sum(l.size for l in ordered if l.kind != "input")
        groups.append(Group(tuple(l.name for l in ordered), free, offset, slices))
    return groups[0], groups[1]


def _unit_names(meta: NetworkMeta, group: Group, *, inputs: bool) -> list[str]:
    names = []
    for name in group.layers:
        if (meta.layer(name).kind == "input") == inputs:
            names += [f"{name}_{i}" for i in range(meta.layer(name).size)]
    return names


def _expected_elements(meta: NetworkMeta, layout: Layout) -> dict[str, tuple[str, ...]]:
    """Element name -> nodes, for every element the compiler emits for ``meta``."""
    expected: dict[str, tuple[str, ...]] = {
        "vbias_p": ("bias_p", "0"),
        "vbias_n": ("bias_n", "0"),
    }
    for u in layout.inputs:
        expected[f"vin_{u}"] = (u, "0")
    for u in layout.units:
        layer = meta.layer(u.rsplit("_", 1)[0])
        expected[f"cu_{u}"] = (u, "0")
        expected[f"rl_{u}"] = (u, "0")
        expected[f"vc_{u}"] = (f"{u}_c", "0")
        injection = "fi" if meta.law == "hopfield" or layer.activation == "linear" else "bi"
        expected[f"{injection}_{u}"] = ("0", u)
        expected[f"rb_{u}_p"] = ("bias_p", f"{u}_c")
        expected[f"rb_{u}_n"] = ("bias_n", f"{u}_c")
        if layer.kind == "visible" and meta.spring_lambda > 0:
            expected[f"vt_{u}"] = (f"{u}_t", "0")
            expected[f"rs_{u}"] = (u, f"{u}_t")
        if layer.kind in ("visible", "output") and meta.nudge:
            expected[f"vnt_{u}"] = (f"{u}_nt", "0")
            expected[f"gn_{u}"] = ("0", u, f"{u}_nt", u)
    for u in layout.rows:
        linear = meta.layer(u.rsplit("_", 1)[0]).activation == "linear"
        expected[f"ep_{u}" if linear else f"bp_{u}"] = (
            (f"{u}_p", "0", u, "0") if linear else (f"{u}_p", "0")
        )
        expected[f"en_{u}"] = (f"{u}_n", "0", f"{u}_p", "0")
    for prefix, rows, cols in layout.arrays:
        k_rows, k_cols = meta.layer(rows).size, meta.layer(cols).size
        transpose = prefix.endswith("b")
        for r in range(k_rows):
            for c in range(k_cols):
                i, j = (c, r) if transpose else (r, c)
                for sign in "pn":
                    expected[f"{prefix}_{i}_{j}{sign}"] = (f"{rows}_{r}_{sign}", f"{cols}_{c}_c")
    return expected


def _check_topology(circuit: Circuit, meta: NetworkMeta, even: Group, odd: Group) -> Layout:
    for a, b in meta.couplings:
        if meta.layer(b).kind == "input":
            raise CircuitError(
                f"coupling {a}-{b} has the clamped input layer {b} as its column layer; "
                f"write it as {b}-{a}"
            )
    arrays, driven = [], set()
    for k, (a, b) in enumerate(meta.couplings):
        arrays.append((f"rw{k}f", a, b))
        driven.add(a)
        if meta.layer(a).kind != "input":
            arrays.append((f"rw{k}b", b, a))
            driven.add(b)
    units = _unit_names(meta, even, inputs=False) + _unit_names(meta, odd, inputs=False)
    inputs = _unit_names(meta, even, inputs=True) + _unit_names(meta, odd, inputs=True)
    rows = [u for u in units + inputs if u.rsplit("_", 1)[0] in driven]
    layout = Layout(units, inputs, rows, arrays)
    expected = _expected_elements(meta, layout)
    layout.springs = frozenset(u for u in units if f"rs_{u}" in expected)
    layout.nudges = frozenset(u for u in units if f"gn_{u}" in expected)
    layout.element_count = len(expected)
    for name, element in circuit.elements.items():
        nodes = expected.get(name)
        if nodes is None:
            raise CircuitError(f"element {name} is not part of the compiled crossbar layout")
        if tuple(element.nodes) != nodes:
            raise CircuitError(
                f"element {name} connects {' '.join(element.nodes)}, "
                f"the crossbar layout expects {' '.join(nodes)}"
            )
    missing = sorted(set(expected) - set(circuit.elements))
    if missing:
        raise CircuitError(f"the crossbar lacks {len(missing)} elements, e.g. {missing[0]}")
    for name, element in circuit.elements.items():
        if element.extra:
            raise CircuitError(
                f"source {name} has a waveform or AC part; the engine drives DC sources only"
            )
    _check_behavioural(circuit, meta, layout)
    return layout


def _check_behavioural(circuit: Circuit, meta: NetworkMeta, layout: Layout) -> None:
    """B sources and CCCS controls must be exactly the compiler's templates."""
    vs = meta.scaling.volts_per_unit
    for u in layout.units:
        element = circuit.elements.get(f"fi_{u}")
        if element is not None and element.control != f"vc_{u}":
            raise CircuitError(f"element fi_{u} is controlled by {element.control}, not vc_{u}")
        element = circuit.elements.get(f"bi_{u}")
        if element is not None:
            activation = get_activation(meta.layer(u.rsplit("_", 1)[0]).activation)
            slope = activation.spice_derivative_of(("bin", "/", ("v", u), ("num", vs)))
            _same_expression(element, ("bin", "*", slope, ("i", f"vc_{u}")), "i")
    for u in layout.rows:
        element = circuit.elements.get(f"bp_{u}")
        if element is not None:
            activation = get_activation(meta.layer(u.rsplit("_", 1)[0]).activation)
            row = activation.spice_of(("bin", "/", ("v", u), ("num", vs)))
            _same_expression(element, ("bin", "*", ("num", vs), row), "v")


def _same_expression(element, template, output: str) -> None:
    if element.output != output or to_text(element.expr) != to_text(template):
        raise CircuitError(
            f"element {element.name}: its expression is not the compiled unit's "
            f"({to_text(template)}); the fast engine cannot simulate it"
        )


def _values(circuit: Circuit, names: list[str]) -> np.ndarray:
    elements = circuit.elements
    return np.fromiter((elements[n].value for n in names), dtype=float, count=len(names))


def _fill(crossbar: Crossbar, layout: Layout, circuit: Circuit) -> None:
    """Compute every model-unit array from the element values of ``circuit``."""
    meta = crossbar.meta
    vs, g_unit = meta.scaling.volts_per_unit, meta.scaling.g_unit
    units = layout.units
    elements = circuit.elements
    rails = np.array([elements["vbias_p"].value, elements["vbias_n"].value])

    crossbar.leak[:] = 1.0 / _values(circuit, [f"rl_{u}" for u in units]) / g_unit
    crossbar.tau[:] = _values(circuit, [f"cu_{u}" for u in units]) / g_unit
    g_bias_p = 1.0 / _values(circuit, [f"rb_{u}_p" for u in units])
    g_bias_n = 1.0 / _values(circuit, [f"rb_{u}_n" for u in units])
    crossbar.bias[:] = (g_bias_p * rails[0] + g_bias_n * rails[1]) / (vs * g_unit)
    crossbar.bias_power = float(np.sum(g_bias_p * rails[0] ** 2 + g_bias_n * rails[1] ** 2))
    spring, nudge = np.zeros(len(units)), np.zeros(len(units))
    targets, nudge_targets = np.zeros(len(units)), np.zeros(len(units))
    for n, u in enumerate(units):
        layer = meta.layer(u.rsplit("_", 1)[0])
        crossbar.act_code[n] = ACTIVATION_CODES[layer.activation]
        bi = elements.get(f"bi_{u}")
        crossbar.slope[n] = bi is not None
        crossbar.inj_gain[n] = 1.0 if bi is not None else elements[f"fi_{u}"].value
        if f"rs_{u}" in elements:
            spring[n] = 1.0 / elements[f"rs_{u}"].value / g_unit
            targets[n] = elements[f"vt_{u}"].value / vs
        if f"gn_{u}" in elements:
            nudge[n] = elements[f"gn_{u}"].value / g_unit
            nudge_targets[n] = elements[f"vnt_{u}"].value / vs
    crossbar.spring[:] = spring
    caps = [elements[f"cu_{u}"] for u in units]
    crossbar.defaults = {
        "start": np.array([0.0 if c.ic is None else c.ic for c in caps]) / vs,
        "inputs": _values(circuit, [f"vin_{u}" for u in layout.inputs]) / vs,
        "targets": targets,
        "nudge_targets": nudge_targets,
        "nudge": nudge,
    }

    gain_p, gain_n = {}, {}
    for u in layout.rows:
        ep = elements.get(f"ep_{u}")
        gain_p[u] = 1.0 if ep is None else ep.value
        gain_n[u] = elements[f"en_{u}"].value
    crossbar.row_gains = np.array([[gain_p[u], gain_n[u]] for u in layout.rows]).reshape(-1, 2)
    crossbar.rails = rails
    crossbar.m_eo[:] = 0.0
    crossbar.m_oe[:] = 0.0
    crossbar.row_conductance_even[:] = 0.0
    crossbar.row_conductance_odd[:] = 0.0
    for prefix, rows, cols in layout.arrays:
        n_rows, n_cols = meta.layer(rows).size, meta.layer(cols).size
        transpose = prefix.endswith("b")
        idx = [(c, r) if transpose else (r, c) for r in range(n_rows) for c in range(n_cols)]
        g_p = 1.0 / _values(circuit, [f"{prefix}_{i}_{j}p" for i, j in idx])
        g_n = 1.0 / _values(circuit, [f"{prefix}_{i}_{j}n" for i, j in idx])
        g_p, g_n = g_p.reshape(n_rows, n_cols), g_n.reshape(n_rows, n_cols)
        k_p = np.array([gain_p[f"{rows}_{r}"] for r in range(n_rows)])
        k_n = np.array([gain_n[f"{rows}_{r}"] for r in range(n_rows)])
        weights = k_p[:, None] * (g_p + k_n[:, None] * g_n) / g_unit
        _place(crossbar, rows, cols, weights, k_p**2 * (g_p.sum(1) + k_n**2 * g_n.sum(1)))
