"""ngspice netlist -> validated :class:`~neurosim.circuit.ir.Circuit` (inverse of the writer).

Reads what :mod:`neurosim.netlist.write` writes and what engineers write by hand: R C L
V I D E G F H B elements, ``X`` instances of ``.subckt`` definitions (flattened with
ngspice's names), ``.param``, ``.func``, diode ``.model`` cards, ``.include``, analysis
and option cards (kept verbatim in ``Circuit.controls``) and ``*@neurosim`` metadata.
Anything else is a :class:`~neurosim.errors.NetlistError` naming file, line and construct;
no other exception leaves this module.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from neurosim.circuit.expr import (
    Expr,
    ExprError,
    evaluate,
    parse_expr,
    parse_func_body,
    references,
    rename,
)
from neurosim.circuit.ir import (
    DIODE_NO_DC,
    DIODE_PARAMS,
    DIODE_RANGES,
    DIODE_UNMODELLED,
    KIND_NAMES,
    TERMINALS,
    Circuit,
    Element,
    Model,
    Role,
)
from neurosim.circuit.meta import NetworkMeta
from neurosim.circuit.resistor import RESISTOR_PARAMS, model_resistance
from neurosim.circuit.structure import Structure
from neurosim.circuit.units import (
    TNOM_CELSIUS,
    format_number,
    is_number,
    parse_number,
    temperature_factor,
)
from neurosim.errors import CircuitError, NetlistError
from neurosim.netlist.lex import (
    Line,
    read_lines,
    read_text,
    split_assignments,
    split_options,
    tokenize,
)
from neurosim.netlist.subckt import Instance, Subckt, split_subckts
from neurosim.netlist.write import META_PREFIX, READABLE_SCHEMAS

# Analysis, output and option cards kept verbatim in Circuit.controls.
KEPT_CARDS = (
    ".options", ".option", ".op", ".tran", ".dc", ".ac", ".ic", ".nodeset", ".temp",
    ".save", ".print", ".plot", ".probe", ".meas", ".measure", ".pz", ".tf", ".sens",
    ".noise", ".disto", ".four", ".csparam", ".width", ".sp", ".pss",
)  # fmt: skip
_TEMPERATURE = (".temp", ".options", ".option")
_READ = ".param .func .model .subckt/.ends .include .end " + " ".join(KEPT_CARDS) + " .control"
_OTHER_DEVICES = {
    "m": "MOSFET", "q": "BJT", "j": "JFET", "z": "MESFET", "k": "coupled inductor",
    "t": "transmission line", "o": "lossy line", "u": "RC line", "y": "lossy line",
    "s": "switch", "w": "switch", "a": "XSPICE model", "n": "OSDI device", "p": "coupled line",
}  # fmt: skip
_BEHAVIOURAL_EG = re.compile(r"(\S+)\s+(\S+)\s+(\S+)\s+(value|vol|cur)\s*=\s*(.+)", re.DOTALL)
_LINEAR_ONLY = (
    "only linear controlled sources '{name} n+ n- nc+ nc- GAIN' and '{name} n+ n- value={{EXPR}}' "
    "are supported"
)
# Transient functions: allowed argument counts (pwl: pairs, at least one).
MAX_ELEMENTS = 5_000_000  # flattened elements read at most (the digits net: ~25,000)
_WAVEFORMS = {
    "pulse": (2, 8),
    "sin": (2, 6),
    "exp": (2, 6),
    "pwl": (2, None),
    "trnoise": (2, 7),  # NA NT [NALPHA NAMP RTSAM RTSCAPT RTSEMT]: no DC part
    "trrandom": (2, 5),  # TYPE TS [TD [PARAM1 [PARAM2]]]: no DC part
}
# Small-signal specifications of a source: no DC part (kept for ngspice).
_SMALL_SIGNAL = ("ac", "distof1", "distof2")
_BSOURCE = re.compile(r"([vi])\s*=\s*(.+)", re.DOTALL)
_FUNC = re.compile(r"\.func\s+([a-z_][a-z0-9_]*)\s*\(([^)]*)\)\s*=?\s*(.+)", re.DOTALL)
_MODEL = re.compile(r"\.model\s+([^\s(]+)\s+([a-z][a-z0-9_]*)\s*(.*)", re.DOTALL)


def parse_netlist(path: str | os.PathLike) -> Circuit:
    """Read and validate the netlist file ``path`` (``.include`` relative to its folder)."""
    try:
        path = Path(path)
    except TypeError as exc:
        raise NetlistError(f"not a file path: {exc}") from None
    text = read_text(path)
    return _parse(text, str(path), path.parent, (os.path.realpath(path),))


def parse_netlist_text(
    text: str, *, source: str = "<string>", base_dir: Path | None = None
) -> Circuit:
    """Parse and validate netlist ``text``; errors name ``source`` and the line.

    ``.include`` paths are relative to ``base_dir`` (default: the current directory).
    """
    return _parse(text, source, Path(base_dir or "."), ())


def _parse(text: str, source: str, base_dir: Path, stack: tuple[str, ...]) -> Circuit:
    try:
        title, lines = read_lines(text, source, base_dir, stack=stack)
        top, subckts = split_subckts(lines)
        return _Builder(title, subckts, source).build(top)
    except RecursionError:
        raise NetlistError("netlist nested too deeply", file=source) from None


@dataclass
class _Scope:
    """Parameters (lower-case name -> value) and ``.func`` definitions in force."""

    params: dict[str, float] = field(default_factory=dict)
    funcs: dict[str, tuple] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)  # a subckt's own .model names
    subckts: Mapping[str, Subckt] = field(default_factory=dict)  # the definitions in sight
    resistors: dict[str, dict[str, float]] = field(default_factory=dict)  # R models in sight

    def child(self) -> _Scope:
        return _Scope(
            dict(self.params), dict(self.funcs), dict(self.models), self.subckts,
            dict(self.resistors),
        )  # fmt: skip


# "rNAME NODE NODE NUMBER" with a plain decimal number (no suffix, no expression)
_PLAIN_RESISTOR = re.compile(
    r"(r[^\s{}()=\"',]*)\s+([^\s{}()=\"',]+)\s+([^\s{}()=\"',]+)\s+"
    r"([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*"
)


_TC = re.compile(r"(.*?)\s+(tc[12])\s*=\s*([^\s=]+)", re.DOTALL)


def _trailing_tc(body: str) -> tuple[str, dict[str, str]]:
    """A B source's expression and its trailing ``tc1=`` / ``tc2=`` values (as text)."""
    found: dict[str, str] = {}
    while (match := _TC.fullmatch(body)) is not None and match[2] not in found:
        body, found[match[2]] = match[1].strip(), match[3]
    return body, found


