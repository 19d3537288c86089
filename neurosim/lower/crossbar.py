"""Lower a compiled crossbar network (DESIGN.md §3.1) to the dense arrays the engine uses.

The circuit's own element values are read, never the parameters it was compiled from,
so an edited or non-ideal netlist is simulated as written. Which element is which part
comes from the circuit's structure (:mod:`neurosim.lower.layout`); a circuit that is
not a crossbar raises :class:`CircuitError`, and callers fall back to the general MNA
solver.

KCL at unit node ``u`` (voltage ``V = s·vs``), divided by ``vs·g_unit``, gives the
model-unit equation the engine solves (``τ = C/g_unit``)::

    τ ds/dt = F(s) = −leak·s + inj(s)·(Σ W ρ(s') + b) + spring·(t − s) + nudge·(nt − s)

where ``leak``, ``spring`` and ``nudge`` are conductances over ``g_unit``, ``inj`` is the
CCCS gain (or ρ'(s) for a Scellier–Bengio B-source injection), and each effective weight
is a device pair seen through the row drivers: a row pair driven at ``V_p = k_p·ρ·vs``
and ``V_n = k_n·V_p`` puts ``k_p (G⁺ + k_n G⁻)·ρ·vs`` into the column, so
``W = k_p (G⁺ + k_n G⁻)/g_unit`` (``(G⁺ − G⁻)/g_unit`` for ideal drivers). Biases are
``(G⁺ V_bias_p + G⁻ V_bias_n)/(vs·g_unit)``. An array with wire resistance is reduced
exactly to its column transfer matrix (:mod:`neurosim.lower.wires`), which takes the
place of the device pairs in the same formula.

Layers are split into two groups ("even" and "odd") by two-colouring the coupling graph
(a layered network is bipartite): every coupling joins the groups, so one relaxation
pass is two dense products, ``ρ(even) @ M_eo`` and ``ρ(odd) @ M_oe``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from neurosim.circuit.activations import get_activation
from neurosim.circuit.ir import Circuit
from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.templates import Driver, driver_parameters, injection_gain
from neurosim.errors import CircuitError
from neurosim.lower.layout import Layout, read_layout
from neurosim.lower.mna import norton
from neurosim.lower.wires import reduce_array

LINEAR, RHO, TANH = 0, 1, 2  # activation codes of the engine's kernels
ACTIVATION_CODES = {"linear": LINEAR, "rho": RHO, "tanh": TANH}


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
    devices its row lines drive (so those devices dissipate ``Σ (ρ·vs)² · it``) — or,
    when an array the group drives has wire resistance, a (width, width) matrix ``Q``
    (the arrays dissipate ``vs²·ρᵀQρ``, wires included) — and ``bias_power`` [W], the
    constant dissipation of the bias devices. ``wires``: wired array's key -> its row
    and column segment conductances [S], each (2·rows, columns) in array orientation
    (line ``2r`` the p line of row unit ``r``, ``2r+1`` its n line). ``contacts``: an
    array's resistances in series with its devices (:func:`apply_devices` folds them).
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
    row_transform_even: np.ndarray | None = None  # (3, width_even): shift, low, high
    row_transform_odd: np.ndarray | None = None  # (3, width_odd)
    row_gains: np.ndarray | None = None  # (len(layout.rows), 2): k_p, k_n per row unit
    layer_gains: dict[str, np.ndarray] | None = None  # driving layer -> (size, 2) k_p, k_n
    rails: np.ndarray | None = None  # (2,) bias rail voltages [V]
    layout: Layout | None = None
    wires: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
    # device-state key -> contact resistance [Ω] in series with each device (0: none)
    contacts: dict[str, np.ndarray] | None = None

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

    def row_transform_of(self, group: Group) -> np.ndarray:
        """The row-value transform (:func:`row_values`) of ``group``'s rows, (3, width)."""
        return self.row_transform_even if group is self.even else self.row_transform_odd

    def transforms_rows(self) -> bool:
        """True if some row driver has an offset or output limits."""
        return any(transformed(t).any() for t in (self.row_transform_even, self.row_transform_odd))

    def require_layout(self) -> Layout:
        """The element layout; :class:`CircuitError` for a crossbar built without a
        netlist (the tests' oracle)."""
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


