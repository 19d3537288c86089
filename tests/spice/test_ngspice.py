"""ngspice runner: analytic circuits, settings, both backends, errors, a missing ngspice.

These tests need ngspice (``apt-get install ngspice libngspice0 libngspice0-dev``) and
fail with that install line when it is missing; they are never skipped.
"""

import math
import os
import subprocess
import sys

import pytest
from scipy.optimize import brentq

from neurosim.errors import NeurosimError, SimulatorMissingError
from neurosim.spice import ngspice
from neurosim.spice.ngspice import INSTALL_HINT, OperatingPoint, operating_points

# ngspice's constants (CODATA 2014) and TNOM = 27 C.
VT = 1.38064852e-23 * 300.15 / 1.6021766208e-19
GMIN = 1e-12


def op(netlist: str, **kwargs) -> OperatingPoint:
    (point,) = operating_points(netlist, **kwargs)
    return point


DIVIDER = """resistor divider
*@neurosim schema neurosim-netlist/1
*@neurosim role b output
V1 a 0 dc 3
R1 a b 1k
R2 b 0 2k
.op
.end
"""


def test_resistor_divider():
    point = op(DIVIDER)
    assert point.voltages == pytest.approx({"a": 3.0, "b": 2.0}, rel=1e-14)
    # The source delivers 1 mA: ngspice's branch current (+ node through the source) is -1 mA.
    assert point.currents == pytest.approx({"v1": -1e-3}, rel=1e-14)


def test_current_source_into_resistor_without_analysis_card():
    point = op("current source\nI1 0 A dc 1m\nR1 A 0 2k\n.end\n")
    assert point.voltages == pytest.approx({"a": 2.0}, rel=1e-14)
    assert point.currents == {}


def test_names_are_lower_case_and_numeric_nodes_unwrapped():
    point = op("names\nVIN 1 0 dc 1\nROUT 1 OUT 1k\nR2 OUT 0 1k\n.save v(out)\n.end\n")
    assert point.voltages == pytest.approx({"1": 1.0, "out": 0.5}, rel=1e-14)
    assert set(point.currents) == {"vin"}  # .save does not hide anything


CONTROLLED = """controlled sources
V1 in 0 dc 0.4
Rin in 0 1k
E1 e 0 in 0 2.5
Re e 0 1k
G1 g 0 in 0 1m
Rg g 0 1k
V2 s 0 dc 1
Rs s m 1k
Vsense m 0 dc 0
F1 f 0 Vsense 3
Rf f 0 1k
H1 h 0 Vsense 500
Rh h 0 1k
B1 bi 0 i={2.5*i(Vsense) + 1e3*i(Vsense)*i(Vsense)}
Rbi bi 0 1k
B2 bv 0 v={0.8*tanh(2*v(in))}
Rbv bv 0 2k
.op
.end
"""


def test_controlled_and_behavioural_sources():
    point = op(CONTROLLED)
    i_sense = 1e-3  # from m through Vsense to ground
    tanh_out = 0.8 * math.tanh(0.8)
    expected = {
        "in": 0.4,
        "e": 1.0,  # VCVS: 2.5 * 0.4
        "g": -0.4,  # VCCS: 1 mA/V * 0.4 V leaves node g through G1 -> -0.4 V on 1k
        "s": 1.0,
        "m": 0.0,
        "f": -3.0,  # CCCS: 3 mA out of node f
        "h": 0.5,  # CCVS: 500 ohm * 1 mA
        "bi": -(2.5 * i_sense + 1e3 * i_sense**2) * 1e3,
        "bv": tanh_out,
    }
    assert point.voltages == pytest.approx(expected, rel=1e-13, abs=1e-15)
    assert point.currents == pytest.approx(
        {
            "v1": -0.4e-3,
            "v2": -1e-3,
            "vsense": i_sense,
            "e1": -1e-3,
            "h1": -0.5e-3,
            "b2": -tanh_out / 2e3,
        },
        rel=1e-13,
    )


def shockley(v_source: float, r: float, i_s: float, n: float, gmin: float = GMIN) -> float:
    """Diode voltage of V -- R -- diode (level 1, forward branch) with gmin across it."""

    def kcl(v: float) -> float:
        return (v_source - v) / r - i_s * math.expm1(v / (n * VT)) - gmin * v

    upper = min(v_source, n * VT * math.log1p(v_source / (r * i_s))) if v_source > 0 else 0.0
    lower = 0.0 if v_source > 0 else v_source
    return brentq(kcl, lower, upper, xtol=1e-300, rtol=4 * sys.float_info.epsilon, maxiter=500)


def diode_netlist(v_source: float, r: float, i_s: float, n: float) -> str:
    return (
        f"diode\nV1 a 0 dc {v_source!r}\nR1 a k {r!r}\nD1 k 0 dm\n"
        f".model dm d (is={i_s!r} n={n!r})\n.op\n.end\n"
    )


