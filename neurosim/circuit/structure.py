"""Which element of a crossbar circuit is which part, as its netlist records it.

A crossbar network (DESIGN.md §3.1) is built of the same parts over and over: per unit
a node with its capacitor, leak, column ammeter, injection amplifier, bias pair, spring
and nudge elements and row drivers; per coupling two device arrays. The compiler names
each part by a template; the writer records the templates on a ``*@neurosim structure``
line (JSON), and the lowering reads them back, so it finds every part by what the
netlist says it is rather than by re-deriving the compiler's names. A netlist written
before the line existed (schema ``neurosim-netlist/1``) has the compiler's templates,
:func:`default_structure`.

Templates are Python format strings: ``{i}`` is a unit's index in its layer; an array's
``{row}`` and ``{col}`` index the units of its row and column layers and ``{sign}`` is
``p`` or ``n`` (the device of a pair on the positive or the negated row line).

An array may have wire resistance (IR drop): then ``row_wire`` and ``column_wire`` name
a resistor per device, the row-line segment feeding it and the column-line segment
leaving it (geometry: :mod:`neurosim.lower.wires`), with the same fields.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from neurosim.circuit.meta import HOPFIELD, NetworkMeta

# the parts of a unit, each the name template of one element (or of a node: "node")
UNIT_PARTS = (
    "node",  # the unit node: voltage s·volts_per_unit
    "source",  # input layers: the voltage source clamping the node
    "capacitor",  # node to ground: τ·g_unit
    "leak",  # node to ground: 1/g_unit
    "ammeter",  # 0 V source holding the unit's column line at virtual ground
    "injection",  # amplifier feeding the column current into the node (F or B source)
    "bias_p",  # bias device from the positive rail onto the column
    "bias_n",  # bias device from the negative rail onto the column
    "spring",  # resistor from the node to the spring target source
    "spring_source",  # the spring target source
    "nudge",  # VCCS pulling the node toward the nudge target source
    "nudge_source",  # the nudge target source
    "driver",  # drives the positive row line at ρ(s)·volts_per_unit (E or B source)
    "inverter",  # drives the negative row line at −1 times the positive one (E source)
)
FIELDS = {"unit": {"i"}, "array": {"row", "col", "sign"}}
DIRECTIONS = ("forward", "backward")


@dataclass(frozen=True)
class ArrayPart:
    """The device array of coupling ``coupling`` in ``direction``: ``"forward"`` carries
    the rows of the coupling's first layer onto the columns of its second, ``"backward"``
    the reverse. ``device``: the name template of its devices; ``row_wire`` and
    ``column_wire``: of its wire segments (None: ideal wires)."""

    coupling: int
    direction: str
    device: str
    row_wire: str | None = None
    column_wire: str | None = None

    @property
    def wired(self) -> bool:
        """True if the array's lines have resistive wire segments."""
        return self.row_wire is not None

    @property
    def key(self) -> str:
        """The array's name in a chip's device state: ``w<k>.forward`` / ``.backward``."""
        return f"w{self.coupling}.{self.direction}"


@dataclass(frozen=True)
class Structure:
    """Name templates of every part: ``rails`` (the positive and negative bias rail
    sources), ``units`` (layer -> part -> template), ``arrays``."""

    rails: tuple[str, str]
    units: dict[str, dict[str, str]]
    arrays: tuple[ArrayPart, ...]

    def names(self, layer: str, part: str, size: int) -> list[str] | None:
        """The element (or node) names of ``part`` for the ``size`` units of ``layer``,
        None when the layer has no such part."""
        template = self.units[layer].get(part)
        return None if template is None else [template.format(i=i) for i in range(size)]

    def to_dict(self) -> dict:
        """JSON-ready form (the netlist's ``structure`` line)."""
        return {
            "rails": list(self.rails),
            "units": self.units,
            "arrays": [_array_dict(a) for a in self.arrays],
        }

    @classmethod
    def from_dict(cls, data: dict, meta: NetworkMeta) -> Structure:
        """Inverse of :meth:`to_dict`, checked against ``meta``; ``ValueError`` naming
        the first problem."""
        rails = tuple(str(r).lower() for r in data["rails"])
        if len(rails) != 2:
            raise ValueError("rails: expected the positive and the negative rail source")
        units = {}
        for layer, parts in data["units"].items():
            meta.layer(layer)  # KeyError for an unknown layer
            unknown = set(parts) - set(UNIT_PARTS)
            if unknown:
                raise ValueError(f"layer {layer}: unknown parts {sorted(unknown)}")
            units[layer] = {part: _template(t, "unit", layer) for part, t in parts.items()}
        missing = [layer.name for layer in meta.layers if layer.name not in units]
        if missing:
            raise ValueError(f"no unit templates for layer {missing[0]}")
        arrays = []
        for entry in data["arrays"]:
            coupling, direction = int(entry["coupling"]), str(entry["direction"])
            if not 0 <= coupling < len(meta.couplings) or direction not in DIRECTIONS:
                raise ValueError(f"array {coupling} {direction}: no such coupling direction")
            wires = [entry.get(key) for key in ("row_wire", "column_wire")]
            if (wires[0] is None) != (wires[1] is None):
                raise ValueError(f"array {coupling} {direction}: row_wire without column_wire")
            wires = [None if w is None else _template(w, "array", "") for w in wires]
            device = _template(entry["device"], "array", "")
            arrays.append(ArrayPart(coupling, direction, device, *wires))
        return cls(rails, units, tuple(arrays))