def row_values(activations: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """What a row driver puts on its row line, ÷ (k_p·vs): ``clip(ρ + shift, low, high)``
    for ``activations`` ρ (batch, n) and ``transform`` (3, n) (shift, low, high: the
    driver's offset and output limits ÷ (k_p·vs)). Unchanged where the driver has
    neither (the compiled drivers). The engine's kernels apply the same law
    (:func:`neurosim.engine._kernels._activate_row`)."""
    if not transformed(transform).any():
        return activations
    return np.clip(activations + transform[0], transform[1], transform[2])


def transformed(transform: np.ndarray) -> np.ndarray:
    """Which rows of ``transform`` (3, n) have a driver offset or a finite limit, (n,)."""
    return (transform[0] != 0.0) | np.isfinite(transform[1]) | np.isfinite(transform[2])


def _free_layer_count(meta: NetworkMeta, group: Group) -> int:
    return sum(1 for name in group.layers if meta.layer(name).kind != "input")


def lower_crossbar(circuit: Circuit, *, leave_out: bool = False) -> Crossbar:
    """The engine arrays of ``circuit``; :class:`CircuitError` if it is not a crossbar.
    With ``leave_out``, added networks that cannot be folded are left out of the arrays
    and listed in ``layout.left_out`` (for a host that settles the circuit as written on
    the general solver)."""
    layout = crossbar_layout(circuit, leave_out=leave_out)
    crossbar = _empty(circuit.network)
    crossbar.layout = layout
    _fill(crossbar, layout, circuit)
    return crossbar


def crossbar_layout(circuit: Circuit, *, leave_out: bool = False) -> Layout:
    """Where every part of ``circuit``'s crossbar is (what lowering reads, without its
    arrays); :class:`CircuitError` if it is not a crossbar (``leave_out``: as
    :func:`lower_crossbar`)."""
    meta = circuit.network
    if meta is None:
        raise CircuitError("the circuit carries no neurosim network metadata")
    if meta.family != "crossbar":
        raise CircuitError(
            f"a {meta.family} network is not a crossbar: this needs a crossbar network (a "
            "resistive network is trained with train --objective classify, scored with "
            "evaluate, and settled by check and relax)"
        )
    free, inputs = [], []
    for group in _groups(meta):
        for name in group.layers:
            (inputs if meta.layer(name).kind == "input" else free).append(name)
    return read_layout(circuit, free, inputs, leave_out=leave_out)


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
        row_transform_even=_no_transform(even.width),
        row_transform_odd=_no_transform(odd.width),
    )


def _apply_wired(block, row_g, gains, pairs, wires, meta: NetworkMeta, key: str) -> None:
    """A wired array's weights ``k_p (T_p + k_n T_n)/g_unit`` from its reduced transfer
    matrix T, and its share ``Σ κ Y κ`` of the row power matrix (κ: the line gains
    k_p, k_p·k_n; Y: the drivers' admittance matrix)."""
    g_unit = meta.scaling.g_unit
    flat = np.asarray(pairs, dtype=float).reshape(-1)
    transfer, admittance = reduce_array(_grid(meta, key, flat), *wires)
    k_p, k_n = gains[:, 0:1], gains[:, 1:2]
    block[:] = k_p * (transfer[0::2] + k_n * transfer[1::2]) / g_unit
    kappa = np.concatenate([k_p, k_p * k_n], axis=1)  # (rows, 2): the p and n line gains
    n = kappa.shape[0]
    row_g += np.einsum("rs,rsqt,qt->rq", kappa, admittance.reshape(n, 2, n, 2), kappa)


