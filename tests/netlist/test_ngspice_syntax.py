"""ngspice syntax that public netlists use, read as ngspice reads it: each netlist is
written the way the public files write it, solved by neurosim (the expected value is
ngspice's, from `ngspice -b` with `print all`) and compared with ngspice's operating
point (``check``)."""

import pytest

import neurosim
from neurosim.engine.dc import solve_dc
from neurosim.lower.mna import lower_dc

CASES = {
    "dc=": ("v1 1 0 DC=3\nr1 1 0 1k", "1", 3.0),
    "dc = ": ("v1 1 0 dc = 3\nr1 1 0 1k", "1", 3.0),
    "dc= ": ("v1 1 0 dc= 3\nr1 1 0 1k", "1", 3.0),
    "sin without parentheses": ("v1 1 0 sin 0.7 1 1k\nr1 1 0 1k", "1", 0.7),
    "pulse without parentheses": ("v1 1 0 pulse 0.4 1 0 1n 1n 1u 2u\nr1 1 0 1k", "1", 0.4),
    "dc then waveform": ("v1 1 0 dc 2 sin 0.5 1 1k\nr1 1 0 1k", "1", 2.0),
    "zero-argument .func": (
        ".func foo0() '1013.0'\nv1 1 0 {foo0()/1000}\nr1 1 0 {100*foo0()}",
        "1",
        1.013,
    ),
    "&& in .param": (
        ".param a=2 b=3\n.param d={(a>1 && b>2) ? 1.5 : 0}\nv1 1 0 {d}\nr1 1 0 1k",
        "1",
        1.5,
    ),
    "|| in .param": (
        ".param a=2 b=3\n.param e={(a>5 || b>2) ? 2 : 0}\nv1 1 0 {e}\nr1 1 0 1k",
        "1",
        2.0,
    ),
    "! in .param": (".param a=2\n.param f={!(a>5) ? 3 : 0}\nv1 1 0 {f}\nr1 1 0 1k", "1", 3.0),
    "sqr and arctan in .param": (
        ".param a=2\n.param c={sqr(a)+arctan(1)}\nv1 1 0 {c}\nr1 1 0 1k",
        "1",
        4.785398163397448,
    ),
    "&& on node voltages": (
        "v2 2 0 2\nr2 2 0 1k\nb1 1 0 v=(v(2)>1 && v(2)<3) ? 1.5 : 0\nr1 1 0 1k",
        "1",
        1.5,
    ),
    "! on node voltages": (
        "v2 2 0 2\nr2 2 0 1k\nb1 1 0 v=!(v(2)>10) ? 2.5 : 0\nr1 1 0 1k",
        "1",
        2.5,
    ),
    "ln of a node that is 0 V at the start": (
        "v1 1 0 2.7\nr1 1 0 1k\nb1 b1 0 v = ln(v(1))\nr2 b1 0 1k",
        "b1",
        0.9932517730102834,
    ),
    ".model inside .subckt, local to each instance": (
        ".subckt dd a b is0=1e-14\n.model dm d (is={is0})\nd1 a b dm\n.ends\n"
        ".model dm d (is=1e-9)\nv1 1 0 1\nr1 1 2 1k\nx1 2 0 dd\nr3 1 3 1k\n"
        "x2 3 0 dd is0=1e-12\nr4 1 4 1k\nd4 4 0 dm",
        "3",
        5.171734e-01,
    ),
    "u(0)": ("b1 1 0 v=u(0)\nr1 1 0 1k", "1", 0.5),
    "F controlled by an E": (
        "v1 1 0 2\ne1 2 0 1 0 2\nr2 2 0 1k\nf1 0 3 e1 0.5\nr3 3 0 1k",
        "3",
        -2.0,
    ),
    "i() of a B source": (
        "v1 1 0 2\nb1 2 0 v=v(1)*2\nr2 2 0 1k\nb2 3 0 v=i(b1)*1000\nr3 3 0 1k",
        "3",
        -4.0,
    ),
    "a node only on a B source": ("v1 1 0 2\nr1 1 0 1k\nb1 2 0 v=v(1)*3", "2", 6.0),
    "a node only on an E source": ("v1 1 0 2\nr1 1 0 1k\ne1 2 0 1 0 -1.5", "2", -3.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_as_ngspice_reads_it(tmp_path, name):
    body, node, expected = CASES[name]
    path = tmp_path / "case.cir"
    path.write_text(f"{name}\n{body}\n.end\n")
    circuit = neurosim.load_netlist(path)
    # the expected values are ngspice's as it prints them (7 digits)
    assert solve_dc(lower_dc(circuit)).voltages[node] == pytest.approx(expected, rel=1e-6)
    report = neurosim.check(circuit)
    assert report.ok and report.max_abs_diff_v < 1e-9, report.to_dict()


def test_unsupported_functions_keep_a_clear_error(tmp_path):
    path = tmp_path / "bad.cir"
    path.write_text("t\n.param a={agauss(1, 0.1, 3)}\nv1 1 0 {a}\nr1 1 0 1k\n.end\n")
    with pytest.raises(neurosim.NeurosimError, match=r"bad.cir:2: .*unknown function 'agauss'"):
        neurosim.load_netlist(path)


LIBRARY = """* models, in sections
.lib typ
.model dm d (is=1e-14)
.endl typ
.lib fast
.lib 'more.lib' shared
.endl fast
"""


@pytest.mark.parametrize(("section", "expected"), [("typ", 6.294408e-01), ("fast", 5.171734e-01)])
def test_lib_sections_read_as_ngspice_reads_them(tmp_path, section, expected):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib/models.lib").write_text(LIBRARY)
    (tmp_path / "lib/more.lib").write_text(".lib shared\n.model dm d (is=1e-12)\n.endl\n")
    path = tmp_path / "case.cir"
    path.write_text(f"t\n.lib lib/models.lib {section}\nv1 1 0 1\nr1 1 2 1k\nd1 2 0 dm\n.end\n")
    circuit = neurosim.load_netlist(path)
    assert solve_dc(lower_dc(circuit)).voltages["2"] == pytest.approx(expected, rel=1e-6)
    report = neurosim.check(circuit)
    assert report.ok and report.max_abs_diff_v < 1e-9, report.to_dict()
    path.write_text("t\n.lib lib/models.lib slow\nv1 1 0 1\nr1 1 2 1k\nd1 2 0 dm\n.end\n")
    with pytest.raises(neurosim.NeurosimError, match=r"case.cir:2: .lib: no section 'slow'"):
        neurosim.load_netlist(path)
