"""The netlist parser: hand-written fixtures, exact IR values, errors with file and line."""

import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from neurosim.circuit.expr import parse_expr
from neurosim.circuit.ir import Role
from neurosim.errors import NetlistError
from neurosim.netlist.parse import parse_netlist, parse_netlist_text
from neurosim.netlist.write import netlist_text
from neurosim.spice.ngspice import INSTALL_HINT

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
NGSPICE_FIXTURES = ["divider.cir", "ladder.cir", "clamp.cir", "rc_control.cir"]


def approx(value):
    return pytest.approx(value, rel=1e-15, abs=0.0)


def parse(text: str):
    return parse_netlist_text(text, source="test.cir")


# --- fixtures: exact IR -----------------------------------------------------------------


def test_divider_suffixes_comments_params():
    c = parse_netlist(FIXTURES / "divider.cir")
    assert c.title == "Voltage divider, hand-written: suffixes, units, comments, params"
    assert list(c.elements) == ["vdd", "r1", "r2", "rload", "c1", "l1", "r3", "ibias", "rsmall"]
    e = c.elements
    assert e["vdd"].nodes == ("in", "0") and e["vdd"].value == 3.3 and e["vdd"].extra == ""
    assert e["r1"].nodes == ("in", "mid") and e["r1"].value == 10_000.0
    assert e["r2"].nodes == ("mid", "0") and e["r2"].value == 20_000.0  # {2*rtop}, continued
    assert e["rload"].value == approx(10_000 * 20_000 / 30_000)  # r={par(rtop, rbot)}
    assert e["c1"].value == approx(2.2e-6) and e["c1"].ic == 0.5
    assert e["l1"].nodes == ("out", "tail") and e["l1"].value == approx(10e-6)
    assert e["r3"].nodes == ("tail", "0") and e["r3"].value == 1.5e6  # gnd is node 0
    assert e["ibias"].nodes == ("0", "mid") and e["ibias"].value == approx(10e-6)
    assert e["rsmall"].value == 1e-3
    assert c.controls == (".op",)
    assert c.models == {} and c.roles == {} and c.trainable == () and c.network is None


def test_ladder_nested_subckts_from_include():
    c = parse_netlist(FIXTURES / "ladder.cir")
    stage = [
        ("r.{x}.rs", ("{caller_a}", "{x}.n1")),
        ("r.{x}.xh.r1", ("{x}.n1", "{x}.xh.m")),
        ("r.{x}.xh.r2", ("{x}.xh.m", "{caller_b}")),
        ("r.{x}.xh.r3", ("{caller_b}", "0")),
        ("f.{x}.xh.f1", ("0", "{x}.xh.m")),
        ("v.{x}.xh.vsense", ("{caller_b}", "{x}.xh.q2")),
        ("r.{x}.xh.r4", ("{x}.xh.q2", "0")),
        ("v.{x}.vm", ("{x}.n1", "{x}.n2")),
        ("b.{x}.bx", ("{x}.n2", "0")),
    ]
    expected = [("vin", ("in", "0"))]
    for x, a, b in (("xa", "in", "mid"), ("xb", "mid", "out")):
        fill = {"x": x, "caller_a": a, "caller_b": b}
        expected += [(n.format(**fill), tuple(p.format(**fill) for p in ns)) for n, ns in stage]
    expected.append(("rload", ("out", "0")))
    assert [(e.name, e.nodes) for e in c.elements.values()] == expected
    e = c.elements
    assert e["r.xa.rs"].value == 2000.0  # instance parameter rser=2k
    assert e["r.xb.rs"].value == 1000.0  # default rser=1k
    assert e["f.xa.xh.f1"].control == "v.xa.xh.vsense" and e["f.xa.xh.f1"].value == 0.1
    assert e["b.xa.bx"].output == "v"
    assert e["b.xa.bx"].expr == parse_expr("0.5*v(in) + 10*i(v.xa.vm)")
    assert e["b.xb.bx"].expr == parse_expr("0.5*v(mid) + 10*i(v.xb.vm)")
    assert c.trainable == ("r.x*.rs", "x*")
    assert c.roles == {"in": Role.INPUT, "out": Role.OUTPUT}
    assert c.controls == (".op",)


