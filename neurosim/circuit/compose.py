"""Composition: two trained crossbar networks wired onto the same visible nodes.

Joining network B's visible nodes to network A's makes one circuit in which the
currents of both add: with the visible nodes held at x, each network's hidden units
settle on their own (they meet only through x), and the current into the visible nodes
is A's plus B's — the composite's landscape is F_A(x) + F_B(x), the sum of the two
learned energies (EqM's composition, DESIGN §5).

The result is one crossbar network, valid ngspice, that neurosim lowers like any other:

- A's elements as they are;
- B's visible-unit parts joined to A's the way wiring two nodes together joins them:
  capacitors add, and the leak, spring and bias-pair resistors that now sit between the
  same two nodes are in parallel, so they become one resistor of the summed conductance
  (the nudge transconductances add likewise). B's visible amplifiers (row drivers and
  inverters, column ammeters and injections), its spring and nudge target sources and
  its bias rails must equal A's and are shared: B's arrays hang on A's row and column
  lines;
- every other element and node of B renamed with ``prefix`` after the element letter
  (``rw0f_0_0p`` → ``rn2_w0f_0_0p``, node ``h1_3`` → ``n2_h1_3``), its layers renamed
  alike, its couplings appended after A's, its trainable patterns renamed with them.
"""

from __future__ import annotations

from dataclasses import replace

from neurosim.circuit.expr import rename
from neurosim.circuit.ir import GROUND, Circuit
from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.structure import ArrayPart, Structure
from neurosim.errors import CircuitError

PREFIX = "n2_"
ADDED = {"capacitor", "nudge"}  # values add (C in parallel, VCCS gains)
PARALLEL = {"leak", "spring", "bias_p", "bias_n"}  # conductances add
SHARED = {"ammeter", "injection", "driver", "inverter", "spring_source", "nudge_source"}


def compose(a: Circuit, b: Circuit, prefix: str = PREFIX) -> Circuit:
    """Circuit ``b`` wired onto circuit ``a``'s visible nodes (module docstring).
    :class:`CircuitError` naming the first reason they cannot be joined."""
    visible_a, visible_b = _visible(a, "the first"), _visible(b, "the second")
    meta_a, meta_b = a.network, b.network
    if (meta_a.law, meta_a.scaling) != (meta_b.law, meta_b.scaling):
        raise CircuitError(
            "the two networks differ in unit law or scaling; they cannot share nodes"
        )
    if meta_a.layer(visible_a).size != meta_b.layer(visible_b).size:
        raise CircuitError(
            f"visible layers of {meta_a.layer(visible_a).size} and "
            f"{meta_b.layer(visible_b).size} units cannot share nodes"
        )
    if b.models:
        raise CircuitError("the second circuit has .model cards; composition takes crossbars")
    layer_name = {visible_b: visible_a}
    for layer in meta_b.layers:
        layer_name.setdefault(layer.name, prefix + layer.name)
    taken = {layer.name for layer in meta_a.layers}
    clash = sorted(taken & {layer_name[n.name] for n in meta_b.layers if n.name != visible_b})
    if clash:
        raise CircuitError(f"layer {clash[0]} is in both networks; choose another prefix")

    nodes: dict[str, str] = {GROUND: GROUND}
    elements = dict(a.elements)
    dropped: set[str] = set()

    def join(name_a: str, name_b: str, how: str) -> None:
        """Join B's element ``name_b`` to A's ``name_a``; map B's nodes to A's."""
        ea, eb = a.elements[name_a], b.elements[name_b]
        if ea.kind != eb.kind or len(ea.nodes) != len(eb.nodes):
            raise CircuitError(f"{name_b} of the second network is not a {name_a}")
        for node_b, node_a in zip(eb.nodes, ea.nodes, strict=True):
            if nodes.setdefault(node_b, node_a) != node_a:
                raise CircuitError(f"{name_b}: node {node_b} would join two nodes of the first")
        dropped.add(name_b)
        if how == "added":
            elements[name_a] = replace(elements[name_a], value=ea.value + eb.value)
        elif how == "parallel":
            elements[name_a] = replace(
                elements[name_a], value=1.0 / (1.0 / ea.value + 1.0 / eb.value)
            )
        elif ea.expr is not None or eb.expr is not None or ea.value != eb.value:
            raise CircuitError(
                f"{name_b} of the second network differs from {name_a} of the first; "
                "shared visible amplifiers and sources must be equal"
            )

    for rail_a, rail_b in zip(a.structure.rails, b.structure.rails, strict=True):
        join(rail_a, rail_b, "shared")
    size = meta_a.layer(visible_a).size
    parts_a, parts_b = a.structure.units[visible_a], b.structure.units[visible_b]
    if set(parts_a) != set(parts_b):
        raise CircuitError("the two visible layers are built of different parts")
    for i in range(size):
        nodes[parts_b["node"].format(i=i)] = parts_a["node"].format(i=i)
    for part in sorted(set(parts_a) - {"node"}):
        how = "added" if part in ADDED else "parallel" if part in PARALLEL else "shared"
        if part not in ADDED | PARALLEL | SHARED:
            raise CircuitError(f"the visible part {part} cannot be joined")
        for i in range(size):
            join(parts_a[part].format(i=i), parts_b[part].format(i=i), how)

    def node(name: str) -> str:
        return nodes.get(name) or prefix + name

    def element(name: str) -> str:
        return name[0] + prefix + name[1:]

    for name, eb in b.elements.items():
        if name in dropped:
            continue
        renamed = replace(
            eb,
            name=element(name),
            nodes=tuple(node(n) for n in eb.nodes),
            control=None if eb.control is None else element(eb.control),
            expr=None if eb.expr is None else rename(eb.expr, node, element),
        )
        if renamed.name in elements:
            raise CircuitError(f"element {renamed.name} is in both circuits; choose another prefix")
        elements[renamed.name] = renamed
    return Circuit(
        title=f"{a.title} + {b.title}",
        elements=elements,
        models=dict(a.models),
        roles={**a.roles, **{node(n): r for n, r in b.roles.items() if node(n) not in a.roles}},
        trainable=(*a.trainable, *(element(p) for p in b.trainable)),
        network=_meta(meta_a, meta_b, layer_name),
        structure=_structure(a.structure, b.structure, meta_a, layer_name, element, prefix),
        controls=a.controls,
        programmed=(*a.programmed, *b.programmed),
    )