DIODE_CASES = [
    (5.0, 1e3, 1e-14, 1.0),
    (1.0, 1e4, 1e-14, 1.0),
    (0.3, 1e5, 1e-9, 1.8),
    (20.0, 100.0, 2.5e-16, 1.05),
    (0.7, 1e6, 1e-12, 1.3),
    (-0.05, 1e3, 1e-9, 1.0),  # reverse, above -3 n Vt: still the exponential branch
]


@pytest.mark.parametrize(("v_source", "r", "i_s", "n"), DIODE_CASES)
def test_diode_matches_shockley_with_gmin(v_source, r, i_s, n):
    point = op(diode_netlist(v_source, r, i_s, n))
    v_diode = shockley(v_source, r, i_s, n)
    assert abs(point.voltages["k"] - v_diode) <= 1e-12
    assert point.currents["v1"] == pytest.approx(-(v_source - v_diode) / r, rel=1e-9, abs=1e-18)


def test_default_tolerances_are_tight_and_win_over_the_netlist():
    case = (14.386240155192892, 14650.244778091645, 2.498590729591245e-14, 1.4226872211976584)
    netlist = diode_netlist(*case).replace(".op", ".options reltol=1e-3 vntol=1e-6\n.op")
    exact = shockley(*case)
    assert abs(op(netlist).voltages["k"] - exact) <= 1e-12
    ngspice_defaults = {"reltol": 1e-3, "vntol": 1e-6, "abstol": 1e-12}
    assert abs(op(netlist, options=ngspice_defaults).voltages["k"] - exact) > 1e-7


def test_options_reach_ngspice():
    netlist = diode_netlist(1.0, 1e4, 1e-14, 1.0)
    point = op(netlist, options={"gmin": 1e-4})
    assert abs(point.voltages["k"] - shockley(1.0, 1e4, 1e-14, 1.0, gmin=1e-4)) <= 1e-12
    with pytest.raises(NeurosimError, match="not an option name"):
        op(netlist, options={"bad name": 1.0})


NONLINEAR = """settings test
V1 a 0 dc {v1}
I1 0 b dc {i1}
V2 c 0 dc {v2}
R1 a b 2k
D1 b 0 dm
R2 b c 5k
B1 y 0 v={{tanh(3*v(b)) + 0.1*v(c)}}
R3 y 0 1k
.model dm d (is=1e-12 n=1.2)
.op
.end
"""
BASE = {"v1": 0.9, "i1": 2e-4, "v2": -0.3}


def baked(**values: float) -> str:
    return NONLINEAR.format(**{**BASE, **values})


SETTINGS = [
    {},
    {"V1": 0.3},  # names are case-insensitive
    {"v2": 0.45, "i1": -1e-4},
    {"v1": 1.7},
    {},
]


@pytest.mark.parametrize("backend", ["shared", "batch"])
def test_settings_equal_netlists_with_the_values_written_in(backend):
    points = operating_points(baked(), SETTINGS, backend=backend)
    assert len(points) == len(SETTINGS)
    for setting, point in zip(SETTINGS, points, strict=True):
        reference = op(baked(**{k.lower(): v for k, v in setting.items()}), backend=backend)
        # ngspice parses the baked-in text, which may be 1 ulp off; settings are exact
        assert point.voltages == pytest.approx(reference.voltages, rel=1e-14, abs=1e-18)
        assert point.currents == pytest.approx(reference.currents, rel=1e-14, abs=1e-18)
    assert points[4] == points[0]  # settings do not accumulate: identical to the last bit
    assert points[1].voltages["a"] == 0.3  # exact, although ngspice parses "0.3" 1 ulp off
    assert points[3].voltages["a"] == 1.7
    assert points[2].voltages["a"] == op(baked()).voltages["a"]  # put back as parsed


@pytest.mark.parametrize("backend", ["shared", "batch"])
def test_setting_values_are_exact(backend):
    values = [0.3, -0.1, 1e-300, 5e-324, 1e300, 12345.0, -96.0, 0.0]
    points = operating_points(DIVIDER, [{"v1": value} for value in values], backend=backend)
    assert [point.voltages["a"] for point in points] == values


@pytest.mark.parametrize("backend", ["shared", "batch"])
def test_many_sources(backend):
    n = 150
    netlist = (
        "many sources\n"
        + "".join(f"V{k} n{k} 0 dc 1\nR{k} n{k} m 1k\n" for k in range(n))
        + "Rm m 0 1k\n.end\n"
    )
    settings = [{f"v{k}": 0.01 * k for k in range(n)}, {}]
    changed, original = operating_points(netlist, settings, backend=backend)
    # m = sum(V_k) / (n + 1) for equal resistors
    assert changed.voltages["m"] == pytest.approx(0.01 * sum(range(n)) / (n + 1), rel=1e-12)
    assert original.voltages["m"] == pytest.approx(n / (n + 1), rel=1e-12)


def test_no_settings_no_runs():
    assert operating_points(DIVIDER, []) == []


