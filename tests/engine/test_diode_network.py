"""The resistor–diode family on the circuit-system interface: against ngspice and itself."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.cli.main import cli
from neurosim.engine.diode_network import lower_diode_network
from neurosim.engine.relax import relax
from neurosim.engine.solvers import Anderson, Gradient
from neurosim.engine.system import System
from neurosim.engine.systems import lower_system
from neurosim.errors import CircuitError
from neurosim.netlist.parse import parse_netlist
from neurosim.verify.crosscheck import cross_check

LADDER = """Resistor-diode ladder
.model dl d is=1e-14 n=1.2
.model drs d is=5e-15 rs=20
Vin in 0 dc 2.5
Vb 0 bias dc 0.3
R1 in n1 1k
D1 n1 0 dl
R2 n1 n2 2.2k
D2 n2 bias drs area=2
R3 n2 n3 4.7k
D3 0 n3 dl
R4 n3 0 10k
Ik 0 n3 dc 100u
C1 n2 0 1n
.op
.end
"""


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def ladder(tmp_path, text: str = LADDER):
    path = tmp_path / "ladder.cir"
    path.write_text(text)
    return parse_netlist(path)


def random_ladder(rng: np.random.Generator, stages: int) -> str:
    """A chain of ``stages`` nodes, each with a diode to a bias rail or ground."""
    lines = ["random ladder", ".model dx d is=1e-14 n=1.1", "Vin in 0 dc 1", "Vb bias 0 dc -0.2"]
    previous = "in"
    for k in range(stages):
        lines.append(f"Rs{k} {previous} n{k} {rng.uniform(0.5, 5):.4g}k")
        anode, cathode = (f"n{k}", "bias") if k % 2 else ("0", f"n{k}")
        lines.append(f"D{k} {anode} {cathode} dx")
        lines.append(f"Rg{k} n{k} 0 {rng.uniform(5, 50):.4g}k")
        previous = f"n{k}"
    return "\n".join([*lines, ".op", ".end", ""])


def test_check_settles_the_ladder_on_its_family_and_agrees_with_ngspice(tmp_path):
    circuit = ladder(tmp_path)
    settings = [{}, {"vin": 0.5}, {"vin": -3.0, "ik": 1e-3}, {"vb": -0.7}]
    report = cross_check(circuit, settings)
    assert report.solver.startswith("resistor–diode engine"), report.solver
    assert report.ok and report.max_abs_diff_v <= 1e-9 * report.signal_scale_v, report


def test_a_random_ladder_agrees_with_ngspice_on_a_batch(tmp_path):
    rng = np.random.default_rng(3)
    circuit = ladder(tmp_path, random_ladder(rng, 12))
    settings = [{"vin": v, "vb": b} for v, b in rng.uniform(-2, 2, (16, 2))]
    report = cross_check(circuit, settings)
    assert report.solver.startswith("resistor–diode engine"), report.solver
    assert report.ok and report.max_abs_diff_v <= 1e-9 * report.signal_scale_v, report


def test_check_can_fail_on_the_family(tmp_path, monkeypatch):
    """A drifted resistor on neurosim's side only is caught."""
    from neurosim.engine import systems

    circuit = ladder(tmp_path)

    def drifted(c):
        copy = type(c)(**{**c.__dict__, "elements": dict(c.elements)})
        copy.set_value("r2", c.elements["r2"].value * 1.001)
        return lower_diode_network(copy)

    monkeypatch.setitem(systems.FAMILIES, "resistor–diode", drifted)
    report = cross_check(circuit, [{}])
    assert report.solver.startswith("resistor–diode") and not report.ok


