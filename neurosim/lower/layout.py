"""Where every part of a crossbar circuit is: read from its structure, checked by topology.

The circuit's :class:`~neurosim.circuit.structure.Structure` (its netlist's ``structure``
line, or the compiler's templates for a netlist written before it) names each part;
this module finds those elements and checks that they are connected as the parts of a
crossbar are — a capacitor and a leak from each unit node to ground, a 0 V ammeter
holding each column line, devices from the row lines their drivers drive onto the
columns, and so on — deriving every internal node (columns, row lines, target nodes,
rails) from the elements themselves. Anything else is a :class:`CircuitError` naming
the element; callers then fall back to the general MNA solver.

In a wired array (:mod:`neurosim.lower.wires`) each device defines its own two wire
nodes (they must be new and distinct), and each wire segment must join them as the
array's geometry says.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from neurosim.circuit.activations import get_activation
from neurosim.circuit.expr import to_text
from neurosim.circuit.ir import GROUND, Circuit, Element
from neurosim.circuit.meta import HOPFIELD, NetworkMeta
from neurosim.circuit.structure import Structure, default_structure, driven_layers
from neurosim.circuit.templates import (
    driver_expression,
    driver_parameters,
    injection_expression,
    injection_gain,
)
from neurosim.errors import CircuitError

# unit part -> the element letters it may be
KINDS = {
    "source": "v",
    "driver": "eb",
    "inverter": "e",
    "capacitor": "c",
    "leak": "r",
    "ammeter": "v",
    "injection": "fb",
    "bias_p": "r",
    "bias_n": "r",
    "spring": "r",
    "spring_source": "v",
    "nudge": "g",
    "nudge_source": "v",
}
FREE_UNIT_PARTS = tuple(KINDS)[3:]  # the parts every free unit has (or may have)


@dataclass
class Layout:
    """The element and node names of every part, in the engine's flat orders.

    ``units`` / ``inputs``: free / input unit nodes (flat state / input order);
    ``rows``: the unit nodes that drive row lines (free then input), of the layers
    ``row_layers``. ``parts``: unit
    part -> element name per free unit (None where a unit has no such part);
    ``sources``: the clamping source per input unit; ``drivers``, ``inverters``: per
    row unit. ``nodes``: ``column``, ``spring_target``, ``nudge_target`` per free unit,
    ``row_p``, ``row_n`` per row unit, ``rails`` (positive, negative). ``arrays``:
    (device-state key, row layer, column layer); ``devices``: device-state key ->
    element names (:func:`device_names`); ``wires``: wired array's key -> (row segment
    names, column segment names), in the order of its devices.
    """

    structure: Structure
    units: list[str]
    inputs: list[str]
    rows: list[str]
    row_layers: list[str]
    arrays: list[tuple[str, str, str]]
    parts: dict[str, list[str | None]]
    sources: list[str]
    drivers: list[str]
    inverters: list[str]
    rails: tuple[str, str]
    nodes: dict[str, list[str | None]] = field(default_factory=dict)
    devices: dict[str, list[str]] = field(default_factory=dict)
    wires: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    springs: frozenset[str] = frozenset()  # unit nodes with a spring to a target source
    nudges: frozenset[str] = frozenset()  # unit nodes with a nudge element
    element_count: int = 0
    # elements a hardware team added, folded exactly (lower/crossbar.py): at free unit
    # nodes, and in series with a device (device name -> its contact resistor's name)
    shunts: list[Shunt] = field(default_factory=list)
    contacts: dict[str, str] = field(default_factory=dict)
    # added networks left out of the lowering (read_layout's leave_out): their element
    # names, and why each cannot be folded
    left_out: list[tuple[tuple[str, ...], str]] = field(default_factory=list)


@dataclass(frozen=True)
class Shunt:
    """Elements a hardware team added that meet the crossbar only at free unit ``unit``
    (its flat index), ground and the bias rails, joined among themselves through nodes of
    their own: ``kind`` "capacitor" (one capacitor to ground), "bleed" (resistors and
    controlled sources that draw current towards 0 V) or "trim" (a network that also
    reaches a rail or holds a source, so it pulls the unit towards some voltage)."""

    names: tuple[str, ...]
    kind: str
    unit: int

    @property
    def name(self) -> str:
        return "+".join(self.names)


FOLDABLE = "rcvieg"  # the element kinds of an added network the lowering folds (linear)


def read_layout(
    circuit: Circuit, free_layers: list[str], input_layers: list[str], *, leave_out: bool = False
) -> Layout:
    """The layout of ``circuit``, its free and input layers in the engine's flat order;
    :class:`CircuitError` naming the first element out of place. With ``leave_out``, added
    networks that cannot be folded are listed in ``left_out`` instead (a circuit settled
    on the general solver keeps the layout of its crossbar)."""
    meta = circuit.network
    for a, b in meta.couplings:
        if meta.layer(b).kind == "input":
            raise CircuitError(
                f"coupling {a}-{b} has the clamped input layer {b} as its column layer; "
                f"write it as {b}-{a}"
            )
    structure = circuit.structure or default_structure(meta)
    _check_parts(structure, meta)
    layout = _names(structure, meta, free_layers, input_layers)
    expected = _expected_nodes(circuit, meta, layout)
    layout.element_count = len(circuit.elements)
    added, misplaced = [], []
    for name, element in circuit.elements.items():
        nodes = expected.get(name)
        if nodes is None:
            added.append(element)
        elif tuple(element.nodes) != nodes:
            misplaced.append(name)
        elif element.extra:
            raise CircuitError(
                f"source {name} has a waveform or AC part; the engine drives DC sources only"
            )
    layout.contacts = _contacts(circuit, layout, expected, misplaced) if misplaced else {}
    for name in misplaced:
        if name not in layout.contacts:
            raise CircuitError(
                f"element {name} connects {' '.join(circuit.elements[name].nodes)}, "
                f"the crossbar's structure needs {' '.join(expected[name])}"
            )
    in_series = set(layout.contacts.values())
    for network in _networks(circuit, [e for e in added if e.name not in in_series]):
        try:
            layout.shunts.append(_shunt(network, layout))
        except CircuitError as error:
            if not leave_out:
                raise
            layout.left_out.append((tuple(e.name for e in network.elements), str(error)))
    for name in layout.parts["ammeter"]:
        if circuit.elements[name].value != 0.0:
            raise CircuitError(
                f"ammeter {name} is {circuit.elements[name].value:g} V: a column line must sit "
                "at virtual ground (0 V)"
            )
    _check_behavioural(circuit, meta, layout)
    return layout


def device_names(meta: NetworkMeta, structure: Structure) -> dict[str, list[str]]:
    """Device-state key -> element names, flat: ``w<k>.forward`` / ``w<k>.backward``,
    the pairs of coupling ``k = (a, b)`` in its own ``(i, j)`` order (``W[i, j]``, ``i``
    over ``a``), ``p`` before ``n``; ``b_<layer>``, the bias pairs of a free layer, per
    unit ``p`` then ``n``."""
    names = {array.key: _array_names(meta, array, array.device) for array in structure.arrays}
    for layer in meta.layers:
        if layer.kind != "input":
            parts = structure.units[layer.name]
            names[f"b_{layer.name}"] = [
                parts[f"bias_{sign}"].format(i=i) for i in range(layer.size) for sign in "pn"
            ]
    return names


def wire_names(meta: NetworkMeta, structure: Structure) -> dict[str, tuple[list[str], list[str]]]:
    """Wired array's key -> its row and column segment names, in device order."""
    return {
        array.key: (
            _array_names(meta, array, array.row_wire),
            _array_names(meta, array, array.column_wire),
        )
        for array in structure.arrays
        if array.wired
    }