def _visible(circuit: Circuit, which: str) -> str:
    meta = circuit.network
    if meta is None or meta.family != "crossbar" or circuit.structure is None:
        raise CircuitError(f"{which} circuit is not a neurosim crossbar network netlist")
    visible = [layer.name for layer in meta.layers if layer.kind == "visible"]
    if len(visible) != 1:
        raise CircuitError(
            f"{which} network has {len(visible)} visible layers; composition needs 1"
        )
    return visible[0]


def _meta(meta_a: NetworkMeta, meta_b: NetworkMeta, layer_name: dict[str, str]) -> NetworkMeta:
    """A's layers and couplings, then B's (renamed; its visible layer is A's)."""
    layers = (
        *meta_a.layers,
        *(replace(l, name=layer_name[l.name]) for l in meta_b.layers if l.kind != "visible"),
    )
    couplings = (
        *meta_a.couplings,
        *((layer_name[x], layer_name[y]) for x, y in meta_b.couplings),
    )
    return replace(
        meta_a,
        layers=layers,
        couplings=couplings,
        spring_lambda=meta_a.spring_lambda + meta_b.spring_lambda,
        nudge=meta_a.nudge or meta_b.nudge,
    )


def _structure(
    sa: Structure, sb: Structure, meta_a: NetworkMeta, layer_name, element, prefix: str
) -> Structure:
    """A's name templates, then B's non-visible units and B's arrays, renamed."""
    units = dict(sa.units)
    for layer, parts in sb.units.items():
        if layer_name[layer] in units:
            continue  # the visible layer: A's parts
        units[layer_name[layer]] = {
            part: prefix + template if part == "node" else element(template)
            for part, template in parts.items()
        }
    shift = len(meta_a.couplings)
    arrays = (
        *sa.arrays,
        *(
            ArrayPart(
                coupling=part.coupling + shift,
                direction=part.direction,
                device=element(part.device),
                row_wire=None if part.row_wire is None else element(part.row_wire),
                column_wire=None if part.column_wire is None else element(part.column_wire),
            )
            for part in sb.arrays
        ),
    )
    return Structure(rails=sa.rails, units=units, arrays=arrays)
