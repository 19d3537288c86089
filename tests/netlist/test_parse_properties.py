"""Property tests: writer and parser round-trip; formatting never changes the IR; garbage in
gives a NetlistError and nothing else."""

import math
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurosim.circuit.activations import ACTIVATIONS
from neurosim.circuit.expr import parse_expr, references
from neurosim.circuit.ir import DIODE_PARAMS, DIODE_RANGES, Circuit, Element, Model, Role
from neurosim.circuit.meta import FAMILY_LAWS, LAYER_KINDS, Layer, NetworkMeta, Scaling
from neurosim.circuit.units import format_number, parse_number
from neurosim.errors import NetlistError
from neurosim.netlist.parse import parse_netlist_text
from neurosim.netlist.write import netlist_text

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NODES = ["n1", "n2", "a", "b_2", "x.y", "7"]
EXTRAS = [
    "",
    "ac 1",
    "ac 1 90",
    "ac",
    "pulse(0 1 1e-09 1e-09 1e-09 1e-08 2e-08)",
    "sin(0.5 1 1k 0 0 90)",
    "pwl(0 0 1u 1)",
    "exp(0 1 1n 1n 2n 1n)",
    "ac 0.5 sin(0 1 1k)",
]
CONTROLS = [
    (),
    (".op",),
    (".options reltol=0.001", ".tran 1e-09 1e-06"),
    (".ic v(n1)=0.5", ".op"),
    (".control", "run", "print all", ".endc"),
]
finite = st.floats(allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.0, exclude_min=True, allow_infinity=False)
names = st.text(max_size=6)


def expressions(nodes: list[str], sources: list[str]) -> st.SearchStrategy[str]:
    """Text of random B-source expressions over ``nodes`` and voltage ``sources``."""
    node = st.sampled_from(nodes)
    atoms = st.one_of(
        finite.map(lambda x: f"({format_number(x)})"),
        node.map(lambda n: f"v({n})"),
        st.tuples(node, node).map(lambda p: f"v({p[0]}, {p[1]})"),
        st.sampled_from(sources).map(lambda s: f"i({s})"),
    )
    binary = st.sampled_from(["+", "-", "*", "/", "^", "<", ">=", "=="])
    return st.recursive(
        atoms,
        lambda inner: st.one_of(
            st.tuples(inner, binary, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda a: f"-{a}"),
            st.tuples(st.sampled_from(["exp", "tanh", "sqrt", "abs"]), inner).map(
                lambda t: f"{t[0]}({t[1]})"
            ),
            st.tuples(st.sampled_from(["min", "max", "pow"]), inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"
            ),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        ),
        max_leaves=8,
    )


layer_names = st.text(min_size=1, max_size=6)


@st.composite
def networks(draw) -> NetworkMeta:
    """Valid network metadata (NetworkMeta refuses anything else on construction)."""
    layers = draw(
        st.lists(
            st.builds(
                Layer,
                name=layer_names,
                size=st.integers(1, 1000),
                kind=st.sampled_from(LAYER_KINDS),
                activation=st.sampled_from(sorted(ACTIVATIONS)),
            ),
            min_size=1,
            max_size=3,
            unique_by=lambda layer: layer.name,
        ).map(tuple)
    )
    names_drawn = [layer.name for layer in layers]
    pairs = [(a, b) for i, a in enumerate(names_drawn) for b in names_drawn[i + 1 :]]
    couplings = draw(st.lists(st.sampled_from(pairs), max_size=2, unique=True)) if pairs else []
    return NetworkMeta(
        family="crossbar",
        law=draw(st.sampled_from(FAMILY_LAWS["crossbar"])),
        layers=layers,
        couplings=tuple(couplings),
        scaling=draw(
            st.builds(
                Scaling, volts_per_unit=positive, g_unit=positive, g_min=positive, tau=positive
            )
        ),
        spring_lambda=draw(st.floats(min_value=0.0, allow_infinity=False)),
        nudge=draw(st.booleans()),
    )