def _model_pairs(rest: str, name: str, line: Line) -> list[tuple[str, str]]:
    """The ``PARAM=VALUE`` pairs of a ``.model`` card after its type (parentheses
    optional)."""
    rest = rest.strip()
    if rest[:1] == "(":
        if rest[-1:] != ")":
            raise line.error(f"unclosed '(' in .model {name}")
        rest = rest[1:-1]
    head, pairs = split_assignments(rest, line)
    if head:
        raise line.error(f"unexpected {head!r} in .model {name} (expected PARAM=VALUE)")
    return pairs


def _body_params(sub: Subckt) -> set[str]:
    """The names a ``.param`` card in ``sub``'s body defines."""
    names = set()
    for line in sub.body:
        if line.kind == "card" and line.word == ".param":
            names.update(name for name, _ in split_assignments(line.text.lower(), line)[1])
    return names


def _is_value(token: str) -> bool:
    return token[0] == "{" or is_number(token)


class _Builder:
    """Turns logical lines into a circuit; keeps each name's line for error messages."""

    def __init__(self, title: str, subckts: dict[str, Subckt], source: str):
        self.circuit = Circuit(title=title)
        self.subckts = subckts
        self.file = source
        self.controls: list[str] = []
        self.global_scope = _Scope()
        self.element_lines: dict[str, Line] = {}
        self.node_lines: dict[str, Line] = {}
        self.role_lines: dict[str, Line] = {}
        self.structure_line: tuple[Line, str] | None = None
        self.instances: set[tuple[str, ...]] = set()
        self.flat_sizes: dict[int, int] = {}
        self.renamed: dict[str, str] = {}  # element name -> the B source it was read as
        self.in_sight: dict[int, Mapping[str, Subckt]] = {}  # id(Subckt) -> in its body
        self._scope_subckts(subckts, subckts)
        self.celsius, self.tnom = TNOM_CELSIUS, TNOM_CELSIUS  # set by build()

    def _scope_subckts(self, defs: Mapping[str, Subckt], outer: Mapping[str, Subckt]) -> None:
        """What each definition's body sees: the definitions around it, then its own."""
        for sub in defs.values():
            inner = {**outer, **sub.local}
            self.in_sight[id(sub)] = inner
            self._scope_subckts(sub.local, inner)

    def build(self, top: list[Line]) -> Circuit:
        self.celsius, self.tnom = self.temperature(top)
        start = _Scope(params={"temper": self.celsius}, subckts=self.subckts)
        self.global_scope = self.define(top, start)
        shared = {
            node
            for line in top
            if line.kind == "card" and line.word == ".global"
            for node in line.text.lower().split()[1:]
        }
        self.expand(top, self.global_scope, Instance(shared=frozenset(shared)), ())
        self.follow_renames()
        self.circuit.controls = tuple(self.controls)
        if not self.circuit.elements:
            raise NetlistError(
                "no circuit elements (an empty file, or not a SPICE netlist: its first line "
                "is read as the title)",
                file=self.file,
            )
        self.structure()
        self.validate()
        return self.circuit

    def follow_renames(self) -> None:
        """``i(e1)`` and F/H controls naming an E/G read as a B source (``value=``:
        ``b<name>``) now name that source."""
        if not self.renamed:
            return
        elements = self.circuit.elements
        for name, e in elements.items():
            if e.expr is not None:
                tree = rename(e.expr, lambda n: n, lambda s: self.renamed.get(s, s))
                elements[name] = replace(e, expr=tree)
            elif e.control in self.renamed:
                elements[name] = replace(e, control=self.renamed[e.control])

    def temperature(self, top: list[Line]) -> tuple[float, float]:
        """The circuit's and the nominal temperature [°C] (``.temp``, ``.options temp=
        tnom=``), read before anything that depends on them."""
        cards = [line for line in top if line.kind == "card" and line.word in _TEMPERATURE]
        try:
            return Circuit(controls=tuple(line.text.lower() for line in cards)).temperature()
        except CircuitError as exc:
            raise cards[0].error(str(exc)) from None  # a card's value, so there is one

    def structure(self) -> None:
        """The ``structure`` metadata line, checked against the network's."""
        if self.structure_line is None:
            return
        line, text = self.structure_line
        if self.circuit.network is None:
            raise line.error("structure metadata without a network metadata line")
        try:
            self.circuit.structure = Structure.from_dict(json.loads(text), self.circuit.network)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise line.error(f"bad structure metadata: {type(exc).__name__}: {exc}") from None

    # --- values -----------------------------------------------------------------

    def constant(self, text: str, scope: _Scope, line: Line, bare: bool = True) -> float:
        """A number, ``{expr}`` or (``bare``) an unbraced expression, evaluated now.

        Errors start with the card's first word (the element name, ``.param``, ...)."""
        text = text.strip()
        if is_number(text):
            value = parse_number(text)
        elif not bare and text[:1] != "{":
            raise line.error(f"{line.word}: expected a number or {{expression}}, got {text!r}")
        else:
            tree = self.expression(text, scope, line)
            if any(references(tree)):
                raise line.error(f"{line.word}: {text!r} may use parameters, not v() or i()")
            try:
                value = evaluate(tree, {})
            except (ArithmeticError, ValueError, TypeError, SyntaxError, RecursionError) as exc:
                raise line.error(f"{line.word}: cannot evaluate {text!r}: {exc}") from None
        if isinstance(value, complex) or not math.isfinite(value):
            raise line.error(f"{line.word}: {text!r} is not a finite real number")
        return float(value)

    def expression(self, text: str, scope: _Scope, line: Line) -> Expr:
        if text[:1] == "'" and text[-1:] == "'" and len(text) > 1:
            text = text[1:-1]
        try:
            return parse_expr(text, scope.params, scope.funcs)
        except ExprError as exc:
            raise line.error(f"{line.word}: bad expression: {exc}") from None
        except RecursionError:
            raise line.error(f"{line.word}: expression nested too deeply") from None

    def value(self, token: str, scope: _Scope, line: Line) -> float:
        return self.constant(token, scope, line, bare=False)

    # --- .param and .func (first pass over a scope) -------------------------------

    def define(self, lines: list[Line], scope: _Scope, fixed: frozenset = frozenset()) -> _Scope:
        """Apply the ``.param`` and ``.func`` cards of ``lines`` in order to a copy of
        scope; names in ``fixed`` (an instance's own values) keep their values."""
        scope = scope.child()
        for line in lines:
            word = line.word if line.kind == "card" else ""
            if word == ".param":
                head, pairs = split_assignments(line.text.lower(), line)
                if head != ".param" or not pairs:
                    raise line.error("expected '.param NAME=VALUE ...'")
                for name, text in pairs:
                    if name not in fixed:
                        scope.params[name] = self.constant(text, scope, line)
            elif word == ".model" and (match := _MODEL.fullmatch(line.text.lower().strip())):
                if match[2] == "r":  # read first: an instance may come before its model
                    scope.resistors[match[1]] = self.resistor_model(match[1], match[3], scope, line)
            elif word == ".func":
                match = _FUNC.fullmatch(line.text.lower().strip())
                if match is None:
                    raise line.error("expected '.func NAME(ARG, ...) {BODY}'")
                name, formals, body = match.groups()
                formals = tuple(formals.replace(",", " ").split())
                body = body.strip()
                if body[:1] == "'" and body[-1:] == "'" and len(body) > 1:
                    body = body[1:-1]
                try:
                    tree = parse_func_body(body, formals, scope.params, scope.funcs)
                except ExprError as exc:
                    raise line.error(f"bad .func body: {exc}") from None
                scope.funcs[name] = (formals, tree)
        return scope

    # --- cards ---------------------------------------------------------------------

    def expand(self, lines: list[Line], scope: _Scope, inst: Instance, stack: tuple) -> None:
        """Add the elements, models, controls and metadata of ``lines`` to the circuit."""
        for line in lines:
            try:
                self.card(line, scope, inst, stack)
            except RecursionError:
                raise line.error("nested too deeply (expression or subcircuits)") from None
            except NetlistError as exc:
                if not inst.path or (exc.file, exc.line) != (line.file, line.number):
                    raise
                where = ".".join(inst.path)
                raise NetlistError(
                    f"{exc.message} (in instance {where})", file=exc.file, line=exc.line
                ) from None

    def card(self, line: Line, scope: _Scope, inst: Instance, stack: tuple) -> None:
        word = line.word
        if line.kind == "meta":
            self.meta(line)
        elif line.kind == "control" or word in KEPT_CARDS:
            if inst.path:
                raise line.error(f"{word!r} is not allowed inside .subckt")
            keep_case = line.kind == "control" and word not in (".control", ".endc")
            self.controls.append(" ".join((line.text if keep_case else line.text.lower()).split()))
        elif word == ".global" and inst.path:
            raise line.error(".global belongs at the top level, not inside .subckt")
        elif word in (".param", ".func", ".global"):
            return  # applied by define(), or before expanding (.global)
        elif word == ".model":
            self.model(line, scope)
        elif word[0] == ".":
            raise line.error(f"unsupported card {word!r} (neurosim reads {_READ})")
        elif word[0] == "x":
            self.instance(line, scope, inst, stack)
        else:
            self.element(line, scope, inst)

    def model(self, line: Line, scope: _Scope) -> None:
        match = _MODEL.fullmatch(line.text.lower().strip())
        if match is None:
            raise line.error("expected '.model NAME TYPE (PARAM=VALUE ...)'")
        name, kind, rest = match.groups()
        if is_number(name):  # ngspice: "could not find a valid modelname"
            raise line.error(f".model {name}: a model name must not read as a number")
        name = scope.models.get(name, name)  # a subckt's own model: named per instance
        if kind == "r":
            return  # read by define(): resistors take their values from it
        if kind != "d":
            raise line.error(
                f"unsupported model type {kind!r} for {name!r} "
                "(neurosim reads diode models, type 'd', and resistor models, type 'r')"
            )
        pairs = _model_pairs(rest, name, line)
        unknown = [key for key, _ in pairs if key in DIODE_UNMODELLED]
        if unknown:
            known = " ".join((*DIODE_PARAMS, *sorted(DIODE_NO_DC)))
            raise line.error(
                f"diode parameter(s) {', '.join(unknown)} in .model {name} are not modelled by "
                f"neurosim (it reads: {known})"
            )
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            raise line.error(f"a parameter is given twice in .model {name}")
        if name in self.circuit.models:
            raise line.error(f"duplicate model name {name!r}")
        params = tuple((key, self.constant(text, scope, line)) for key, text in pairs)
        for key, value in params:
            if key in DIODE_RANGES and not DIODE_RANGES[key][1](value):
                raise line.error(
                    f".model {name}: {key} must be {DIODE_RANGES[key][0]}, not {value:g}"
                )
        self.circuit.add_model(Model(name, kind, params))

    def resistor_model(self, name: str, rest: str, scope: _Scope, line: Line) -> dict:
        """A ``.model NAME r (...)``'s parameters (given ones only), evaluated."""
        pairs = _model_pairs(rest, name, line)
        unknown = [key for key, _ in pairs if key not in RESISTOR_PARAMS]
        if unknown:
            raise line.error(
                f"resistor model parameter(s) {', '.join(unknown)} in .model {name} are not "
                f"modelled by neurosim (it reads: {' '.join(RESISTOR_PARAMS)})"
            )
        return {key: self.constant(text, scope, line) for key, text in pairs}

    def meta(self, line: Line) -> None:
        parts = line.text.split(None, 2)
        key = parts[1].lower() if len(parts) > 1 else ""
        rest = parts[2].strip() if len(parts) > 2 else ""
        if key == "schema":
            if rest.lower() not in READABLE_SCHEMAS:
                raise line.error(
                    f"unsupported netlist schema {rest!r} (neurosim reads "
                    f"{' and '.join(READABLE_SCHEMAS)})"
                )
        elif key == "network":
            if self.circuit.network is not None:
                raise line.error("second network metadata line")
            try:
                self.circuit.network = NetworkMeta.from_dict(json.loads(rest))
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
                raise line.error(f"bad network metadata: {type(exc).__name__}: {exc}") from None
        elif key == "structure":
            if self.structure_line is not None:
                raise line.error("second structure metadata line")
            self.structure_line = (line, rest)
        elif key == "trainable":
            self.circuit.trainable += tuple(rest.lower().split())
        elif key == "role":
            words = rest.lower().split()
            if len(words) != 2:
                raise line.error(f"expected '{META_PREFIX} role NODE ROLE'")
            node = Instance().node(words[0])
            try:
                role = Role(words[1])
            except ValueError:
                known = ", ".join(r.value for r in Role)
                raise line.error(f"unknown role {words[1]!r} (one of {known})") from None
            if node in self.circuit.roles:
                raise line.error(f"second role for node {node!r}")
            self.circuit.roles[node] = role
            self.role_lines[node] = line
        elif key == "programmed":
            try:
                record = json.loads(rest)
            except ValueError as exc:
                raise line.error(f"bad programmed metadata: {exc}") from None
            if not isinstance(record, dict):
                raise line.error("programmed metadata must be a JSON object")
            self.circuit.programmed += (record,)
        else:
            raise line.error(
                f"unknown neurosim metadata {key!r} "
                "(schema, network, structure, trainable, role, programmed)"
            )

    # --- elements ------------------------------------------------------------------

    def element(self, line: Line, scope: _Scope, inst: Instance) -> None:
        text = line.text.lower()
        plain = _PLAIN_RESISTOR.fullmatch(text)
        if plain is not None and math.isfinite(float(plain[4])):
            # the common case, read without tokenising (same result as the general path)
            nodes = (inst.node(plain[2]), inst.node(plain[3]))
            self.add(Element(inst.element(plain[1]), nodes, float(plain[4])), line)
            return
        name = line.word
        kind = name[0]
        if not "a" <= kind <= "z":
            raise line.error(f"expected an element, a dot card or a comment, got {name!r}")
        if kind not in TERMINALS:
            device = _OTHER_DEVICES.get(kind, "unknown device")
            raise line.error(
                f"unsupported element {name!r} ({device}); "
                "neurosim reads R C L V I D E G F H B and X"
            )
        behavioural = _BEHAVIOURAL_EG.fullmatch(text) if kind in "eg" else None
        if kind == "b":
            element = self.bsource(text, line, scope, inst)
        elif behavioural is not None:  # E/G value= (vol=, cur=): the B source b<name>
            name, plus, minus, _, body = behavioural.groups()
            output = "v" if kind == "e" else "i"
            element = self.bsource(f"b{name} {plus} {minus} {output}={body}", line, scope, inst)
            self.renamed[inst.element(name)] = element.name
        else:
            tokens = tokenize(text, line)
            count = TERMINALS[kind]
            nodes = tokens[1 : 1 + count]
            if len(nodes) < count or not all(n[0] not in '{}()="' for n in nodes):
                if kind in "eg":
                    raise line.error(f"{name}: {_LINEAR_ONLY.format(name=name)}")
                raise line.error(f"{name}: a {KIND_NAMES[kind]} needs {count} nodes")
            nodes = tuple(inst.node(n) for n in nodes)
            rest = tokens[1 + count :]
            element = self.device(inst.element(name), kind, nodes, rest, line, scope, inst)
        self.add(element, line)

    def device(
        self,
        name: str,
        kind: str,
        nodes: tuple,
        rest: list,
        line: Line,
        scope: _Scope,
        inst: Instance,
    ) -> Element:
        """Element ``name`` of ``kind`` from the tokens after its nodes."""
        local = line.word
        if kind in "vi":
            value, extra = self.source(local, rest, line, scope)
            return Element(name, nodes, value, extra=extra)
        words, options = split_options(rest, line)
        if kind == "r":
            return self.resistor(name, nodes, words, options, line, scope, inst)
        if kind in "cl":
            _check_options(options, {kind, "ic"}, local, line)
            if len(words) + (kind in options) != 1:
                raise line.error(f"{local}: expected one value, got {' '.join(words) or 'none'}")
            value = self.value(words[0] if words else options[kind], scope, line)
            ic = self.value(options["ic"], scope, line) if "ic" in options else None
            return Element(name, nodes, value, ic=ic)
        if kind == "d":
            _check_options(options, {"area"}, local, line)
            if not 1 <= len(words) <= 2 - ("area" in options):
                raise line.error(f"{local}: expected '{local} n+ n- MODEL [AREA]'")
            area = words[1] if len(words) > 1 else options.get("area")
            value = 1.0 if area is None else self.value(area, scope, line)
            return Element(name, nodes, value, model=scope.models.get(words[0], words[0]))
        _check_options(options, set(), local, line)
        if kind in "eg":
            if len(words) != 1:
                raise line.error(f"{local}: {_LINEAR_ONLY.format(name=local)}")
            return Element(name, nodes, self.value(words[0], scope, line))
        if len(words) != 2:  # f, h
            raise line.error(f"{local}: expected '{local} n+ n- VSOURCE GAIN'")
        return Element(
            name, nodes, self.value(words[1], scope, line), control=inst.element(words[0])
        )

    def resistor(
        self,
        name: str,
        nodes: tuple[str, str],
        words: list[str],
        options: dict[str, str],
        line: Line,
        scope: _Scope,
        inst: Instance,
    ) -> Element:
        """``R n+ n- VALUE [tc1=] [tc2=] [ac=]``: R·(1 + tc1·ΔT + tc2·ΔT²) at the circuit's
        temperature (ΔT from TNOM; ``ac=`` is the AC analysis' value, no DC part); a value
        of ``v()``/``i()`` is a behavioural resistor: the B source i = V(n+, n−)/R."""
        local = line.word
        if words and words[-1] in scope.resistors:
            return Element(name, nodes, self.model_ohms(words, options, line, scope))
        _check_options(options, {"r", "tc1", "tc2", "tce", "ac"}, local, line)
        if len(words) == 1 and words[0] in scope.params:
            raise line.error(
                f"{local}: expected a number or {{expression}}, got {words[0]!r} (a parameter: "
                f"write {{{words[0]}}}; a bare name is a resistor model)"
            )
        if 1 <= len(words) <= 2 and words[-1][0].isalpha():  # a model name (R models)
            raise line.error(f"{local}: no resistor model {words[-1]!r} (.model NAME r ...)")
        if len(words) + ("r" in options) != 1:
            raise line.error(f"{local}: expected one value, got {' '.join(words) or 'none'}")
        text = words[0] if words else options["r"]
        factor = self.temperature_factor(options, scope, line)
        if text[0] in "{'" and any(references(tree := self.expression(text, scope, line))):
            across = ("bin", "-", ("v", nodes[0]), ("v", nodes[1]))
            resistance = (
                inst.expr(tree) if factor == 1.0 else ("bin", "*", inst.expr(tree), ("num", factor))
            )
            return Element(f"b{name}", nodes, expr=("bin", "/", across, resistance), output="i")
        value = self.constant(text, scope, line, bare=text[0] == "'")
        return Element(name, nodes, value * factor)

    def model_ohms(
        self, words: list[str], options: dict[str, str], line: Line, scope: _Scope
    ) -> float:
        """The resistance [Ω] of ``R n+ n- [VALUE] MODEL [l=] [w=] [m=] [tc1=] [tc2=]
        [tce=] [ac=]`` (a resistor model: :func:`neurosim.circuit.resistor.
        model_resistance`)."""
        local = line.word
        _check_options(options, {"l", "w", "m", "tc1", "tc2", "tce", "ac"}, local, line)
        if len(words) > 2:
            raise line.error(f"{local}: expected '{local} n+ n- [VALUE] MODEL', got {words}")
        value = self.value(words[0], scope, line) if len(words) == 2 else None
        given = {k: self.value(v, scope, line) for k, v in options.items() if k != "ac"}
        try:
            ohms = model_resistance(
                scope.resistors[words[-1]], value, given, self.celsius, self.tnom
            )
        except ValueError as exc:
            raise line.error(f"{local}: {exc}") from None
        if not (math.isfinite(ohms) and ohms != 0):
            raise line.error(f"{local}: its resistance is {ohms:g} ohms")
        return ohms

    def temperature_factor(self, given: Mapping[str, str], scope: _Scope, line: Line) -> float:
        """The factor of an element's ``tc1=`` / ``tc2=`` / ``tce=`` (``given``: option ->
        text) at the circuit's temperature."""
        tc1, tc2 = (self.value(given.get(key, "0"), scope, line) for key in ("tc1", "tc2"))
        tce = self.value(given["tce"], scope, line) if "tce" in given else None
        return temperature_factor(tc1, tc2, self.celsius - self.tnom, tce)

    def source(self, local: str, tokens: list[str], line: Line, scope: _Scope) -> tuple[float, str]:
        """``[dc] value``, ``ac mag [phase]`` and one transient function -> (DC value, extra)."""
        dc: float | None = None
        initial = 0.0
        waveform = ""
        parts: list[str] = []
        pos = 0
        while pos < len(tokens):
            token = tokens[pos]
            if token == "dc" or (pos == 0 and _is_value(token)):
                pos += token == "dc"
                if token == "dc" and pos < len(tokens) and tokens[pos] == "=":
                    pos += 1  # ngspice also reads dc=3, dc = 3
                if dc is not None or pos >= len(tokens) or not _is_value(tokens[pos]):
                    raise line.error(f"{local}: expected one 'dc VALUE'")
                dc = self.value(tokens[pos], scope, line)
                pos += 1
            elif token in _SMALL_SIGNAL:
                pos += 1
                if pos < len(tokens) and tokens[pos] == "=":
                    pos += 1  # ngspice also reads ac=1
                words = [token]
                while pos < len(tokens) and len(words) < 3 and _is_value(tokens[pos]):
                    words.append(self.text_value(tokens[pos], scope, line))
                    pos += 1
                parts.append(" ".join(words))
            elif token in _WAVEFORMS and not waveform:
                if pos + 1 < len(tokens) and tokens[pos + 1] == "(":
                    close = tokens.index(")", pos) if ")" in tokens[pos:] else -1
                    if close < 0:
                        raise line.error(f"{local}: expected '{token}(ARG ...)'")
                    args, after = tokens[pos + 2 : close], close + 1
                else:  # ngspice also reads the arguments without parentheses
                    after = pos + 1
                    while after < len(tokens) and _is_value(tokens[after]):
                        after += 1
                    args = tokens[pos + 1 : after]
                low, high = _WAVEFORMS[token]
                if (
                    len(args) < low
                    or (high and len(args) > high)
                    or (token == "pwl" and len(args) % 2)
                ):
                    raise line.error(
                        f"{local}: wrong number of arguments to {token}(): {len(args)}"
                    )
                texts = [self.text_value(a, scope, line) for a in args]
                values = [parse_number(t) for t in texts]
                initial = {"pwl": values[1], "trnoise": 0.0, "trrandom": 0.0}.get(token, values[0])
                if token == "sin" and len(values) == 6:
                    initial += values[1] * math.sin(math.radians(values[5]))
                waveform = token
                parts.append(f"{token}({' '.join(texts)})")
                pos = after
            else:
                raise line.error(
                    f"{local}: unsupported source specification {token!r} (neurosim reads "
                    "[dc[=]] VALUE, ac[=]MAG [PHASE], distof1/distof2 and one of pulse sin pwl "
                    "exp trnoise trrandom, with or without parentheses)"
                )
        return (initial if dc is None else dc), " ".join(parts)

    def text_value(self, token: str, scope: _Scope, line: Line) -> str:
        """A value as text for ``Element.extra``: numbers as written, ``{expr}`` evaluated."""
        value = self.value(token, scope, line)
        return format_number(value) if token[0] == "{" else token

    def bsource(self, text: str, line: Line, scope: _Scope, inst: Instance) -> Element:
        parts = text.split(None, 3)
        match = _BSOURCE.fullmatch(parts[3].strip()) if len(parts) == 4 else None
        if match is None or any(c in n for n in parts[1:3] for c in "{}()=\"',"):
            raise line.error(f"{parts[0]}: expected '{parts[0]} n+ n- v={{EXPR}}' or 'i={{EXPR}}'")
        output, body = match.groups()
        body, coefficients = _trailing_tc(body.strip())
        tree = inst.expr(self.expression(body, scope, line))
        factor = self.temperature_factor(coefficients, scope, line)  # ngspice scales the output
        tree = tree if factor == 1.0 else ("bin", "*", tree, ("num", factor))
        nodes = tuple(inst.node(n) for n in parts[1:3])
        return Element(inst.element(parts[0]), nodes, expr=tree, output=output)

    def instance(self, line: Line, scope: _Scope, inst: Instance, stack: tuple) -> None:
        head, pairs = split_assignments(line.text.lower(), line)
        words = [w for w in tokenize(head, line) if w != "params:"]
        name = line.word
        if len(words) < 2 or any(w[0] in '{}()="' for w in words):
            raise line.error(f"{name}: expected '{name} NODE... SUBCKT [NAME=VALUE ...]'")
        sub = scope.subckts.get(words[-1])
        if sub is None:
            raise line.error(f"{name}: unknown subcircuit {words[-1]!r}")
        if sub.name in stack:
            raise line.error(f"{name}: recursive subcircuit {' -> '.join((*stack, sub.name))}")
        nodes = words[1:-1]
        if len(nodes) != len(sub.pins):
            raise line.error(
                f"{name}: subcircuit {sub.name!r} has {len(sub.pins)} pins, got {len(nodes)} nodes"
            )
        projected = len(self.circuit.elements) + self.flat_size(sub, ())
        if projected > MAX_ELEMENTS:
            raise line.error(
                f"{name}: the netlist would flatten to {projected:,} elements (nested .subckt "
                f"instances multiply); neurosim reads at most {MAX_ELEMENTS:,}"
            )
        path = (*inst.path, name)
        if path in self.instances:
            raise line.error(f"duplicate instance name {name!r}")
        self.instances.add(path)
        defaults = dict(sub.defaults)
        settable = set(defaults) | _body_params(sub)  # ngspice: an instance sets either
        unknown = [key for key, _ in pairs if key not in settable]
        if unknown:
            raise line.error(f"{name}: subcircuit {sub.name!r} has no parameter {unknown[0]!r}")
        local = self.global_scope.child()
        local.subckts = self.in_sight[id(sub)]
        given = {key: self.constant(text, scope, line) for key, text in pairs}
        local.params.update(given)
        for key, text in sub.defaults:
            if key not in given:
                local.params[key] = self.constant(text, local, sub.line)
        pins = dict(zip(sub.pins, (inst.node(n) for n in nodes), strict=True))
        child = Instance(path, pins, inst.shared)
        body = self.define(list(sub.body), local, frozenset(given))
        for card in sub.body:  # .model inside .subckt: local to it, one per instance
            match = _MODEL.fullmatch(card.text.lower().strip()) if card.word == ".model" else None
            if match is not None:
                body.models[match[1]] = f"{match[1]}.{'.'.join(path)}"
        self.expand(list(sub.body), body, child, (*stack, sub.name))

    def flat_size(self, sub: Subckt | None, stack: tuple[str, ...]) -> int:
        """Elements one instance of ``sub`` flattens to (counted, not built)."""
        if sub is None or sub.name in stack:  # reported where it is instantiated
            return 0
        if id(sub) in self.flat_sizes:
            return self.flat_sizes[id(sub)]
        in_sight = self.in_sight[id(sub)]
        total = 0
        for card in sub.body:
            if card.kind != "card" or card.word[0] == ".":
                continue
            if card.word[0] != "x":
                total += 1
                continue
            words = [w for w in card.text.lower().split() if "=" not in w and w != "params:"]
            if len(words) > 1:
                total += self.flat_size(in_sight.get(words[-1]), (*stack, sub.name))
        self.flat_sizes[id(sub)] = total
        return total

    # --- bookkeeping -----------------------------------------------------------------

    def add(self, element: Element, line: Line) -> None:
        if len(self.circuit.elements) >= MAX_ELEMENTS:
            raise line.error(
                f"the netlist flattens to more than {MAX_ELEMENTS:,} elements "
                "(nested .subckt instances multiply); neurosim reads at most that many"
            )
        first = self.element_lines.get(element.name)
        if first is not None:
            raise line.error(
                f"duplicate element name {element.name!r} (first at {first.file}:{first.number})"
            )
        self.circuit.add(element)
        self.element_lines[element.name] = line
        self.circuit.origins[element.name] = f"{line.file}:{line.number}"
        for node in element.nodes:
            self.node_lines.setdefault(node, line)

    def validate(self) -> None:
        """``Circuit.validate``, with its error placed on the line it is about."""
        try:
            self.circuit.validate()
        except CircuitError as exc:
            message = str(exc)
            line = self.element_lines.get(message.split(":", 1)[0])
            node = re.search(r"node '([^']*)'", message)
            if line is None and node:
                lines = self.role_lines if message.startswith("role") else self.node_lines
                line = lines.get(node.group(1))
            if line is None:
                raise NetlistError(message, file=self.file) from None
            raise line.error(message) from None


def _check_options(options: dict[str, str], allowed: set[str], local: str, line: Line) -> None:
    for key in options:
        if key not in allowed:
            raise line.error(f"{local}: unsupported parameter {key!r}")
