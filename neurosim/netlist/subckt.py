"""``.subckt`` definitions and ngspice's hierarchical names for flattened instances.

Inside instance ``x1`` (nested: ``x1.x2``) an element ``r1`` becomes ``r.x1.r1``
(``r.x1.x2.r1``), an internal node ``n1`` becomes ``x1.n1`` (``x1.x2.n1``), pins
become the caller's nodes and ground ``0`` (alias ``gnd``) stays global.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from neurosim.circuit.expr import Expr, rename
from neurosim.circuit.ir import GROUND
from neurosim.netlist.lex import Line, split_assignments, tokenize


@dataclass(frozen=True)
class Subckt:
    """A ``.subckt`` definition: pins, default parameters (value text), body lines, and
    the definitions nested in it (``local``: visible only inside it, shadowing global
    ones of the same name, as ngspice scopes them)."""

    name: str
    pins: tuple[str, ...]
    defaults: tuple[tuple[str, str], ...]
    body: tuple[Line, ...]
    line: Line
    local: Mapping[str, Subckt] = field(default_factory=dict)


def _header(line: Line) -> tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]:
    head, defaults = split_assignments(line.text.lower(), line)
    words = [w for w in tokenize(head, line) if w != "params:"]
    if len(words) < 2 or any(w[0] in '{}()="' for w in words):
        raise line.error("expected '.subckt NAME PIN... [params: NAME=VALUE ...]'")
    name, pins = words[1], tuple(words[2:])
    if len(set(pins)) != len(pins):
        raise line.error(f"subckt {name!r} lists a pin twice")
    return name, pins, tuple(defaults)


def split_subckts(lines: list[Line]) -> tuple[list[Line], dict[str, Subckt]]:
    """Separate ``.subckt`` ... ``.ends`` blocks from the top-level lines; a block's own
    nested blocks become its ``local`` definitions.

    ``*@neurosim`` metadata inside a block is global and stays with the top level.
    """
    top: list[Line] = []
    defs: dict[str, Subckt] = {}
    opened: Line | None = None
    depth = 0
    body: list[Line] = []
    for line in lines:
        word = line.word if line.kind == "card" else ""
        if word == ".subckt":
            if opened is None:
                opened, body = line, []
            else:
                body.append(line)
            depth += 1
        elif word == ".ends":
            if opened is None:
                raise line.error("'.ends' without '.subckt'")
            depth -= 1
            if depth:
                body.append(line)
                continue
            name, pins, defaults = _header(opened)
            if name in defs:
                raise opened.error(
                    f"subckt {name!r} defined twice (first at line {defs[name].line.number})"
                )
            inner, local = split_subckts(body)
            defs[name] = Subckt(name, pins, defaults, tuple(inner), opened, local)
            opened = None
        elif opened is not None and line.kind != "meta":
            body.append(line)
        else:
            top.append(line)
    if opened is not None:
        raise opened.error("unclosed .subckt (no .ends)")
    return top, defs


@dataclass(frozen=True)
class Instance:
    """Where cards are being expanded: the instance path and the pin -> node map."""

    path: tuple[str, ...] = ()
    pins: Mapping[str, str] = field(default_factory=dict)
    shared: frozenset[str] = frozenset()  # ``.global`` nodes: one node everywhere

    def node(self, name: str) -> str:
        """Global name of local node ``name``."""
        if name in (GROUND, "gnd"):
            return GROUND
        if not self.path:
            return name
        pin = self.pins.get(name)
        if pin is not None:
            return pin
        return name if name in self.shared else f"{'.'.join(self.path)}.{name}"

    def element(self, name: str) -> str:
        """Global name of local element ``name``."""
        return f"{name[0]}.{'.'.join(self.path)}.{name}" if self.path else name

    def expr(self, tree: Expr) -> Expr:
        """``tree`` with its ``v(node)`` and ``i(source)`` names made global."""
        return rename(tree, self.node, self.element)