@pytest.mark.parametrize(
    ("netlist", "settings"),
    [
        (DIVIDER, [{}]),
        (CONTROLLED, [{}, {"v1": -0.2, "v2": 2.0}]),
        (baked(), SETTINGS),
        (diode_netlist(5.0, 1e3, 1e-14, 1.0), [{"v1": 0.6}, {"v1": 12.0}]),
    ],
    ids=["divider", "controlled", "nonlinear", "diode"],
)
def test_shared_and_batch_backends_agree(netlist, settings):
    shared = operating_points(netlist, settings, backend="shared")
    batch = operating_points(netlist, settings, backend="batch")
    for a, b in zip(shared, batch, strict=True):
        assert a.voltages.keys() == b.voltages.keys()
        assert a.currents.keys() == b.currents.keys()
        assert max(abs(a.voltages[k] - b.voltages[k]) for k in a.voltages) <= 1e-12
        for name, current in a.currents.items():
            assert b.currents[name] == pytest.approx(current, rel=1e-12, abs=1e-18)


REJECTED = [
    ("bad value\nV1 a 0 1\nR1 a 0 foo\n.end\n", r"Error on line 3 .*unknown parameter \(foo\)"),
    ("bad function\nV1 a 0 1\nB1 a 0 i={frob(v(a))}\n.end\n", r"no such function 'frob'"),
    ("bad subckt\nV1 a 0 1\nX1 a 0 nothere\n.end\n", r"unknown subckt"),
    ("two sources in parallel\nV1 a 0 1\nV2 a 0 2\nR1 a 0 1k\n.end\n", r"aborted"),
]


@pytest.mark.parametrize("backend", ["shared", "batch"])
@pytest.mark.parametrize(("netlist", "message"), REJECTED, ids=["value", "func", "subckt", "op"])
def test_ngspice_errors_quote_ngspice(backend, netlist, message):
    with pytest.raises(NeurosimError, match=message) as raised:
        operating_points(netlist, backend=backend)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("backend", ["shared", "batch"])
def test_unknown_source_in_settings(backend):
    with pytest.raises(NeurosimError, match="no such device or model name vnothere"):
        operating_points(DIVIDER, [{"vnothere": 1.0}], backend=backend)
    with pytest.raises(NeurosimError, match="not the name of an independent"):
        operating_points(DIVIDER, [{"r1": 1.0}], backend=backend)
    with pytest.raises(NeurosimError, match="not a finite number"):
        operating_points(DIVIDER, [{"v1": math.nan}], backend=backend)


def test_batch_timeout():
    with pytest.raises(NeurosimError, match="did not finish within"):
        operating_points(DIVIDER, backend="batch", timeout=1e-3)


def test_shared_backend_is_reusable_quiet_and_clean(capfd, caplog):
    engine = ngspice._shared_ngspice()

    def state():
        with ngspice._quiet_pyspice():
            constants = set(engine.plot(None, "const"))
            return set(engine.plot_names), ngspice._circuit_count(engine), constants

    before = state()
    for netlist, _ in REJECTED:
        with pytest.raises(NeurosimError):
            operating_points(netlist, [{}, {"v1": 2.0}], backend="shared")
    with pytest.raises(NeurosimError):
        operating_points(DIVIDER, [{"v1": 1.0}, {"vnothere": 1.0}], backend="shared")
    assert op(DIVIDER, backend="shared").voltages["b"] == pytest.approx(2.0, rel=1e-14)
    assert state() == before  # no circuit, plot or vector left behind
    assert capfd.readouterr() == ("", "")
    assert not [r for r in caplog.records if r.name.startswith("PySpice")]


def test_missing_ngspice(monkeypatch):
    monkeypatch.setattr(ngspice, "_shared_ngspice", lambda: None)
    assert op(DIVIDER).voltages["b"] == pytest.approx(2.0)  # auto falls back to batch
    with pytest.raises(SimulatorMissingError):
        operating_points(DIVIDER, backend="shared")
    monkeypatch.setattr(ngspice, "_executable", lambda: None)
    assert not ngspice.ngspice_available()
    for backend in ("auto", "shared", "batch"):
        with pytest.raises(SimulatorMissingError) as raised:
            operating_points(DIVIDER, backend=backend)
        assert str(raised.value) == INSTALL_HINT
    with pytest.raises(SimulatorMissingError) as raised:
        ngspice.require_ngspice()
    assert str(raised.value) == INSTALL_HINT
    assert "\n" not in INSTALL_HINT


def test_missing_ngspice_in_a_fresh_process(tmp_path):
    """PySpice cannot find the library and PATH has no ngspice: the one-line error."""
    code = (
        "from neurosim.spice.ngspice import ngspice_available, require_ngspice\n"
        "assert not ngspice_available()\n"
        "require_ngspice()\n"
    )
    env = {**os.environ, "NGSPICE_LIBRARY_PATH": str(tmp_path / "libngspice.so"), "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line == f"neurosim.errors.SimulatorMissingError: {INSTALL_HINT}"
    ngspice.require_ngspice()  # this process still finds it