def _array_names(meta: NetworkMeta, array, template: str) -> list[str]:
    """``template`` filled for every device of ``array`` in coupling order, p before n."""
    a, b = meta.couplings[array.coupling]
    forward = array.direction == "forward"
    return [
        template.format(row=i if forward else j, col=j if forward else i, sign=sign)
        for i in range(meta.layer(a).size)
        for j in range(meta.layer(b).size)
        for sign in "pn"
    ]


def _check_parts(structure: Structure, meta: NetworkMeta) -> None:
    """The structure has exactly the parts a crossbar of ``meta`` has."""
    wanted = default_structure(meta)
    for layer in meta.layers:
        have, need = set(structure.units[layer.name]), set(wanted.units[layer.name])
        if have != need:
            extra, missing = sorted(have - need), sorted(need - have)
            raise CircuitError(
                f"layer {layer.name}: the structure's unit parts "
                + (f"lack {', '.join(missing)}" if missing else f"add {', '.join(extra)}")
            )
    have = {(a.coupling, a.direction) for a in structure.arrays}
    need = {(a.coupling, a.direction) for a in wanted.arrays}
    if have != need or len(structure.arrays) != len(wanted.arrays):
        raise CircuitError("the structure's arrays are not the couplings' (one per direction)")


def _names(
    structure: Structure, meta: NetworkMeta, free_layers: list[str], input_layers: list[str]
) -> Layout:
    def flat(layers: list[str], part: str) -> list[str | None]:
        out: list[str | None] = []
        for name in layers:
            size = meta.layer(name).size
            out += structure.names(name, part, size) or [None] * size
        return out

    driven = driven_layers(meta)
    row_layers = [n for n in free_layers + input_layers if n in driven]
    arrays = []
    for array in structure.arrays:
        a, b = meta.couplings[array.coupling]
        arrays.append((array.key, *((a, b) if array.direction == "forward" else (b, a))))
    layout = Layout(
        structure=structure,
        units=flat(free_layers, "node"),
        inputs=flat(input_layers, "node"),
        rows=flat(row_layers, "node"),
        row_layers=row_layers,
        arrays=arrays,
        parts={part: flat(free_layers, part) for part in FREE_UNIT_PARTS},
        sources=flat(input_layers, "source"),
        drivers=flat(row_layers, "driver"),
        inverters=flat(row_layers, "inverter"),
        rails=structure.rails,
        devices=device_names(meta, structure),
        wires=wire_names(meta, structure),
    )
    layout.springs = frozenset(
        u for u, s in zip(layout.units, layout.parts["spring"], strict=True) if s
    )
    layout.nudges = frozenset(
        u for u, s in zip(layout.units, layout.parts["nudge"], strict=True) if s
    )
    return layout