@st.composite
def circuits(draw) -> Circuit:
    """Valid circuits: random elements over a few nodes, every node with two connections."""
    nodes = [*NODES[: draw(st.integers(1, len(NODES)))], "0"]
    node = st.sampled_from(nodes)
    title = draw(st.text(st.characters(blacklist_characters="\n\r\x00"), max_size=30))
    circuit = Circuit(title=title)
    keys = draw(st.lists(st.sampled_from(list(DIODE_PARAMS)), max_size=4, unique=True))
    params = {}
    for key in keys:  # values a diode parameter may take (DIODE_RANGES), else refused
        value = draw(finite)
        while key in DIODE_RANGES and not DIODE_RANGES[key][1](value):
            value = draw(st.floats(min_value=0.0, max_value=0.99, exclude_min=True))
        params[key] = value
    circuit.add_model(Model("dmod", "d", tuple(params.items())))
    sources = ["vs0"]
    circuit.add(
        Element("vs0", (draw(node), draw(node)), draw(finite), extra=draw(st.sampled_from(EXTRAS)))
    )
    for k, kind in enumerate(draw(st.lists(st.sampled_from("rclvidegfhb"), max_size=12))):
        name = f"{kind}{k}{draw(st.sampled_from(['', '_w', '.q']))}"
        pair = (draw(node), draw(node))
        if kind in "rcl":
            ic = draw(st.none() | finite) if kind in "cl" else None
            element = Element(name, pair, draw(positive), ic=ic)
        elif kind in "vi":
            element = Element(name, pair, draw(finite), extra=draw(st.sampled_from(EXTRAS)))
            sources += [name] if kind == "v" else []
        elif kind in "eg":
            element = Element(name, (*pair, draw(node), draw(node)), draw(finite))
        elif kind in "fh":
            element = Element(name, pair, draw(finite), control=draw(st.sampled_from(sources)))
        elif kind == "d":
            area = draw(st.just(1.0) | positive)
            element = Element(name, pair, area, model="dmod")
        else:
            tree = parse_expr(draw(expressions(nodes, sources)))
            element = Element(name, pair, expr=tree, output=draw(st.sampled_from("vi")))
        circuit.add(element)
    _connect_everything(circuit)
    used = circuit.nodes()
    roles = draw(
        st.lists(
            st.tuples(st.sampled_from(used), st.sampled_from(list(Role))), unique_by=lambda t: t[0]
        )
    )
    circuit.roles = dict(roles)
    patterns = st.sampled_from(["r*", "rw*", "g?", "b1", "*.q", "[rc]*"])
    circuit.trainable = tuple(draw(st.lists(patterns, max_size=3)))
    circuit.network = draw(st.none() | networks())
    circuit.controls = draw(st.sampled_from(CONTROLS))
    return circuit


def _connect_everything(circuit: Circuit) -> None:
    """Add resistors to ground until ground is used and every node has two connections."""
    uses: dict[str, int] = {}
    wanted = set()
    for element in circuit.elements.values():
        for node in element.nodes[:2]:
            uses[node] = uses.get(node, 0) + 1
        wanted.update(element.nodes)
        if element.expr is not None:
            wanted.update(references(element.expr)[0])
    wanted.discard("0")
    if "0" not in uses:
        wanted.add(NODES[0])
        uses["0"] = 1
        circuit.add(Element("rgnd", (NODES[0], "0"), 1000.0))
        uses[NODES[0]] = uses.get(NODES[0], 0) + 1
    for node in sorted(wanted):
        while uses.get(node, 0) < 2:
            circuit.add(Element(f"rfix{len(circuit.elements)}", (node, "0"), 1000.0))
            uses[node] = uses.get(node, 0) + 1


def assert_same_ir(parsed: Circuit, original: Circuit, rel: float = 0.0) -> None:
    def close(a: float, b: float) -> bool:
        return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=0.0)

    assert parsed.title == original.title
    assert list(parsed.elements) == list(original.elements)
    for name, element in original.elements.items():
        got = parsed.elements[name]
        assert replace(got, value=0.0, ic=None) == replace(element, value=0.0, ic=None)
        assert close(got.value, element.value), (name, got.value, element.value)
        assert (got.ic is None) == (element.ic is None)
        assert element.ic is None or close(got.ic, element.ic), (name, got.ic, element.ic)
    assert list(parsed.models) == list(original.models)
    for name, model in original.models.items():
        got = parsed.models[name]
        assert got.kind == model.kind and [k for k, _ in got.params] == [k for k, _ in model.params]
        assert all(close(a, b) for (_, a), (_, b) in zip(got.params, model.params, strict=True))
    assert list(parsed.roles.items()) == list(original.roles.items())
    assert parsed.trainable == original.trainable
    assert parsed.network == original.network
    assert parsed.controls == original.controls