def _no_transform(width: int) -> np.ndarray:
    """Row drivers without offset or limits: shift 0, limits ±inf, (3, width)."""
    return np.array([np.zeros(width), np.full(width, -np.inf), np.full(width, np.inf)])


def _block(crossbar: Crossbar, rows: str, cols: str) -> tuple[np.ndarray, np.ndarray]:
    """Views of the effective weights from layer ``rows`` onto layer ``cols`` and of the
    row conductances of ``rows``."""
    if rows in crossbar.even.slices:
        matrix, row_g = crossbar.m_eo, crossbar.row_conductance_even
        r_slice, c_slice = crossbar.even.slices[rows], crossbar.odd.slices[cols]
    else:
        matrix, row_g = crossbar.m_oe, crossbar.row_conductance_odd
        r_slice, c_slice = crossbar.odd.slices[rows], crossbar.even.slices[cols]
    return matrix[r_slice, c_slice], row_g[r_slice] if row_g.ndim == 1 else row_g[r_slice, r_slice]


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


def _values(circuit: Circuit, names: list[str]) -> np.ndarray:
    elements = circuit.elements
    return np.fromiter((elements[n].value for n in names), dtype=float, count=len(names))


def _fill(crossbar: Crossbar, layout: Layout, circuit: Circuit) -> None:
    """Compute every model-unit array from the element values of ``circuit``."""
    meta = crossbar.meta
    vs, g_unit = meta.scaling.volts_per_unit, meta.scaling.g_unit
    elements, parts = circuit.elements, layout.parts
    rails = np.array([elements[layout.rails[0]].value, elements[layout.rails[1]].value])

    def values(names: list[str | None], absent: float = 0.0) -> np.ndarray:
        return np.array([absent if n is None else elements[n].value for n in names])

    crossbar.leak[:] = 1.0 / values(parts["leak"]) / g_unit
    crossbar.tau[:] = values(parts["capacitor"]) / g_unit
    for name, where in crossbar.free_slices().items():
        crossbar.act_code[where] = ACTIVATION_CODES[meta.layer(name).activation]
    injections = parts["injection"]
    crossbar.slope[:] = [name[0] == "b" for name in injections]
    unit_layers = [name for name in crossbar.free_slices() for _ in range(meta.layer(name).size)]
    crossbar.inj_gain[:] = [
        injection_gain(
            elements[name].expr,
            get_activation(meta.layer(layer).activation),
            unit,
            ammeter,
            vs,
        )
        if name[0] == "b"
        else elements[name].value
        for name, unit, ammeter, layer in zip(
            injections, layout.units, parts["ammeter"], unit_layers, strict=True
        )
    ]
    springs = values(parts["spring"], absent=np.inf)
    crossbar.spring[:] = 1.0 / springs / g_unit
    caps = [elements[n] for n in parts["capacitor"]]
    crossbar.defaults = {
        "start": np.array([0.0 if c.ic is None else c.ic for c in caps]) / vs,
        "inputs": values(layout.sources) / vs,
        "targets": values(parts["spring_source"]) / vs,
        "nudge_targets": values(parts["nudge_source"]) / vs,
        "nudge": values(parts["nudge"]) / g_unit,
    }
    row_layers = [name for name in layout.row_layers for _ in range(meta.layer(name).size)]
    drivers = [
        Driver(gain=elements[name].value)
        if name[0] == "e"
        else driver_parameters(
            elements[name].expr, get_activation(meta.layer(layer).activation), unit, vs
        )
        for name, unit, layer in zip(layout.drivers, layout.rows, row_layers, strict=True)
    ]
    gain_p = np.array([d.gain for d in drivers])
    crossbar.row_gains = np.stack([gain_p, values(layout.inverters)], axis=1).reshape(-1, 2)
    crossbar.layer_gains, offset = {}, 0
    for name in layout.row_layers:
        size = meta.layer(name).size
        crossbar.layer_gains[name] = crossbar.row_gains[offset : offset + size]
        group = crossbar.even if name in crossbar.even.slices else crossbar.odd
        transform = crossbar.row_transform_of(group)[:, group.slices[name]]
        for j, d in enumerate(drivers[offset : offset + size]):
            scale = d.gain * vs  # the row value is the line voltage ÷ (k_p·vs)
            transform[:, j] = (d.offset / scale, d.low / scale, d.high / scale)
        offset += size
    crossbar.rails = rails
    _fold_shunts(crossbar, layout, circuit)
    crossbar.wires = {
        key: tuple(_grid(meta, key, 1.0 / _values(circuit, names)) for names in segments)
        for key, segments in layout.wires.items()
    }
    contact = {device: elements[name].value for device, name in layout.contacts.items()}
    crossbar.contacts = {
        key: _per_device(meta, key, np.array([contact.get(n, 0.0) for n in names]))
        for key, names in layout.devices.items()
        if any(n in contact for n in names)
    }
    apply_devices(crossbar, read_devices(circuit, layout))


