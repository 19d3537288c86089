"""Constructs found in public ngspice netlists (ngspice's own regression tests and
examples, Xyce's regression suite, users' repositories), each in a small netlist written
the way those files write it. The reference is ngspice run on **the netlist as written**
(not on neurosim's re-written copy, which would hide a misreading): every node voltage
ngspice prints must match neurosim's operating point; then ``check`` must agree too."""

import re
import shutil
import subprocess
import warnings

import pytest

import neurosim
from neurosim.engine.dc import solve_dc
from neurosim.lower.mna import lower_dc
from neurosim.spice.ngspice import INSTALL_HINT

CASES = {
    "nested .subckt (the inner one shadows a global one)": """
i1 0 1 1mA
x1 1 0 sub1
.subckt sub 1 2
r1 1 2 1meg
.ends
.subckt  sub1  n1 n2
.subckt  sub   n1 n2
R1   n1 n2   4k
.ends
X1   n1 n2  sub
R1   n1 n2  4k
.ends
""",
    "resistor tc1/tc2 at .temp": """
v1 1 0 dc 5
r1 1 2 1k tc1=0.03125 tc2=1e-4
r2 2 0 1k
.temp 91
""",
    "B source tc1 at .options temp=": """
v1  1 0  dc 100
b3  3 0  v=v(1) tc1=0.001
r3  3 0  1k
.options temp=127.0
""",
    "diode at .temp (level-1 temperature law), temper in .model": """
.model dtest D is='1e-12 * temper/80' n=1.5 rs=10 trs1=0.01 kf=1e-14 af=1 cjsw=1p level=1
v1  1 0  dc 5v
r1  1 2  5k
d_test  2 0  dtest
.temp 80
""",
    "an LTspice-style diode model (ratings ngspice ignores), capacitance aliases": """
v1 1 0 5
r1 1 2 1k
d1 2 0 D1N4148
.model D1N4148 D(Is=2.52n Rs=.568 N=1.752 Cjo=4p M=.4 tt=20n Iave=200m Vpk=75 cj0=4p pb=0.7)
""",
    "diode model with its own tnom": """
.model dn D is=1e-14 tnom=50
v1  1 0  dc 5
r1  1 2  1k
d1  2 0  dn
""",
    "rounding and inverse functions in .param and B sources": """
vn   n 0  dc = 'nint(2.5) + floor(-1.9) + ceil(2.1) + int(-1.9)'
rn   n 0  1k
v1   1 0  dc = 2.6
b1   b 0  v = nint(v(1)) + floor(v(1)) + ceil(v(1))
rb   b 0  1k
b2   c 0  v = asin(v(1)/3) + acos(v(1)/3) + asinh(v(1)) + acosh(v(1) + 2) + atanh(v(1)/3)
rc   c 0  1k
""",
    "pwr and the B-source step functions": """
v1 1 0 dc -0.5
r1 1 0 1k
b1 a 0 v = pwr(v(1), 3) + pwr(2, 3)
b2 b 0 v = eq0(v(1)) + 2*ne0(v(1)) + 4*gt0(v(1)) + 8*lt0(v(1)) + 16*ge0(v(1)) + 32*le0(v(1))
b3 c 0 v = u2(v(1) + 1.25) + uramp(-v(1)) + uramp(v(1))
b4 d 0 v = pwl(v(1), -1, 0, 0, 2, 1, 3) + pwl(v(1)*5, 0, 0, 1, 2)
""",
    "abs and sgn of a node voltage": """
VS   1  0  -3
RS   1  2  100
R1   2  0  100K
B1   3  0  V = {-(abs(V(1))) + sgn(V(2))}
R2   3  0  100K
""",
    "behavioural resistor": """
v9  9 0  dc=2
v1  1 0  dc=100
r3  1 3  r = {1k + v(9)}
v3  3 0  dc=0
r4  1 4  R = '500 + 10*V(9)' tc1=0.001
r5  4 0  1k
.temp 60
""",
    "ac= and distof on sources, ac= on a resistor, trrandom after dc": """
v1  1 0  dc=100 ac=1
r1  1 2  1k
r2  2 0  1k ac=15k
V2 3 0 DC 1 AC 1 SIN 0 1 1K 0 0 DISTOF1 0 DISTOF2 0
R3 3 0 10k
VR2 r2  0 dc 0.5 trrandom (2 10m 0 1)
R4 r2 0 1k
""",
    "micro sign as a scale suffix": """
I2 0 N01 pulse 2\u00b5 20\u00b5 50n 50n 50n 1\u00b5 2\u00b5
R1 N01 0 50k
""",
    "analysis cards .pz .tf .sens and .csparam": """
.param vmax = 3
.csparam vmax={vmax}
v1 1 0 {vmax} ac 1.0
r1 1 2 1k
e2 3 0 2 0 10
r2 3 0 1k
r3 2 0 1k
.pz 1 0 3 0 vol pz
.tf v(3) v1
.sens v(3)
""",
    "an instance value for a .param of the subckt body": """
.subckt subr in out rint1 = 6
  .param rint = 5
  .param twice = {2*rint}
  R0 in out 'rint'
  R1 in out 'rint1'
  R2 in out 'twice'
.ends
Xr 2 0 subr rint = 7 rint1 = 9
v2 2 0 1
r2 2 3 1
v3 3 0 0.5
""",
    "E and G value=, vol=, and the current of such an E": """
V1  1  0  DC 1.5
R1  1  0  1
B2  2  0  V={2*v(1)}
R2  2  0  2
E3  3a 0  value={-I(B2)}
R3a 3a 0  3
G5  0 5 value={v(1)*1m}
R5 5 0 1k
E6 6 0 vol='v(1)*2'
R6 6 0 1k
B4a 4a 0  V={I(E3)+I(B2)}
R4a 4a 0 4
F7 0 7 E3 2
R7 7 0 1
""",
    "resistor models: r=, a value, geometry, tc1/tc2/tce, m, after the instance, local": """
v1 1 0 1
r1 1 0 rtest
r2 1 2 500 rtest tc1=0.01
r3 2 0 rsq l=10u w=2u
r4 1 3 rsq l=10u
r5 3 0 rtest m=2
r6 1 4 1k tc1=2m tc2=30u tce=700m
r7 4 0 rexp
r8 4 5 rdl l=10u w=2u
r9 5 0 1k
x1 1 0 sub
.subckt sub a b
r1 a b loc
.model loc r r=3k
.ends
.model rtest r r=1000 tc1=2m
.model rsq r rsh=100 narrow=0.5u short=0.25u
.model rexp r resistance=2k tce=0.5 tnom=40
.model rdl r rsh=100 short=1u dlr=2u narrow=0.25u dw=0.5u
.temp 60
""",
    ".global nodes shared by every subckt instance": """
.global vdd n9
vdd vdd 0 2
x1 a sub
x2 b sub
.subckt sub out
r1 vdd out 1k
r2 out n9 3k
.ends
r3 a 0 1k
r4 b 0 2k
r5 n9 0 500
""",
    "sqrt(abs(i())) at zero current": """
V1 1 0 DC 0
R1 1 2 1k
VM 2 0 DC 0
B1 3 0 I=sqrt(2*abs(i(VM))*1.6e-19*1e7)*v(1)
R3 3 0 1k
""",
}