def test_the_field_its_derivatives_and_energy_agree(tmp_path):
    network = lower_diode_network(ladder(tmp_path))
    assert isinstance(network, System) and network.has_energy
    assert network.labels() == ["n1", "n2", "n3", "d2#internal"]
    sources = network.sources_from_settings([{}, {"vin": -1.0}, {"ik": 2e-3}])
    rng = np.random.default_rng(0)
    state = rng.uniform(-1.0, 0.7, (3, network.free))
    direction = rng.standard_normal(state.shape)
    h = 1e-7
    field = network.field(sources, state)
    numeric = (
        network.field(sources, state + h * direction)
        - network.field(sources, state - h * direction)
    ) / (2 * h)
    jvp = network.jvp(sources, state, direction)
    np.testing.assert_allclose(jvp, numeric, rtol=1e-6, atol=1e-6 * np.abs(field).max())
    unit = np.zeros_like(state)
    unit[:, 1] = 1.0
    np.testing.assert_allclose(
        network.diagonal(sources, state)[:, 1], -network.jvp(sources, state, unit)[:, 1]
    )
    slope = (
        network.energy(sources, state + h * direction)
        - network.energy(sources, state - h * direction)
    ) / (2 * h)
    np.testing.assert_allclose(slope, -np.sum(field * direction, 1), rtol=1e-6)


def test_both_solvers_reach_the_same_equilibrium(tmp_path):
    network = lower_diode_network(ladder(tmp_path, random_ladder(np.random.default_rng(1), 6)))
    sources = network.sources_from_settings([{"vin": v} for v in np.linspace(-3, 3, 7)])
    fast = relax(network, sources, solver=Anderson(), tolerance=1e-11, max_passes=20_000)
    plain = relax(network, sources, solver=Gradient(), tolerance=1e-11, max_passes=200_000)
    np.testing.assert_allclose(fast.state, plain.state, atol=1e-9)
    assert fast.total_passes < plain.total_passes


@pytest.mark.parametrize(
    "line, reason",
    [
        ("E1 x 0 n1 0 2\nRx x 0 1k", "e1: not a resistor–diode element"),
        ("V2 n1 n2 dc 1", "v2: a floating voltage source"),
        ("Rf f1 f2 1k\nCf f1 0 1n\nCg f2 0 1n", "node 'f1' has no DC path"),
        ("V3 in 0 dc 1", "v3: closes a loop of voltage sources"),
    ],
)
def test_what_is_not_in_the_family_is_named(tmp_path, line, reason):
    text = LADDER.replace(".op", line + "\n.op")
    with pytest.raises(CircuitError, match=reason):
        lower_system(ladder(tmp_path, text))


def test_relax_and_check_commands_take_the_ladder(tmp_path):
    import h5py

    path = tmp_path / "ladder.cir"
    path.write_text(LADDER)
    rows = tmp_path / "rows.npy"
    np.save(rows, np.array([[2.5, 0.3, 1e-4], [0.5, 0.3, 1e-4]]))
    out = tmp_path / "eq.h5"
    result = run("relax", path, "--inputs", rows, "--out", out, "--tol", "1e-12")
    assert result.exit_code == 0, result.output
    assert "2/2 converged" in result.output
    with h5py.File(out) as handle:
        assert list(handle.attrs["sources"]) == ["vin", "vb", "ik"]
        volts = {name: handle["voltages"][name][()] for name in handle["voltages"]}
        assert handle["status"][()].tolist() == [0, 0]
    described = json.loads(run("info", out, "--json").output)
    assert described["family"] == "resistor–diode" and described["sources"] == "vin, vb, ik"
    assert json.loads(run("info", path, "--json").output)["engine"] == "resistor–diode engine"
    check = run("check", path, "--json")
    assert check.exit_code == 0, check.output
    report = json.loads(check.output)
    assert report["ok"] and report["solver"].startswith("resistor–diode engine")
    circuit = ladder(tmp_path)
    direct = cross_check(circuit, [{}])
    assert direct.ok
    network = lower_diode_network(circuit)
    state = relax(network, network.sources_from_settings([{}]), tolerance=1e-12).state
    assert volts["n2"][0] == pytest.approx(
        network.node_voltages(network.sources_from_settings([{}]), state)["n2"][0], abs=1e-9
    )