def _fold_shunts(crossbar: Crossbar, layout: Layout, circuit: Circuit) -> None:
    """Fold the networks added at unit nodes (:class:`neurosim.lower.layout.Shunt`)
    exactly. A capacitor to ground adds to the unit's capacitance (τ). Every other network
    is reduced to its Norton equivalent at the unit (:func:`neurosim.lower.mna.norton`:
    its own nodes eliminated, the rails held) — it drives ``I − G·v`` into the node — and
    a bleed's G (I = 0) adds to the unit's leak, while trims (G_k, I_k) act as one spring
    of ΣG_k towards ΣI_k / ΣG_k: the same current, the same heat and co-content up to a
    constant, at a unit that has no spring of its own (a visible unit's spring target is
    the host's; the layout refuses a trim there)."""
    scaling = crossbar.meta.scaling
    vs, g_unit = scaling.volts_per_unit, scaling.g_unit
    rails = [circuit.elements[name] for name in layout.rails]
    pull = {}  # unit -> (Σ G, Σ I) of its trims
    for shunt in layout.shunts:
        i = shunt.unit
        members = [circuit.elements[name] for name in shunt.names]
        if shunt.kind == "capacitor":
            crossbar.tau[i] += members[0].value / g_unit
            continue
        g, current = norton(members + rails, layout.units[i])
        if not g > 0.0:
            raise CircuitError(
                f"element {shunt.names[0]}: the network added at {layout.units[i]} has a "
                f"DC conductance of {g:g} S; only a network that draws current back "
                "(G > 0) is folded"
            )
        if shunt.kind == "bleed":
            crossbar.leak[i] += g / g_unit
        else:
            g_sum, i_sum = pull.get(i, (0.0, 0.0))
            pull[i] = (g_sum + g, i_sum + current)
    for i, (g, current) in pull.items():
        crossbar.spring[i] = g / g_unit
        crossbar.defaults["targets"][i] = current / g / vs


def _grid(meta: NetworkMeta, key: str, flat: np.ndarray) -> np.ndarray:
    """Values of an array's devices in device order (:func:`neurosim.lower.layout
    .device_names`) as (2·rows, columns) in array orientation (line 2r+s: row unit r,
    s = 0 for p, 1 for n)."""
    a, b = meta.couplings[int(key[1:].split(".")[0])]
    pairs = flat.reshape(meta.layer(a).size, meta.layer(b).size, 2)
    if key.endswith("backward"):
        pairs = pairs.transpose(1, 0, 2)
    return np.ascontiguousarray(pairs.transpose(0, 2, 1).reshape(-1, pairs.shape[1]))