def _contacts(circuit: Circuit, layout: Layout, expected: dict, misplaced: list[str]):
    """Which ``misplaced`` elements (connected otherwise than the structure says) are
    devices of arrays without wire resistance joined to their row line or column through
    one added resistor — a contact or via resistance — by a node of their own: device
    name -> the resistor's name."""
    wired = {name for key in layout.wires for name in layout.devices[key]}
    devices = {name for names in layout.devices.values() for name in names} - wired
    users: dict[str, list[str]] = {}
    for name, element in circuit.elements.items():
        for node in element.nodes[:2]:
            users.setdefault(node, []).append(name)
    found = {}
    for device in misplaced:
        element, nodes = circuit.elements[device], expected[device]
        if device not in devices or len(element.nodes) != 2:
            continue
        for side in (0, 1):
            middle = element.nodes[side]
            if element.nodes[1 - side] != nodes[1 - side] or middle == nodes[side]:
                continue
            others = [n for n in users.get(middle, []) if n != device]
            if len(others) != 1 or others[0] in expected or middle == GROUND:
                continue
            contact = circuit.elements[others[0]]
            if contact.kind == "r" and set(contact.nodes[:2]) == {middle, nodes[side]}:
                found[device] = others[0]
    return found


@dataclass(frozen=True)
class _Network:
    """Added elements joined through nodes of their own; ``boundary``: the nodes where
    they meet the crossbar (ground among them)."""

    elements: list[Element]
    boundary: frozenset[str]