def _array_dict(array: ArrayPart) -> dict:
    out = {"coupling": array.coupling, "direction": array.direction, "device": array.device}
    if array.wired:
        out.update(row_wire=array.row_wire, column_wire=array.column_wire)
    return out


def _template(text, kind: str, where: str) -> str:
    """``text`` as a lower-case template using only the fields of ``kind``."""
    text = str(text).lower()
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(f"bad template {text!r}: {exc}") from None
    if not fields <= FIELDS[kind] or not text:
        raise ValueError(
            f"template {text!r}{' of ' + where if where else ''} may use only "
            f"{', '.join('{' + f + '}' for f in sorted(FIELDS[kind]))}"
        )
    return text


def driven_layers(meta: NetworkMeta) -> set[str]:
    """Layers whose row lines feed some array (every coupling's first layer, and its
    second unless the first is a clamped input)."""
    driven = set()
    for a, b in meta.couplings:
        driven.add(a)
        if meta.layer(a).kind != "input":
            driven.add(b)
    return driven


def default_structure(meta: NetworkMeta, wired: bool = False) -> Structure:
    """The compiler's templates (:mod:`neurosim.network.compile`) for ``meta``; with
    ``wired``, every array has wire segments (``rh…`` along rows, ``rv…`` along
    columns: not matched by the trainable-device patterns ``rw*``, ``rb*``)."""
    driven = driven_layers(meta)
    units = {}
    for layer in meta.layers:
        u = f"{layer.name}_{{i}}"
        parts = {"node": u}
        if layer.kind == "input":
            parts["source"] = f"vin_{u}"
        else:
            injection = "fi" if meta.law == HOPFIELD or layer.activation == "linear" else "bi"
            parts.update(
                capacitor=f"cu_{u}",
                leak=f"rl_{u}",
                ammeter=f"vc_{u}",
                injection=f"{injection}_{u}",
                bias_p=f"rb_{u}_p",
                bias_n=f"rb_{u}_n",
            )
            if layer.kind == "visible" and meta.spring_lambda > 0:
                parts.update(spring=f"rs_{u}", spring_source=f"vt_{u}")
            if layer.kind in ("visible", "output") and meta.nudge:
                parts.update(nudge=f"gn_{u}", nudge_source=f"vnt_{u}")
        if layer.name in driven:
            driver = "ep" if layer.activation == "linear" else "bp"
            parts.update(driver=f"{driver}_{u}", inverter=f"en_{u}")
        units[layer.name] = parts
    arrays = []
    for k, (a, _) in enumerate(meta.couplings):
        directions = [("forward", "f", "{row}_{col}")]
        if meta.layer(a).kind != "input":
            directions.append(("backward", "b", "{col}_{row}"))
        for direction, d, index in directions:
            wires = (f"rh{k}{d}_{index}{{sign}}", f"rv{k}{d}_{index}{{sign}}") if wired else ()
            arrays.append(ArrayPart(k, direction, f"rw{k}{d}_{index}{{sign}}", *wires))
    return Structure(("vbias_p", "vbias_n"), units, tuple(arrays))