# --- (1) write -> parse -> write is the identity ------------------------------------------


@PROPERTY
@given(circuits())
def test_write_parse_write_is_identity(circuit):
    circuit.validate()
    text = netlist_text(circuit)
    parsed = parse_netlist_text(text)
    assert netlist_text(parsed) == text
    assert_same_ir(parsed, circuit)


# --- (2) legal formatting variations parse to the same IR ----------------------------------

SUFFIXES = [
    ("t", 1e12), ("g", 1e9), ("meg", 1e6), ("k", 1e3), ("", 1.0),
    ("m", 1e-3), ("u", 1e-6), ("n", 1e-9), ("p", 1e-12), ("f", 1e-15),
]  # fmt: skip
UNITS = ["", "ohm", "Ohm", "F", "V", "A", "s", "H"]
SEPARATORS = [" ", "  ", "\t", " \t ", "\n+ ", "\n+", "\n   +  ", "\n* between\n+ ", "\n\n+ "]
COMMENTS = ["", "", " ; note", " $ note $x", "\t;x$y", " // c"]
# Element letter -> (indices of node words, index of the value word) in the writer's line.
LAYOUT = {
    "r": ((1, 2), 3), "c": ((1, 2), 3), "l": ((1, 2), 3), "v": ((1, 2), 4), "i": ((1, 2), 4),
    "e": ((1, 2, 3, 4), 5), "g": ((1, 2, 3, 4), 5), "f": ((1, 2), 4), "h": ((1, 2), 4),
    "d": ((1, 2), 4), "b": ((1, 2), None),
}  # fmt: skip


def engineering(text: str, rnd) -> str:
    """``text`` (a number) rewritten with a random scale suffix and unit, if close enough."""
    value = float(text)
    suffix, scale = rnd.choice(SUFFIXES)
    scaled = value / scale
    if not math.isfinite(scaled):
        return text
    candidate = f"{scaled!r}{suffix}{rnd.choice(UNITS) if suffix else ''}"
    same = math.isclose(parse_number(candidate), value, rel_tol=1e-12, abs_tol=0.0)
    return candidate if same or parse_number(candidate) == value else text


def mixed_case(text: str, rnd) -> str:
    return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)


def scramble_card(line: str, rnd) -> str:
    words = line.split(" ")
    if words[0] == ".model":
        for k in range(3, len(words)):
            key, _, number = words[k].partition("=")
            close = ")" if number.endswith(")") else ""
            words[k] = f"{key}={engineering(number.rstrip(')'), rnd)}{close}"
        if len(words) > 3 and rnd.random() < 0.5:
            words[3] = words[3].replace("(", "( ", 1)
    elif line[0] != ".":
        node_at, value_at = LAYOUT[line[0]]
        for k in node_at:
            if words[k] == "0":
                words[k] = rnd.choice(["0", "gnd", "GND"])
        if value_at is not None and value_at < len(words):
            key, eq, number = words[value_at].rpartition("=")
            words[value_at] = key + eq + engineering(number, rnd)
        if words[-1].startswith("ic="):
            words[-1] = "ic=" + engineering(words[-1][3:], rnd)
    text = mixed_case(words[0], rnd)
    for word in words[1:]:
        text += rnd.choice(SEPARATORS) + mixed_case(word, rnd)
    return rnd.choice([" ", "\t", ""]) + text + rnd.choice(COMMENTS)