def _networks(circuit: Circuit, added: list[Element]) -> list[_Network]:
    """The ``added`` elements grouped into networks by the nodes no part of the crossbar
    uses, each in netlist order."""
    names = {e.name for e in added}
    boundary = {GROUND}
    for name, element in circuit.elements.items():
        if name not in names:
            boundary.update(element.nodes)
    own = {e.name: [n for n in e.nodes if n not in boundary] for e in added}
    users: dict[str, list[Element]] = {}  # a node of the added elements' own -> its users
    for element in added:
        for node in own[element.name]:
            users.setdefault(node, []).append(element)
    order = {name: k for k, name in enumerate(circuit.elements)}
    seen: set[str] = set()
    networks = []
    for element in added:
        if element.name in seen:
            continue
        seen.add(element.name)
        members, stack = [], [element]
        while stack:
            member = stack.pop()
            members.append(member)
            for node in own[member.name]:
                for other in users[node]:
                    if other.name not in seen:
                        seen.add(other.name)
                        stack.append(other)
        members.sort(key=lambda e: order[e.name])
        touched = {n for e in members for n in e.nodes if n in boundary}
        networks.append(_Network(members, frozenset(touched)))
    return networks


def _shunt(network: _Network, layout: Layout) -> Shunt:
    """One added network as a :class:`Shunt` at the one unit node it meets, or the
    :class:`CircuitError` saying why it is not part of the crossbar's structure."""
    members = network.elements
    first = members[0].name
    foreign = next((e for e in members if e.kind not in FOLDABLE or e.extra), None)
    if foreign is not None:
        raise CircuitError(
            f"element {foreign.name} is not part of the crossbar's structure (an added "
            "element is folded only if it is linear: a resistor, capacitor, DC source, "
            "or E or G controlled source)"
        )
    rails = layout.nodes["rails"]
    units = {u: i for i, u in enumerate(layout.units)}
    touched = network.boundary - {GROUND, *rails}
    at = sorted(n for n in touched if n in units)
    elsewhere = sorted(touched - set(at))
    if len(at) != 1 or elsewhere:
        if len(at) > 1:
            joined = f"unit nodes {' and '.join(at)}"
        elif at:
            joined = f"unit node {at[0]} to {elsewhere[0]}"
        else:
            joined = f"{' and '.join(elsewhere) or 'ground and the rails'} but no unit node"
        others = ", ".join(e.name for e in members[1:])
        raise CircuitError(
            f"element {first} is not part of the crossbar's structure "
            f"({f'with {others} ' if others else ''}it joins {joined}; an added network is "
            "folded only where it meets one unit node, ground and the bias rails)"
        )
    node = at[0]
    if len(members) == 1 and members[0].kind == "c" and GROUND in members[0].nodes:
        return Shunt((first,), "capacitor", units[node])
    capacitors = [e.name for e in members if e.kind == "c"]
    if capacitors:
        raise CircuitError(
            f"element {capacitors[0]} is not folded: a capacitor in an added network other "
            "than one from a unit node to ground (the engine's transient has one "
            "capacitance per unit node)"
        )
    pulls = any(e.kind in "vi" or set(e.nodes) & set(rails) for e in members)
    if pulls and node in layout.springs:
        raise CircuitError(
            f"element {first}: a trim at {node}, which has a spring to a target source, is "
            "not folded (its target is the host's)"
        )
    return Shunt(tuple(e.name for e in members), "trim" if pulls else "bleed", units[node])