def test_clamp_diodes_behavioural_and_controlled_sources():
    c = parse_netlist(FIXTURES / "clamp.cir")
    assert list(c.models) == ["dclamp", "dsmall"]
    assert c.models["dclamp"].params == (("is", 1e-14), ("n", 1.05), ("rs", 10.0))
    assert c.models["dsmall"].params == (("is", 2e-15), ("cjo", 1e-12))
    e = c.elements
    assert e["vin"].value == 0.5 and e["vin"].extra == "ac 1 sin(0.5 0.1 1k)"
    assert e["d1"].nodes == ("a", "0") and e["d1"].model == "dclamp" and e["d1"].value == 1.0
    assert e["d2"].nodes == ("0", "a") and e["d2"].model == "dsmall" and e["d2"].value == 2.0
    assert e["b1"].output == "v" and e["b1"].expr == parse_expr("2*v(a) - (v(in) - v(a))")
    assert e["bi"].output == "i" and e["bi"].expr == parse_expr("tanh(v(a)/0.1)*0.001")
    assert e["f1"].nodes == ("0", "d") and e["f1"].control == "vsense" and e["f1"].value == 2.0
    assert e["h1"].control == "vsense" and e["h1"].value == 1000.0
    assert e["e1"].nodes == ("f", "0", "b", "0") and e["e1"].value == 0.5
    assert e["g1"].nodes == ("0", "g", "a", "0") and e["g1"].value == 0.001
    assert e["vsense"].value == 0.0 and e["vsense"].extra == ""


def test_control_block_kept_in_order():
    c = parse_netlist(FIXTURES / "rc_control.cir")
    assert c.controls == (
        ".options reltol=1e-4",
        ".ic v(out)=0",
        ".tran 10n 20u uic",
        ".control",
        "run",
        "let vmax = vecmax(v(out))",
        "echo Peak of V(out): $&vmax",  # case and $ kept inside .control, as ngspice does
        "quit",
        ".endc",
    )
    v1 = c.elements["v1"]
    assert v1.value == 0.0 and v1.extra == "pulse(0 1 1u 10n 10n 5u 10u)"
    assert c.elements["c1"].ic == 0.0


@pytest.mark.parametrize("name", NGSPICE_FIXTURES)
def test_fixture_round_trip(name):
    circuit = parse_netlist(FIXTURES / name)
    text = netlist_text(circuit)
    again = parse_netlist_text(text)
    assert netlist_text(again) == text
    assert again == circuit


@pytest.mark.parametrize("path", sorted((ROOT / "netlists").glob("*.cir")), ids=lambda p: p.stem)
def test_shipped_netlists_round_trip_byte_for_byte(path):
    assert netlist_text(parse_netlist(path)) == path.read_text()


# --- ngspice agrees the fixtures are valid and on flattened names ----------------------


