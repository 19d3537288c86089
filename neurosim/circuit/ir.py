"""Circuit IR: the single source of truth between specs, netlists and the engine.

Names of elements, nodes and models are lower case (SPICE is case-insensitive); the
ground node is ``"0"``. Values are SI: ohms, farads, henries, volts, amperes, and
plain gains for controlled sources.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from enum import StrEnum

from neurosim.circuit.expr import Expr, references
from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.structure import Structure
from neurosim.circuit.units import KELVIN, TNOM_CELSIUS, parse_number
from neurosim.errors import CircuitError

_TEMPERATURE_OPTION = re.compile(r"\b(temp|tnom)\s*=\s*([^\s=]+)")

GROUND = "0"

# Element letter -> number of node terminals (E and G: out+, out-, ctrl+, ctrl-).
TERMINALS: dict[str, int] = {
    "r": 2,
    "c": 2,
    "l": 2,
    "v": 2,
    "i": 2,
    "d": 2,
    "e": 4,
    "g": 4,
    "f": 2,
    "h": 2,
    "b": 2,
}
KIND_NAMES: dict[str, str] = {
    "r": "resistor",
    "c": "capacitor",
    "l": "inductor",
    "v": "voltage source",
    "i": "current source",
    "d": "diode",
    "e": "VCVS",
    "g": "VCCS",
    "f": "CCCS",
    "h": "CCVS",
    "b": "behavioural source",
}
# Diode model parameters neurosim understands (ngspice level 1), with defaults.
DIODE_PARAMS: dict[str, float] = {
    "is": 1e-14,
    "n": 1.0,
    "rs": 0.0,
    "bv": math.inf,
    "ibv": 1e-3,
    "cjo": 0.0,
    "vj": 1.0,
    "m": 0.5,
    "tt": 0.0,
    "eg": 1.11,
    "xti": 3.0,
    "fc": 0.5,
    "level": 1.0,
    # temperature: the model's own TNOM [°C] (NaN: the circuit's) and rs's coefficients
    "tnom": math.nan,
    "trs1": 0.0,
    "trs2": 0.0,
}
# ngspice's diode parameters without a DC part (noise, capacitances and their temperature
# laws): read and kept for ngspice, no part of an operating point
DIODE_NO_DC = frozenset(
    "kf af cjsw cp mjsw vjsw php cj0 cj pb mj fcs tm1 tm2 tpb tphp ttt1 ttt2 cta ctc ctp".split()
)
# ngspice's diode parameters that change the DC answer and neurosim does not model:
# refused by name. A parameter ngspice does not know (LTspice's iave, vpk ratings) is
# ignored, as ngspice ignores it.
DIODE_UNMODELLED = frozenset(
    "js jsw ns ikf ik ikr isr nr nbv ibvl nbvl tbv1 tbv2 tcv tlev tlevc gap1 gap2 lm lp wm "
    "wp xom xoi xm xp trs tref area pj".split()
)
# what each diode parameter may be (a model outside these is refused where it is read)
DIODE_RANGES: dict[str, tuple[str, object]] = {
    "is": ("> 0", lambda v: v > 0),
    "n": ("> 0", lambda v: v > 0),
    "rs": (">= 0", lambda v: v >= 0),
    "bv": ("> 0", lambda v: v > 0),
    "ibv": ("> 0", lambda v: v > 0),
    "cjo": (">= 0", lambda v: v >= 0),
    "vj": ("> 0", lambda v: v > 0),
    "m": ("in [0, 1)", lambda v: 0 <= v < 1),
    "tt": (">= 0", lambda v: v >= 0),
    "eg": ("> 0", lambda v: v > 0),
    "fc": ("in [0, 1)", lambda v: 0 <= v < 1),
    "level": ("1 (the level-1 model neurosim solves)", lambda v: v == 1),
    "tnom": ("above -273.15 °C", lambda v: v > -273.15),
}


class Role(StrEnum):
    """What a node means to the network (unlisted nodes are internal)."""

    VISIBLE = "visible"
    INPUT = "input"
    OUTPUT = "output"
    HIDDEN = "hidden"
    BIAS = "bias"
    GROUND = "ground"


@dataclass(frozen=True)
class Element:
    """One circuit element.

    ``value``: R [ohm], C [F], L [H], V [V] (DC), I [A] (DC), E/G/F/H gain, D area.
    ``control``: the voltage source whose current drives an F or H.
    ``model``: a D element's ``.model`` name.
    ``expr`` / ``output``: a B element's expression and whether it sets ``"v"`` or ``"i"``.
    ``ic``: initial condition of a C (volts) or L (amperes), for transients.
    ``extra``: further source specification kept verbatim (``ac 1``, ``pulse(...)``).
    """

    name: str
    nodes: tuple[str, ...]
    value: float = 0.0
    control: str | None = None
    model: str | None = None
    expr: Expr | None = None
    output: str | None = None
    ic: float | None = None
    extra: str = ""

    @property
    def kind(self) -> str:
        """Element letter, lower case (``"r"``, ``"b"``, ...)."""
        return self.name[0]


@dataclass(frozen=True)
class Model:
    """A ``.model`` card: ``name``, device ``kind`` (only ``"d"``) and its parameters."""

    name: str
    kind: str
    params: tuple[tuple[str, float], ...] = ()

    def get(self, key: str) -> float:
        """Parameter ``key`` with the ngspice default when absent."""
        return dict(self.params).get(key, DIODE_PARAMS[key])


@dataclass
class Circuit:
    """A netlist as data: elements, models, node roles, trainable elements, metadata.

    ``trainable`` holds glob patterns (``fnmatch``) over element names. ``structure``
    names the parts of a crossbar network (:mod:`neurosim.circuit.structure`).
    ``controls`` holds analysis and option cards kept verbatim (``.op``, ``.options``).
    ``programmed`` records each time the circuit's devices were programmed onto a device
    model (the model, its settings, seed and time; JSON-ready dicts, oldest first).
    """

    title: str = "neurosim circuit"
    elements: dict[str, Element] = field(default_factory=dict)
    models: dict[str, Model] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    trainable: tuple[str, ...] = ()
    network: NetworkMeta | None = None
    structure: Structure | None = None  # which element is which part (crossbar networks)
    controls: tuple[str, ...] = ()
    programmed: tuple[dict, ...] = ()  # how its devices were programmed (host/deploy.py)
    # element name -> "FILE:LINE" it was read from (parsed circuits; not part of equality)
    origins: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def temperature(self) -> tuple[float, float]:
        """(circuit temperature, nominal temperature) [°C] from its ``.temp`` and
        ``.options temp= tnom=`` cards (the last of each), 27 °C where none is given."""
        found = {"temp": TNOM_CELSIUS, "tnom": TNOM_CELSIUS}
        for card in self.controls:
            words = card.lower().split()
            if words and words[0] == ".temp":
                pairs = [("temp", words[1] if len(words) > 1 else "")]
            elif words and words[0] in (".options", ".option"):
                pairs = _TEMPERATURE_OPTION.findall(card.lower())
            else:
                continue
            for key, text in pairs:
                try:
                    found[key] = parse_number(text)
                except ValueError:
                    raise CircuitError(f"{card!r}: {key} must be a number (°C)") from None
                if not math.isfinite(found[key]) or found[key] <= -KELVIN:
                    raise CircuitError(f"{card!r}: {key} must be above -273.15 °C")
        return found["temp"], found["tnom"]

    def where(self, name: str) -> str:
        """``"FILE:LINE: "`` of element ``name`` if the circuit was read from a file."""
        origin = self.origins.get(name)
        return f"{origin}: " if origin else ""

    def add(self, element: Element) -> Element:
        """Add ``element``; a second element of the same name is an error."""
        if element.name in self.elements:
            raise CircuitError(f"duplicate element name {element.name!r}")
        self.elements[element.name] = element
        return element

    def add_model(self, model: Model) -> Model:
        """Add a ``.model``; a second model of the same name is an error."""
        if model.name in self.models:
            raise CircuitError(f"duplicate model name {model.name!r}")
        self.models[model.name] = model
        return model

    def set_value(self, name: str, value: float) -> None:
        """Change one element's value (programming a device, setting a source)."""
        element = self.elements[name]
        self.elements[name] = replace(element, value=float(value))

    def nodes(self) -> list[str]:
        """All nodes touched by element terminals, ground first, then sorted."""
        found = {n for e in self.elements.values() for n in e.nodes}
        found.discard(GROUND)
        return [GROUND, *sorted(found)]

    def is_trainable(self, name: str) -> bool:
        """True when element ``name`` matches one of the ``trainable`` patterns."""
        return any(fnmatch.fnmatchcase(name, p) for p in self.trainable)

    def count(self) -> Counter:
        """Number of elements of each kind letter."""
        return Counter(e.kind for e in self.elements.values())

    def validate(self) -> None:
        """Raise :class:`CircuitError` naming the first structural problem found."""
        for element in self.elements.values():
            _check_element(self, element)
        terminal_use: Counter = Counter()
        for element in self.elements.values():
            terminal_use.update(element.nodes[:2])
        if GROUND not in terminal_use:
            raise CircuitError("the circuit has no ground node (0)")
        reads: Counter = Counter()
        for element in self.elements.values():
            for node in element.nodes[2:]:
                if node not in terminal_use:
                    raise CircuitError(f"{element.name}: control node {node!r} is not connected")
                reads[node] += 1
            if element.expr is not None:
                nodes, sources = references(element.expr)
                for node in nodes:
                    if node != GROUND and node not in terminal_use:
                        raise CircuitError(f"{element.name}: v({node}) reads an unknown node")
                    reads[node] += 1
                for source in sources:
                    _check_current_probe(self, element.name, source)
        # a node whose only connection fixes its voltage (V, E, H, B v=) is well defined
        fixed = {n for e in self.elements.values() if _defines_voltage(e) for n in e.nodes[:2]}
        dangling = sorted(
            n
            for n, k in terminal_use.items()
            if k + reads[n] < 2 and n != GROUND and n not in fixed
        )
        if dangling:
            more = f" (and {len(dangling) - 1} more)" if len(dangling) > 1 else ""
            raise CircuitError(f"node {dangling[0]!r} is dangling: one connection only{more}")
        for node in self.roles:
            if node != GROUND and node not in terminal_use:
                raise CircuitError(f"role given to unknown node {node!r}")