def read_devices(circuit: Circuit, layout: Layout) -> dict[str, np.ndarray]:
    """Every device's conductance [S], by device-state key: ``w<k>.forward`` /
    ``w<k>.backward`` (size_a, size_b, 2) for the arrays of coupling ``k = (a, b)`` (last
    axis: the ``p`` and ``n`` device of a pair), ``b_<layer>`` (size, 2) for a layer's
    bias pairs (:func:`neurosim.lower.layout.device_names` names each entry)."""
    return {
        key: _per_device(circuit.network, key, 1.0 / _values(circuit, elements))
        for key, elements in layout.devices.items()
    }


def _per_device(meta: NetworkMeta, key: str, flat: np.ndarray) -> np.ndarray:
    """Values of device-state ``key``'s devices (in device order) in its state shape."""
    if key.startswith("w"):
        a, b = meta.couplings[int(key[1:].split(".")[0])]
        return flat.reshape(meta.layer(a).size, meta.layer(b).size, 2)
    return flat.reshape(-1, 2)


def apply_devices(crossbar: Crossbar, devices: Mapping[str, np.ndarray]) -> None:
    """Recompute the weights, biases and row conductances from device conductances
    ``devices`` (all arrays, as :func:`read_devices` gives them), array by array."""
    meta, layout = crossbar.meta, crossbar.require_layout()
    vs, g_unit = meta.scaling.volts_per_unit, meta.scaling.g_unit
    for key, resistance in (crossbar.contacts or {}).items():  # G in series with R
        devices = {**devices, key: devices[key] / (1.0 + devices[key] * resistance)}
    # every array's block is overwritten; blocks no array fills stay 0 (from _empty)
    wired_rows = {rows for key, rows, _ in layout.arrays if key in (crossbar.wires or {})}
    for group, field in (
        (crossbar.even, "row_conductance_even"),
        (crossbar.odd, "row_conductance_odd"),
    ):
        wired = any(name in group.slices for name in wired_rows)
        shape = (group.width, group.width) if wired else (group.width,)
        if getattr(crossbar, field).shape == shape:
            getattr(crossbar, field)[:] = 0.0
        else:  # the first time a group drives a wired array: a power matrix
            setattr(crossbar, field, np.zeros(shape))
    for key, rows, cols in layout.arrays:
        gains = crossbar.layer_gains[rows]
        block, row_g = _block(crossbar, rows, cols)
        if crossbar.wires and key in crossbar.wires:
            _apply_wired(block, row_g, gains, devices[key], crossbar.wires[key], meta, key)
            continue
        pairs = devices[key]
        if key.endswith("backward"):
            pairs = pairs.transpose(1, 0, 2)
        g_p, g_n = pairs[..., 0], pairs[..., 1]
        if np.all(gains[:, 0] == 1.0) and np.all(gains[:, 1] == -1.0):  # ideal drivers
            np.subtract(g_p, g_n, out=block)
            block /= g_unit
            power = g_p.sum(1) + g_n.sum(1)
        else:
            k_p, k_n = gains[:, 0:1], gains[:, 1:2]
            block[:] = k_p * (g_p + k_n * g_n) / g_unit
            power = k_p[:, 0] ** 2 * (g_p.sum(1) + k_n[:, 0] ** 2 * g_n.sum(1))
        if row_g.ndim == 1:
            row_g += power
        else:  # the group also drives a wired array: this one adds to the diagonal
            row_g[np.diag_indices(power.size)] += power
    rails = crossbar.rails
    bias_power = 0.0
    for name, where in crossbar.free_slices().items():
        g_bias = devices[f"b_{name}"]
        crossbar.bias[where] = (g_bias[:, 0] * rails[0] + g_bias[:, 1] * rails[1]) / (vs * g_unit)
        bias_power += float(np.sum(g_bias[:, 0] * rails[0] ** 2 + g_bias[:, 1] * rails[1] ** 2))
    crossbar.bias_power = bias_power