def ngspice(path: Path) -> str:
    """ngspice's batch output for ``path`` (ngspice tests never skip: a missing ngspice
    fails them with the install hint)."""
    if shutil.which("ngspice") is None:
        pytest.fail(INSTALL_HINT)
    run = subprocess.run(
        ["ngspice", "-b", path.name], cwd=path.parent, capture_output=True, text=True, timeout=60
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert not re.search(r"^\s*error", output, re.IGNORECASE | re.MULTILINE), output
    return output


@pytest.mark.parametrize("name", NGSPICE_FIXTURES)
def test_fixtures_are_valid_ngspice(name):
    ngspice(FIXTURES / name)


def test_flattened_names_match_ngspice(tmp_path):
    for name in ("ladder.cir", "stages.inc"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    top = tmp_path / "ladder.cir"
    text = top.read_text().replace(".op\n", ".control\nop\nprint all\nquit\n.endc\n")
    top.write_text(text)
    printed = dict(re.findall(r"^(\S+) = (\S+)$", ngspice(top), re.MULTILINE))
    circuit = parse_netlist(top)
    nodes = set(circuit.nodes()) - {"0"}
    branches = {f"{e.name}#branch" for e in circuit.elements.values() if e.kind in "vb"}
    assert set(printed) == nodes | branches


# --- features, one at a time -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "value", "extra"),
    [
        ("5", 5.0, ""),
        ("dc 5", 5.0, ""),
        ("DC={2*2}", 4.0, ""),  # ngspice reads dc=VALUE too
        ("dc 1 dc 2", None, None),
        ("", 0.0, ""),
        ("ac 1", 0.0, "ac 1"),
        ("dc 2 AC 1 90", 2.0, "ac 1 90"),
        ("PULSE( 0.2  1 1n 1n 1n 10n 20n )", 0.2, "pulse(0.2 1 1n 1n 1n 10n 20n)"),
        ("pulse(0, 1, 1n)", 0.0, "pulse(0 1 1n)"),
        ("sin(0.5 1 1k)", 0.5, "sin(0.5 1 1k)"),
        ("sin(0.5 1 1k 1 0 90)", 1.5, "sin(0.5 1 1k 1 0 90)"),  # ngspice: VO + VA*sin(phase)
        ("pwl(1 0.3 2 0.5)", 0.3, "pwl(1 0.3 2 0.5)"),
        ("exp(0.7 1 1n 1n 1n 1n)", 0.7, "exp(0.7 1 1n 1n 1n 1n)"),
        ("3 pulse(0 {2*vv} 1n)", 3.0, "pulse(0 8 1n)"),
        ("ac 1 dc 4 sin(0 1 1k)", 4.0, "ac 1 sin(0 1 1k)"),
    ],
)
def test_source_dc_value_and_extra(spec, value, extra):
    text = f"t\n.param vv=4\nv1 a 0 {spec}\nr1 a 0 1k\n"
    if value is None:
        with pytest.raises(NetlistError, match=r"test.cir:3: v1: expected one 'dc VALUE'"):
            parse(text)
        return
    v1 = parse(text).elements["v1"]
    assert (v1.value, v1.extra) == (value, extra)


def test_current_in_amperes_like_ngspice():
    c = parse("t\ni1 0 a 1A\nr1 a 0 1k\ni2 0 b 2mA\nr2 b 0 1k\n")
    assert c.elements["i1"].value == 1.0  # ngspice has no atto suffix
    assert c.elements["i2"].value == 0.002


def test_params_funcs_and_quotes():
    c = parse(
        "t\n"
        ".param a=1k b={2*a}, c = 'a + b' d=max(a, b)\n"
        ".func sq(x) {x*x}\n"
        ".func twice(x, y) = sq(x) + y\n"
        "v1 n 0 1\n"
        "r1 n 0 {b}\n"
        "r2 n 0 'c'\n"
        "r3 n 0 {twice(3, d)}\n"
    )
    assert [c.elements[f"r{k}"].value for k in (1, 2, 3)] == [2000.0, 3000.0, 2009.0]


def test_params_apply_before_elements_and_later_lines_override():
    c = parse("t\nv1 n 0 1\nr1 n 0 {r}\n.param r=1k\nr2 n 0 {r}\n.param r=2k\n")
    assert c.elements["r1"].value == c.elements["r2"].value == 2000.0


def test_behavioural_source_forms():
    c = parse(
        "t\nv1 a 0 1\nr1 a 0 1k\n"
        "b1 b 0 v={v(a)*2}\nr2 b 0 1k\n"
        "B2 c 0 V = V(a, b) ^ 2\nr3 c 0 1k\n"
        "b3 0 d i='tanh(v(a)) * 1m'\nr4 d 0 1k\n"
        "b4 e 0 I=i(v1)\nr5 e 0 1k\n"
    )
    e = c.elements
    assert (e["b1"].output, e["b1"].expr) == ("v", ("bin", "*", ("v", "a"), ("num", 2.0)))
    assert e["b2"].expr == ("bin", "^", ("bin", "-", ("v", "a"), ("v", "b")), ("num", 2.0))
    assert (e["b3"].output, e["b3"].expr) == ("i", parse_expr("tanh(v(a))*0.001"))
    assert e["b4"].expr == ("i", "v1")


def test_element_keyword_forms():
    c = parse(
        "t\nv1 a 0 1\nr1 a b r=1k\nc1 b 0 c=1p ic=0.25\nl1 b c l=1u\nr2 c 0 1k\n"
        "d1 a 0 dm area=3\n.model dm d\n"
    )
    e = c.elements
    assert e["r1"].value == 1000.0 and e["c1"].value == 1e-12 and e["c1"].ic == 0.25
    assert e["l1"].value == 1e-6 and e["d1"].value == 3.0
    assert c.models["dm"].params == ()


def test_comment_rules_follow_ngspice():
    c = parse(
        "t\nv1 a 0 1 $ comment\nr1 a b 1k;comment\nr2 b 0\t2k\t$tab comment\n"
        "$ a whole-line comment\nr3 b 0 1k // comment\n"
    )
    assert [e.value for e in c.elements.values()] == [1.0, 1000.0, 2000.0, 1000.0]
    with pytest.raises(NetlistError, match=r"test.cir:3: r1: expected a number .* got '1k\$x'"):
        parse("t\nv1 a 0 1\nr1 a 0 1k$x\n")


def test_end_stops_parsing_and_is_optional():
    c = parse("t\nv1 a 0 1\nr1 a 0 1k\n.end\nthis is not parsed (\n")
    assert list(c.elements) == ["v1", "r1"]
    assert list(parse("t\nv1 a 0 1\nr1 a 0 1k").elements) == ["v1", "r1"]


def test_windows_line_endings_and_bom(tmp_path):
    path = tmp_path / "win.cir"
    path.write_bytes("\ufeffTitle\r\nV1 a 0 1\r\nR1 a 0\r\n+ 1k\r\n.end\r\n".encode())
    c = parse_netlist(path)
    assert c.title == "Title" and c.elements["r1"].value == 1000.0


def test_include_relative_to_including_file_skips_its_end(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.inc").write_text("r1 n 0 1k\n.include 'b.inc'\n.end\nr2 n 0 2k\n")
    (tmp_path / "sub" / "b.inc").write_text("r3 n 0 3k\n")
    (tmp_path / "top.cir").write_text("t\nv1 n 0 1\n.INC sub/a.inc\n")
    c = parse_netlist(tmp_path / "top.cir")
    assert list(c.elements) == ["v1", "r1", "r3", "r2"]  # ngspice skips .end in includes


def test_subckt_parameter_scopes():
    c = parse(
        "t\n.param k=3\n"
        ".subckt s p params: r=1k r2={2*r}\n.param local={r2+k}\nr1 p 0 {r}\nr2 p 0 {local}\n"
        ".ends\n"
        "v1 a 0 1\nx1 a s r={k*1k}\nx2 a s\n"
    )
    values = {name: e.value for name, e in c.elements.items()}
    assert values == {
        "v1": 1.0,
        "r.x1.r1": 3000.0,
        "r.x1.r2": 6003.0,
        "r.x2.r1": 1000.0,
        "r.x2.r2": 2003.0,
    }


def test_metadata(tmp_path):
    text = (
        "t\n*@NEUROSIM schema neurosim-netlist/1\n"
        '*@neurosim network {"family": "crossbar", "law": "hopfield", "layers": '
        '[{"name": "X", "size": 2, "kind": "visible", "activation": "linear"}], '
        '"couplings": [], "scaling": {"g_unit": 5e-05}}\n'
        "*@neurosim trainable R* g?\n*@neurosim role B hidden\n*@neurosim role a visible\n"
        "*@neurosim role gnd ground\n"
        "v1 a 0 1\nr1 a b 1k\nr2 b 0 1k\n"
    )
    c = parse(text)
    assert c.network.family == "crossbar" and c.network.layers[0].name == "X"
    assert c.network.scaling.g_unit == 5e-5 and c.network.scaling.tau == 1e-6
    assert c.trainable == ("r*", "g?")
    assert list(c.roles.items()) == [("b", Role.HIDDEN), ("a", Role.VISIBLE), ("0", Role.GROUND)]


# --- errors: what, where -----------------------------------------------------------------

ERRORS = [
    ("bad number", "t\nv1 a 0 1\nr1 a 0 1x5\n", 3, "r1", "got '1x5'"),
    ("resistor <= 0", "t\nv1 a 0 1\nr1 a b 1k\nR3 b 0 -5\n", 4, "r3", "must be > 0, got -5"),
    ("continued line", "t\nv1 a 0 1\nr3 a\n* note\n+ 0\n+ -5\n", 3, "r3", "got -5"),
    ("not finite", "t\nv1 a 0 1\nr1 a 0 1e999\n", 3, "r1", "not a finite real number"),
    ("divide by zero", "t\nv1 a 0 1\nr1 a 0 {1/(2-2)}\n", 3, "r1", "cannot evaluate"),
    ("unknown model", "t\nv1 a 0 1\nr1 a 0 1k\nd1 a 0 nomodel\n", 4, "d1", "'nomodel'"),
    ("model type", "t\n.model nm nmos (vto=1)\nv1 a 0 1\nr1 a 0 1\n", 2, "model", "'nmos'"),
    (
        "diode parameter",
        "t\n.model dm d (is=1e-14 bogus=3 isr=1n nr=2)\nv1 a 0 1\nr1 a 0 1\n",
        2,
        "model",
        "diode parameter(s) isr, nr in .model dm are not modelled",
    ),
    ("element M", "t\nv1 a 0 1\nM1 a a 0 0 nmos\nr1 a 0 1k\n", 3, "m1", "(MOSFET)"),
    (
        "missing .lib file",
        "t\nv1 a 0 1\nr1 a 0 1k\n.lib models.lib tt\n",
        4,
        "cannot include",
        "no such file",
    ),
    ("card .if", "t\nv1 a 0 1\nr1 a 0 1k\n.if (1)\n", 4, "card", "'.if'"),
    (
        ".global in a subckt",
        "t\n.subckt s p\n.global vdd\nr1 p vdd 1k\n.ends\nv1 a 0 1\nx1 a s\n",
        3,
        ".global belongs at the top level",
        "",
    ),
    ("card .if", "t\n.if (1)\nv1 a 0 1\nr1 a 0 1k\n", 2, "card", "'.if'"),
    ("unknown subckt", "t\nv1 a 0 1\nx1 a 0 nosuch\n", 3, "x1", "unknown subcircuit 'nosuch'"),
    (
        "pin count",
        "t\n.subckt two p q\nr1 p q 1k\n.ends\nv1 a 0 1\nx1 a two\nr1 a 0 1k\n",
        6,
        "x1",
        "has 2 pins, got 1 nodes",
    ),
    (
        "recursion",
        "t\n.subckt a p\nx1 p a\n.ends\nv1 n 0 1\nx9 n a\n",
        3,
        "x1",
        "recursive subcircuit a -> a (in instance x9)",
    ),
    ("subckt param", "t\n.subckt s p r=1\nr1 p 0 {r}\n.ends\nx1 a s q=2\n", 5, "x1", "'q'"),
    ("unclosed subckt", "t\nv1 a 0 1\nr1 a 0 1k\n.subckt s p\nr1 p 0 1k\n", 4, ".subckt", ""),
    (
        "error in a nested subckt",
        "t\nv1 a 0 1\n.subckt s p\n.subckt t q\nr1 q 0 {rx}\n.ends\nx1 p t\n.ends\nx1 a s\n",
        5,
        "unknown parameter 'rx'",
        "",
    ),
    ("stray .ends", "t\nv1 a 0 1\n.ends\n", 3, "'.ends' without", ""),
    ("bad expression", "t\nv1 a 0 1\nr1 a 0 {2*}\n", 3, "bad expression", ""),
    ("unknown param", "t\nv1 a 0 1\nr1 a 0 {rx*2}\n", 3, "unknown parameter 'rx'", ""),
    ("bare param", "t\n.param rx=1\nv1 a 0 1\nr1 a 0 rx\n", 4, "{expression}", "got 'rx'"),
    ("dangling node", "t\nv1 a 0 1\nr1 a 0 1k\nr2 a b 1k\n", 4, "node 'b'", "dangling"),
    ("duplicate name", "t\nv1 a 0 1\nr1 a 0 1k\nR1 a 0 2k\n", 4, "duplicate", "'r1'"),
    ("duplicate model", "t\n.model m d\n.model M d\nv1 a 0 1\nr1 a 0 1\n", 3, "model", "'m'"),
    ("no ground", "t\nv1 a b 1\nr1 a b 1k\n", None, "no ground", ""),
    ("network json", 't\n*@neurosim network {"family": \nv1 a 0 1\n', 2, "network", "JSON"),
    ("network keys", 't\n*@neurosim network {"family": "x"}\n', 2, "network", "KeyError"),
    ("schema", "t\n*@neurosim schema neurosim-netlist/9\n", 2, "schema", "netlist/9"),
    ("unknown role", "t\nv1 a 0 1\nr1 a 0 1\n*@neurosim role a boss\n", 4, "role", "'boss'"),
    ("role node", "t\n*@neurosim role zz input\nv1 a 0 1\nr1 a 0 1\n", 2, "role", "'zz'"),
    ("metadata key", "t\n*@neurosim colour a red\n", 2, "metadata", "'colour'"),
    ("unclosed control", "t\nv1 a 0 1\n.control\nrun\n", 3, ".control", "no .endc"),
    ("continuation", "t\n+ r1 a 0 1k\n", 2, "continuation", ""),
    ("control in subckt", "t\n.subckt s p\n.op\n.ends\nx1 a s\n", 3, "'.op'", "instance x1"),
    (
        "bad model in subckt",
        "t\n.subckt s p\n.model m npn\n.ends\nv1 a 0 1\nx1 a s\n",
        3,
        "unsupported model type 'npn'",
        "(in instance x1)",
    ),
    (
        "inside instance",
        "t\n.subckt s p\nr1 p 0 1k\nr2 p 0 {nope}\n.ends\nv1 a 0 1\nx1 a s\n",
        4,
        "'nope'",
        "(in instance x1)",
    ),
    (
        "value inside instance",
        "t\n.subckt s p r=1k\nr1 p 0 {r}\nr2 p 0 {r-2k}\n.ends\nv1 a 0 1\nx1 a s\n",
        4,
        "r.x1.r2",
        "must be > 0, got -1000",
    ),
    ("source function", "t\nv1 a 0 sffm(0 1 1k)\nr1 a 0 1k\n", 2, "v1", "'sffm'"),
    ("waveform args", "t\nv1 a 0 pwl(0 1 2)\nr1 a 0 1k\n", 2, "v1", "pwl(): 3"),
    ("E poly", "t\nv1 a 0 1\ne1 b 0 poly(1) a 0 0 1\nr1 b 0 1k\n", 3, "e1", "linear"),
    ("B syntax", "t\nv1 a 0 1\nb1 b 0 x=v(a)\nr1 b 0 1k\n", 3, "b1", "v={EXPR}"),
    ("i() of non-source", "t\nv1 a 0 1\nr1 a 0 1\nb1 a 0 i=i(r1)\n", 4, "b1", "i(r1)"),
    ("F control", "t\nv1 a 0 1\nr1 a 0 1\nf1 a 0 r1 2\n", 4, "f1", "i(r1)"),
    ("resistor option", "t\nv1 a 0 1\nr1 a 0 1k noisy=0\n", 3, "r1", "'noisy'"),
    ("unbalanced brace", "t\nv1 a 0 1\nr1 a 0 {1+2\n", 3, "unbalanced", ""),
    ("duplicate instance", "t\n.subckt s p\n.ends\nx1 a s\nx1 a s\n", 5, "instance", "'x1'"),
]


@pytest.mark.parametrize(
    ("text", "line", "what", "why"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_errors_name_file_and_line(tmp_path, text, line, what, why):
    path = tmp_path / "bad.cir"
    path.write_text(text)
    with pytest.raises(NetlistError) as info:
        parse_netlist(path)
    error = info.value
    assert (error.file, error.line) == (str(path), line)
    prefix = f"{path}:{line}: " if line else f"{path}: "
    assert str(error).startswith(prefix), str(error)
    assert what in error.message and why in error.message, error.message


def test_include_errors_point_at_the_including_line(tmp_path):
    top = tmp_path / "top.cir"
    top.write_text("t\nv1 n 0 1\n\n.include missing.inc\n")
    with pytest.raises(NetlistError, match=rf"^{re.escape(str(top))}:4: cannot include .*no such"):
        parse_netlist(top)

    top.write_text("t\nv1 n 0 1\n.include b.inc\n")
    (tmp_path / "b.inc").write_text("r1 n 0 1k\n* cycle back\n.include top.cir\n")
    with pytest.raises(NetlistError, match=r"b.inc:3: include cycle"):
        parse_netlist(top)

    top.write_text("t\nv1 n 0 1\n.include .\n")
    with pytest.raises(NetlistError, match=r"top.cir:3: cannot include .*not a regular file"):
        parse_netlist(top)


def test_unreadable_files(tmp_path):
    with pytest.raises(NetlistError, match=r"nope.cir: cannot read netlist: no such file"):
        parse_netlist(tmp_path / "nope.cir")
    with pytest.raises(NetlistError, match="not a regular file"):
        parse_netlist(tmp_path)
    binary = tmp_path / "binary.cir"
    binary.write_bytes(b"title\nr1 a 0 1k\n\x00\x01\x02")
    with pytest.raises(NetlistError, match=r"binary.cir:3: binary data"):
        parse_netlist(binary)
    latin = tmp_path / "latin.cir"
    latin.write_bytes(b"title\nr1 a 0 1k\n* \xb5F\n")
    with pytest.raises(NetlistError, match=r"latin.cir:3: cannot read netlist: not UTF-8"):
        parse_netlist(latin)


def test_error_text_is_one_line_with_file_and_line():
    with pytest.raises(NetlistError) as info:
        parse_netlist_text("t\nv1 a 0 1\nr3 a 0 -5\n", source="bad.cir")
    assert str(info.value) == "bad.cir:3: r3: resistor value must be > 0, got -5.0"
    assert math.isfinite(float(str(info.value).rsplit(" ", 1)[1]))