def ngspice_voltages(path) -> dict[str, float]:
    """Every node voltage ngspice prints for ``path``'s operating point, by node name."""
    if shutil.which("ngspice") is None:
        pytest.fail(INSTALL_HINT)
    # a second node, so that ngspice prints names (one vector prints as 'all = ...')
    text = path.read_text().replace(".end\n", "vzz_probe zz_probe 0 1\n")
    control = (
        ".options reltol=1e-9 vntol=1e-14 abstol=1e-18\n"
        ".control\nset numdgt=15\nop\nprint all\nquit\n.endc\n.end\n"
    )
    path.with_suffix(".op.cir").write_text(text + control)
    run = subprocess.run(
        ["ngspice", "-b", path.with_suffix(".op.cir").name],
        cwd=path.parent, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert not re.search(r"^\s*error", output, re.IGNORECASE | re.MULTILINE), output
    printed = dict(re.findall(r"^(\S+) = (\S+)$", output, re.MULTILINE))
    voltages = {
        k.lower().removeprefix("v(").removesuffix(")"): float(v)
        for k, v in printed.items()
        if not k.endswith("#branch")
    }
    assert voltages, output
    return voltages


@pytest.mark.parametrize("name", sorted(CASES))
def test_read_as_ngspice_reads_the_file(tmp_path, name):
    path = tmp_path / "case.cir"
    path.write_text(f"{name}\n{CASES[name].strip()}\n.end\n")
    theirs = ngspice_voltages(path)
    circuit = neurosim.load_netlist(path)
    ours = solve_dc(lower_dc(circuit)).voltages
    # every node of the netlist (ngspice also prints nodes of its own: ammeters for i(B),
    # the parts it builds an E value= of)
    nodes = [n for n in ours if "#" not in n]
    for node in nodes:
        assert ours[node] == pytest.approx(theirs[node], rel=1e-9, abs=1e-12), (node, theirs)
    report = neurosim.check(circuit)
    assert report.ok and report.max_abs_diff_v < 1e-9, report.to_dict()


def test_diode_temperature_law_against_its_formula(tmp_path):
    """isat(T) = IS·exp((T/Tnom − 1)·eg/(n·kT/q) + (xti/n)·ln(T/Tnom)) at 100 °C."""
    from neurosim.circuit.junction import BOLTZMANN, CHARGE, junction_at

    isat, vte = junction_at(1e-14, 1.2, 1.11, 3.0, 100.0, 27.0)
    t, t0 = 373.15, 300.15
    assert vte == pytest.approx(1.2 * BOLTZMANN * t / CHARGE, rel=1e-15)
    expected = (
        1e-14
        * (t / t0) ** (3.0 / 1.2)
        * pytest.importorskip("math").exp((t / t0 - 1.0) * 1.11 / vte)
    )
    assert isat == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("r1 1 0 1k myres\nv1 1 0 1", "r1: no resistor model 'myres'"),
        ("r1 1 0 myres\nv1 1 0 1\n.model myres r", "r1: needs a value, the model's r"),
        ("r1 1 0 myres\nv1 1 0 1\n.model myres r rsh=1 bogus=2", "bogus in .model myres"),
        (".model dm d (is=1e-14 ikf=1m)\nv1 1 0 1\nd1 1 0 dm", "ikf in .model dm are not modelled"),
        (".model dm d (level=3)\nv1 1 0 1\nd1 1 0 dm", "level must be 1"),
        ("v1 1 0 1\nr1 1 0 1k\n.temp hot", "temp must be a number"),
        ("v1 1 0 1\nb1 2 0 v=pwl(v(1), 1, 0, 0, 1)\nr2 2 0 1", "abscissae must be ascending"),
        ("v1 1 0 1\nb1 2 0 v=pwl(v(1), v(1), 0, 2, 1)\nr2 2 0 1", "points must be constants"),
        (".model 1e34 d is=1e-14\nv1 1 0 1\nd1 1 0 1e34", "must not read as a number"),
        # singular by their topology alone: refused by check (and relax) at their line
        ("v1 1 0 1\nv2 1 0 2", "bad.cir:3: v2: closes a loop of voltage sources"),
        ("v1 1 0 1\nr1 1 0 1k\nl1 1 0 1u", "bad.cir:4: l1: closes a loop"),
        ("i1 0 a 1m\nc1 a 0 1p", "bad.cir:2: node 'a' has no DC path to ground"),
    ],
)
def test_what_stays_refused_says_why(tmp_path, body, message):
    path = tmp_path / "bad.cir"
    path.write_text(f"t\n{body}\n.end\n")
    with pytest.raises(neurosim.NeurosimError, match=re.escape(message)):
        neurosim.check(neurosim.load_netlist(path))