def _expected_nodes(circuit: Circuit, meta: NetworkMeta, layout: Layout) -> dict:
    """Element name -> the nodes it must connect, every internal node taken from the
    element that defines it (an ammeter its column, a driver its row line, ...)."""
    elements = circuit.elements
    named = [*layout.rails, *layout.sources, *layout.drivers, *layout.inverters]
    for names in layout.parts.values():
        named += [n for n in names if n is not None]
    for key, names in layout.devices.items():
        if key.startswith("w"):  # the bias pairs are unit parts already
            named += names
    for row_wires, column_wires in layout.wires.values():
        named += row_wires + column_wires
    missing = [n for n in named if n not in elements]
    if missing:
        raise CircuitError(f"the crossbar lacks {len(missing)} elements, e.g. {missing[0]}")
    if len(set(named)) != len(named):
        raise CircuitError("the structure names one element as two parts")
    roles = [("source", layout.sources), ("driver", layout.drivers)]
    roles += [("inverter", layout.inverters), *layout.parts.items()]
    for part, names in roles:
        for name in names:
            if name is not None and name[0] not in KINDS[part]:
                letters = " or ".join(KINDS[part].upper())
                raise CircuitError(f"element {name} cannot be a unit's {part} (a {letters})")

    def head(name: str | None) -> str | None:  # the node an element defines
        return None if name is None else elements[name].nodes[0]

    nodes = {
        "column": [head(n) for n in layout.parts["ammeter"]],
        "spring_target": [head(n) for n in layout.parts["spring_source"]],
        "nudge_target": [head(n) for n in layout.parts["nudge_source"]],
        "row_p": [head(n) for n in layout.drivers],
        "row_n": [head(n) for n in layout.inverters],
    }
    rail_p, rail_n = (head(n) for n in layout.rails)
    layout.nodes = {**nodes, "rails": [rail_p, rail_n]}
    internal = [rail_p, rail_n, *layout.units, *layout.inputs]
    internal += [n for values in nodes.values() for n in values if n is not None]
    if GROUND in internal or len(set(internal)) != len(internal):
        raise CircuitError(
            "the crossbar's unit, column, row-line, target and rail nodes must all differ "
            "and none be ground"
        )

    expected: dict[str, tuple[str, ...]] = {
        layout.rails[0]: (rail_p, GROUND),
        layout.rails[1]: (rail_n, GROUND),
    }
    for u, source in zip(layout.inputs, layout.sources, strict=True):
        expected[source] = (u, GROUND)
    parts = layout.parts
    for n, u in enumerate(layout.units):
        column = nodes["column"][n]
        expected[parts["capacitor"][n]] = (u, GROUND)
        expected[parts["leak"][n]] = (u, GROUND)
        expected[parts["ammeter"][n]] = (column, GROUND)
        expected[parts["injection"][n]] = (GROUND, u)
        expected[parts["bias_p"][n]] = (rail_p, column)
        expected[parts["bias_n"][n]] = (rail_n, column)
        if parts["spring"][n]:
            target = nodes["spring_target"][n]
            expected[parts["spring_source"][n]] = (target, GROUND)
            expected[parts["spring"][n]] = (u, target)
        if parts["nudge"][n]:
            target = nodes["nudge_target"][n]
            expected[parts["nudge_source"][n]] = (target, GROUND)
            expected[parts["nudge"][n]] = (GROUND, u, target, u)
    for r, u in enumerate(layout.rows):
        row_p, row_n = nodes["row_p"][r], nodes["row_n"][r]
        driver = layout.drivers[r]
        expected[driver] = (row_p, GROUND, u, GROUND) if driver[0] == "e" else (row_p, GROUND)
        expected[layout.inverters[r]] = (row_n, GROUND, row_p, GROUND)
    row_of = {u: r for r, u in enumerate(layout.rows)}
    column_of = dict(zip(layout.units, nodes["column"], strict=True))
    taken = {GROUND, *internal}
    for key, rows, cols in layout.arrays:
        a, b = (rows, cols) if key.endswith("forward") else (cols, rows)
        unit_a, unit_b = layout.structure.units[a]["node"], layout.structure.units[b]["node"]
        ends = {}  # (row unit r, sign, column c) -> (line node, column node)
        for i in range(meta.layer(a).size):
            for j in range(meta.layer(b).size):
                r, c = (i, j) if key.endswith("forward") else (j, i)
                row_unit = (unit_a if key.endswith("forward") else unit_b).format(i=r)
                col_unit = (unit_b if key.endswith("forward") else unit_a).format(i=c)
                for sign in ("row_p", "row_n"):
                    ends[r, sign, c] = (nodes[sign][row_of[row_unit]], column_of[col_unit])
        names = layout.devices[key]
        if key not in layout.wires:
            for name, pair in zip(names, ends.values(), strict=True):
                expected[name] = pair
            continue
        expected.update(_wired_nodes(circuit, layout, key, names, ends, taken))
    return expected