def reformat(text: str, rnd) -> str:
    """Legal variations of the writer's ``text``: case, spacing, continuations, comments,
    blank lines, engineering suffixes, ``gnd``."""
    lines = text.rstrip("\n").split("\n")
    out = [lines[0]]
    in_control = False
    for line in lines[1:]:
        out += rnd.choice([[], [], [""], ["* a comment"], ["", "*another"]])
        if line.startswith("*@neurosim network"):
            out.append(mixed_case("*@neurosim network", rnd) + line[len("*@neurosim network") :])
        elif line.startswith("*@neurosim"):
            out.append(mixed_case(line, rnd).replace(" ", rnd.choice([" ", "\t", "  "])))
        elif in_control or line == ".control":
            in_control = line != ".endc"
            out.append(line if line.startswith(".") else line.replace(" ", rnd.choice([" ", "  "])))
        else:
            out.append(scramble_card(line, rnd))
    return "\n".join(out) + rnd.choice(["\n", "", "\n\n"])


@PROPERTY
@given(circuits(), st.randoms(use_true_random=False))
def test_formatting_variations_parse_to_the_same_ir(circuit, rnd):
    text = reformat(netlist_text(circuit), rnd)
    assert_same_ir(parse_netlist_text(text), circuit, rel=1e-12)


def test_reformat_really_varies_the_text():
    circuit = parse_netlist_text("t\nv1 a 0 dc 1000\nr1 a 0 1000\n.end\n")
    variants = {reformat(netlist_text(circuit), random.Random(seed)) for seed in range(30)}
    assert len(variants) == 30
    assert any("\n+" in v for v in variants) and any("gnd" in v.lower() for v in variants)
    assert any(";" in v or "$" in v for v in variants) and any("k" in v.lower() for v in variants)


# --- (3) garbage in: NetlistError out, nothing else -----------------------------------------

TOKENS = [
    "r1", "R2", "c1", "l1", "v1", "i1", "d1", "e1", "f1", "g1", "h1", "b1", "x1", "m1", "q1",
    "0", "gnd", "a", "b", "n1", "1k", "-5", "1e-3", "0", "1e999", "{1/0}", "{a*2}", "'1+'", "{",
    "}", "(", ")", "=", "dc", "ac", "pulse(", "sin(0 1", "pwl(1 2)", "v=", "i=", "{v(a)}",
    "i(v1)", "params:", "ic=", "area=", "r=", ".param", "a=1", ".func", "f(x)", ".model", "d",
    "(is=1", "n=2)", ".subckt", "s", ".ends", ".include", ".inc", "'x.inc'", ".end", ".control",
    ".endc", ".op", ".lib", ".global", ".tran", "*", ";", "$", "+", "//", "*@neurosim",
    "schema", "network", "role", "trainable", "visible", '{"a": 1}', "[", "]", "\t", "\x00",
    "\r", "\ufeff", "µF", "①", "\u2028",
]  # fmt: skip
garbage_lines = st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), max_size=8).map(" ".join)
garbage = st.lists(garbage_lines, max_size=14).map("\n".join)


@st.composite
def mutated_netlists(draw) -> str:
    """A valid netlist with a few random edits (deleted, inserted or swapped text)."""
    text = netlist_text(draw(circuits()))
    rnd = draw(st.randoms(use_true_random=False))
    for _ in range(draw(st.integers(1, 4))):
        at = rnd.randrange(len(text) + 1)
        edit = rnd.choice(["delete", "insert", "line"])
        if edit == "delete":
            text = text[:at] + text[at + rnd.randrange(1, 8) :]
        elif edit == "insert":
            text = text[:at] + rnd.choice(TOKENS) + text[at:]
        else:
            lines = text.split("\n")
            i, j = rnd.randrange(len(lines)), rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@pytest.fixture(scope="module")
def empty_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("includes")


@PROPERTY
@given(text=garbage | mutated_netlists())
def test_garbage_raises_netlist_error_only(empty_dir, text):
    try:
        circuit = parse_netlist_text(text, source="junk.cir", base_dir=empty_dir)
    except NetlistError as error:
        assert error.file == "junk.cir"
        assert error.line is None or 1 <= error.line <= text.count("\n") + 1
        assert "\n" not in error.message
        return
    again = parse_netlist_text(netlist_text(circuit))  # what is accepted round-trips
    assert netlist_text(again) == netlist_text(circuit)