def require_dc_solvable(circuit: Circuit) -> None:
    """Raise :class:`CircuitError` naming what makes ``circuit`` singular at DC by its
    topology alone: a loop of elements that each fix a voltage (V, E, H, B ``v=``, and L,
    a short at DC), or a node that no conducting element links to ground (only current
    sources and capacitors reach it). Controlled and behavioural currents (G, B ``i=``)
    count as conducting: they may be."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.get(node, node) != node:
            parent[node] = node = parent.get(parent[node], parent[node])
        return node

    for e in circuit.elements.values():
        if _defines_voltage(e) or e.kind == "l":
            a, b = root(e.nodes[0]), root(e.nodes[1])
            if a == b:
                raise CircuitError(
                    f"{circuit.where(e.name)}{e.name}: closes a loop of voltage sources and "
                    "inductors (V, E, H, B v=; an L is a short at DC): no DC solution"
                )
            parent[a] = b
    for e in circuit.elements.values():
        if e.kind not in "ifc":
            parent[root(e.nodes[0])] = root(e.nodes[1])
    ground = root(GROUND)
    for e in circuit.elements.values():
        for node in e.nodes[:2]:
            if root(node) != ground:
                raise CircuitError(
                    f"{circuit.where(e.name)}node {node!r} has no DC path to ground (only "
                    "current sources and capacitors reach it)"
                )


def _defines_voltage(element: Element) -> bool:
    """True for elements that fix the voltage across their terminals and carry a
    branch current ngspice can read: V, E, H, and B with ``v=``."""
    return element.kind in "veh" or (element.kind == "b" and element.output == "v")


def _check_current_probe(circuit: Circuit, owner: str, source: str) -> None:
    probe = circuit.elements.get(source)
    if probe is None or not _defines_voltage(probe):
        raise CircuitError(
            f"{owner}: i({source}) must name a voltage source, or an E, H or B (v=) source"
        )


def _check_element(circuit: Circuit, element: Element) -> None:
    name, kind = element.name, element.kind
    if kind not in TERMINALS:
        raise CircuitError(f"{name}: unknown element type {kind!r}")
    if len(element.nodes) != TERMINALS[kind]:
        raise CircuitError(f"{name}: a {KIND_NAMES[kind]} has {TERMINALS[kind]} nodes")
    if not math.isfinite(element.value):
        raise CircuitError(f"{name}: value {element.value} is not finite")
    if kind in "rcl" and element.value <= 0:
        raise CircuitError(f"{name}: {KIND_NAMES[kind]} value must be > 0, got {element.value}")
    if kind == "d":
        model = circuit.models.get(element.model or "")
        if model is None:
            raise CircuitError(f"{name}: unknown diode model {element.model!r}")
        if model.kind != "d":
            raise CircuitError(f"{name}: model {model.name!r} is a {model.kind!r}, not a diode")
        if element.value <= 0:
            raise CircuitError(f"{name}: diode area must be > 0")
    if kind in "fh":
        _check_current_probe(circuit, name, element.control or "")
    if kind == "b" and (element.expr is None or element.output not in ("v", "i")):
        raise CircuitError(f"{name}: a behavioural source needs v= or i=")