def _wired_nodes(circuit: Circuit, layout: Layout, key: str, devices, ends, taken) -> dict:
    """Expected nodes of a wired array's devices and segments: each device's own two
    nodes (new, distinct), row segments from the previous node of the row line (its
    driven node first), column segments to the next position of the column (its column
    node last); ``ends`` maps (row unit, sign, column) to (line node, column node), in
    device order. ``taken`` (updated) holds every node already used."""
    row_wires, column_wires = layout.wires[key]
    at = {}
    for name, place in zip(devices, ends, strict=True):
        pair = tuple(circuit.elements[name].nodes)
        if len(pair) != 2 or pair[0] == pair[1] or taken & set(pair):
            raise CircuitError(
                f"device {name} of wired array {key} must join two wire nodes of its own"
            )
        taken.update(pair)
        at[place] = pair
    rows = sorted({r for r, _, _ in ends})
    lines = [(r, sign) for r in rows for sign in ("row_p", "row_n")]  # along each column
    following = dict(itertools.pairwise(lines))
    expected = {}
    for name, row_wire, column_wire, (r, sign, c) in zip(
        devices, row_wires, column_wires, ends, strict=True
    ):
        here, below = at[r, sign, c]
        expected[name] = (here, below)
        line, column = ends[r, sign, c]
        feed = line if c == 0 else at[r, sign, c - 1][0]
        after = following.get((r, sign))
        onward = column if after is None else at[(*after, c)][1]
        expected[row_wire] = (feed, here)
        expected[column_wire] = (below, onward)
    return expected


def _check_behavioural(circuit: Circuit, meta: NetworkMeta, layout: Layout) -> None:
    """Injections and drivers are the unit laws' templates (:mod:`neurosim.network
    .templates`: B sources with their parameters, a CCCS controlled by the unit's own
    ammeter, a linear driver reading the unit node)."""
    vs = meta.scaling.volts_per_unit
    layer_of = _layer_of(meta, layout)
    parts = layout.parts
    for n, u in enumerate(layout.units):
        element = circuit.elements[parts["injection"][n]]
        ammeter = parts["ammeter"][n]
        activation = get_activation(meta.layer(layer_of[u]).activation)
        linear = meta.law == HOPFIELD or activation.name == "linear"
        if linear != (element.kind == "f"):
            want = "a CCCS (F)" if linear else "a B source ρ'·i"
            raise CircuitError(f"element {element.name}: this unit's injection is {want}")
        if element.kind == "f" and element.control != ammeter:
            raise CircuitError(
                f"element {element.name} is controlled by {element.control}, not {ammeter}"
            )
        if element.kind == "b":
            core = injection_expression(activation, u, ammeter, vs)
            _require(element, "i", injection_gain(element.expr, activation, u, ammeter, vs), core)
    for r, u in enumerate(layout.rows):
        element = circuit.elements[layout.drivers[r]]
        activation = get_activation(meta.layer(layer_of[u]).activation)
        if (activation.name == "linear") != (element.kind == "e"):
            want = "a VCVS (E)" if activation.name == "linear" else "a B source vs·ρ(v/vs)"
            raise CircuitError(f"element {element.name}: this unit's row driver is {want}")
        if element.kind == "b":
            driver = driver_parameters(element.expr, activation, u, vs)
            _require(element, "v", driver, driver_expression(activation, u, vs))
            limited = math.isfinite(driver.low) or math.isfinite(driver.high)
            if (limited or driver.offset != 0.0) and not driver.gain > 0.0:
                raise CircuitError(
                    f"element {element.name}: a driver with an offset or limits needs a "
                    f"positive gain, not {driver.gain:g}"
                )


def _layer_of(meta: NetworkMeta, layout: Layout) -> dict[str, str]:
    """Unit node -> its layer's name."""
    out = {}
    for layer in meta.layers:
        for u in layout.structure.names(layer.name, "node", layer.size):
            out[u] = layer.name
    return out


def _require(element: Element, output: str, found, core) -> None:
    if element.output != output or found is None:
        raise CircuitError(
            f"element {element.name}: its expression is not the unit's template "
            f"({to_text(core)}, with its parameters: neurosim/circuit/templates.py); the "
            "fast engine cannot simulate it"
        )