def test_model_names_starting_with_a_digit_and_a_wild_newton_trial(tmp_path):
    """Diodes whose models are named like parts (``1n4002``), reverse-driven in parallel
    by a current source: the first Newton trials overflow the residual's norm, which
    the line search must take as 'too far' without a warning on the terminal."""
    path = tmp_path / "parts.cir"
    path.write_text(
        "parts\ni1 1 0 dc -100u\nvm1 1 t1 dc 0\nd1 t1 0 dplain\nvm2 1 t2 dc 0\nd2 t2 0 1n4002\n"
        "vm3 1 t3 dc 0\nd3 t3 0 2sk456\n.model dplain d(is=1.0f)\n.model 1n4002 d(is=1.3f)\n"
        ".model 2sk456 d(is=1.5f)\n.end\n"
    )
    theirs = ngspice_voltages(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = solve_dc(lower_dc(neurosim.load_netlist(path))).voltages
    assert ours["1"] == pytest.approx(theirs["1"], rel=1e-9)


def test_info_says_the_circuit_temperature(tmp_path):
    from click.testing import CliRunner

    from neurosim.cli.main import cli

    path = tmp_path / "hot.cir"
    path.write_text(
        "hot\nv1 1 0 5\nr1 1 2 1k\nd1 2 0 dm\n.model dm d\n.options tnom=25\n.temp 100\n"
    )
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 0 and "temperature: 100 °C (nominal 25 °C)" in result.output
