"""neurosim's DC solutions against ngspice's .op on the exported netlists.

These run ngspice for real (CI installs it); they are never skipped.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import neurosim.verify.crosscheck as crosscheck
from neurosim.circuit.drive import Drive
from neurosim.circuit.inputs import drive_settings, input_width
from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.cli.main import cli
from neurosim.errors import CircuitError
from neurosim.netlist.parse import parse_netlist
from neurosim.netlist.write import write_netlist
from neurosim.network.compile import compile_network
from neurosim.network.model import init_params
from neurosim.verify.crosscheck import cross_check, settings_for_inputs
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/netlist/fixtures"


def random_network(seed: int) -> NetworkMeta:
    rng = np.random.default_rng(seed)
    law = ["scellier_bengio", "hopfield"][seed % 2]
    hidden = "tanh" if law == "hopfield" else rng.choice(["rho", "tanh"])
    layers = (
        Layer("in", int(rng.integers(1, 4)), "input", "linear"),
        Layer("x", int(rng.integers(2, 6)), "visible", "linear"),
        Layer("h", int(rng.integers(3, 9)), "hidden", str(hidden)),
        Layer("o", int(rng.integers(1, 4)), "output", "tanh"),
    )
    scaling = Scaling(
        volts_per_unit=float(rng.uniform(0.05, 0.5)),
        g_unit=float(rng.uniform(1e-5, 1e-4)),
        g_min=1e-6,
        tau=1e-6,
    )
    couplings = (("in", "h"), ("x", "h"), ("h", "o"))
    return NetworkMeta("crossbar", law, layers, couplings, scaling, float(rng.uniform(0.5, 3)))


@pytest.mark.parametrize("seed", range(6))
def test_random_compiled_networks_match_ngspice(tmp_path, seed):
    meta = random_network(seed)
    rng = np.random.default_rng(100 + seed)
    params = init_params(meta, rng, gain=0.7)
    for name in params:
        if name.startswith("b_"):
            params[name] = rng.normal(0, 0.3, params[name].shape)
    # Through the file, as a user would: write, parse back, check.
    path = write_netlist(compile_network(meta, params), tmp_path / "net.cir")
    circuit = parse_netlist(path)
    inputs = rng.uniform(-1, 1, (3, input_width(meta)))
    report = cross_check(circuit, settings_for_inputs(meta, inputs))
    assert report.ok, report
    assert report.max_abs_diff_v <= 1e-6 * meta.scaling.volts_per_unit
    assert set(report.groups) >= {"x", "h", "o", "in", "internal"}
    assert report.solver.startswith("crossbar engine")


def chain_report(tmp_path: Path, seed: int):
    """Check a random digits-like chain (spring on x, two hidden layers, nudged output),
    ±nudge, either law, with random device edits: the engine against ngspice."""
    rng = np.random.default_rng(200 + seed)
    law = ["scellier_bengio", "hopfield"][seed % 2]
    hidden = "rho" if law == "scellier_bengio" else "tanh"
    layers = (
        Layer("x", int(rng.integers(3, 9)), "visible", "linear"),
        Layer("h1", int(rng.integers(4, 12)), "hidden", hidden),
        Layer("h2", int(rng.integers(4, 12)), "hidden", hidden),
        Layer("y", int(rng.integers(1, 4)), "output", "tanh"),
    )
    couplings = (("x", "h1"), ("h1", "h2"), ("h2", "y"))
    meta = NetworkMeta("crossbar", law, layers, couplings, Scaling(), float(rng.uniform(1, 15)))
    params = init_params(meta, rng, gain=0.7)
    circuit = compile_network(meta, params)
    for name in [n for n in circuit.elements if n.startswith("rw")][:: int(rng.integers(5, 9))]:
        circuit.set_value(name, circuit.elements[name].value * rng.uniform(0.9, 1.1))
    path = write_netlist(circuit, tmp_path / "chain.cir")
    circuit = parse_netlist(path)
    nudge = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.05, 0.5))
    drive = Drive(
        targets={"x": rng.uniform(-1, 1, (3, layers[0].size))},
        nudge_targets={"y": rng.uniform(-1, 1, (3, layers[3].size))},
        nudge_strength=nudge,
    )
    return meta, cross_check(circuit, drive_settings(meta, drive))


@pytest.mark.parametrize("seed", range(4))
def test_random_layered_chains_with_nudges_match_ngspice(tmp_path, seed):
    meta, report = chain_report(tmp_path, seed)
    assert report.ok and report.solver.startswith("crossbar engine"), report
    assert report.max_abs_diff_v <= 1e-6 * meta.scaling.volts_per_unit


def test_ngspices_transient_decides_when_its_op_finds_another_equilibrium(tmp_path):
    """Chain seed 1 has several equilibria: for one input ngspice's .op lands on another
    one; ngspice's own transient from rest settles where neurosim does. Seed 0 needs no
    retry."""
    assert chain_report(tmp_path, 1)[1].settled_retries == 1
    assert chain_report(tmp_path, 0)[1].settled_retries == 0


@pytest.mark.parametrize("name", ["divider.cir", "ladder.cir", "clamp.cir"])
def test_hand_written_netlists_match_ngspice(name):
    report = cross_check(parse_netlist(FIXTURES / name), [{}])
    assert report.ok and report.max_abs_diff_v <= 1e-9 * report.signal_scale_v, report


@pytest.mark.parametrize("lowering", ["lower_crossbar", "lower_dc"])
def test_a_wrong_solver_is_caught(monkeypatch, lowering):
    """The check can fail: perturb one device on neurosim's side only (either solver)."""
    circuit = parse_netlist(ROOT / "netlists/xor.cir")
    settings = settings_for_inputs(circuit.network, np.array([[0.7, -0.4]]))
    original = getattr(crosscheck, lowering)

    def lower_with_drift(c):
        drifted = type(c)(**{**c.__dict__, "elements": dict(c.elements)})
        drifted.set_value("rw0f_0_0p", c.elements["rw0f_0_0p"].value * 1.001)
        return original(drifted)

    monkeypatch.setattr(crosscheck, lowering, lower_with_drift)
    if lowering == "lower_dc":  # force the general solver
        monkeypatch.setattr(crosscheck, "lower_crossbar", _not_a_crossbar)
    report = cross_check(circuit, settings)
    assert not report.ok and report.max_abs_diff_v > report.tolerance_v
    assert report.solver.startswith("crossbar" if lowering == "lower_crossbar" else "general")


def test_a_large_node_does_not_hide_a_small_nodes_error(monkeypatch, tmp_path):
    """A 100 kV node makes the signal scale 1e5 V (tolerance 0.1 V); a 25 µV error on a
    0.5 V node is still caught: each node is also held to its own |V|."""
    netlist = tmp_path / "wide.cir"
    netlist.write_text("wide\nv1 1 0 100k\nr1 1 0 1k\nv2 2 0 1\nr2 2 3 1k\nr3 3 0 1k\n.end\n")
    circuit = parse_netlist(netlist)
    assert cross_check(circuit, [{}]).ok
    original = crosscheck.lower_dc

    def lower_with_drift(c):
        drifted = type(c)(**{**c.__dict__, "elements": dict(c.elements)})
        drifted.set_value("r2", c.elements["r2"].value * 1.0001)
        return original(drifted)

    monkeypatch.setattr(crosscheck, "lower_dc", lower_with_drift)
    monkeypatch.setattr(crosscheck, "lower_system", _not_a_crossbar)  # the general solver
    report = cross_check(circuit, [{}])
    # the old, global rule alone would pass it
    assert 1e-5 < report.max_abs_diff_v < report.tolerance_v
    assert not report.ok and report.node_relative > 1e-6


def _not_a_crossbar(circuit):
    raise CircuitError("forced onto the general solver")


def test_digits_network_check_cli_json():
    """The shipped 24,896-parameter netlist agrees with ngspice (one random input)."""
    netlist = ROOT / "netlists/digits_flow.cir"
    result = CliRunner().invoke(cli, ["check", str(netlist), "--count", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["tolerance_v"] == pytest.approx(1e-7)
    assert report["max_abs_diff_v"] <= 1e-7
    assert report["groups"]["x"]["nodes"] == 64 and report["groups"]["h2"]["nodes"] == 128


def test_check_cli_exit_codes_and_input_errors(tmp_path):
    netlist = str(ROOT / "netlists/xor.cir")
    runner = CliRunner()
    ok = runner.invoke(cli, ["check", netlist])
    assert ok.exit_code == 0 and "OK" in ok.output
    strict = runner.invoke(cli, ["check", netlist, "--rtol", "1e-30"])
    assert strict.exit_code == 1 and "MISMATCH" in strict.output
    np.save(tmp_path / "wide.npy", np.zeros((2, 5)))
    wide = runner.invoke(cli, ["check", netlist, "--inputs", str(tmp_path / "wide.npy")])
    assert_one_line_error(wide, "shape (n, 2)")
    np.save(tmp_path / "nan.npy", np.array([[np.nan, 0.0]]))
    nan = runner.invoke(cli, ["check", netlist, "--inputs", str(tmp_path / "nan.npy")])
    assert_one_line_error(nan, "NaN")
    np.save(tmp_path / "good.npy", np.array([[0.5, -0.5], [1.0, 1.0]]))
    good = runner.invoke(cli, ["check", netlist, "--inputs", str(tmp_path / "good.npy")])
    assert good.exit_code == 0 and "2 operating point(s)" in good.output


@pytest.mark.parametrize("backend", ["shared", "batch"])
def test_progress_is_reported_for_every_operating_point(backend):
    circuit = parse_netlist(ROOT / "netlists/xor.cir")
    settings = settings_for_inputs(circuit.network, np.array([[0.1, 0.2], [0.3, -0.4], [1, 1]]))
    ticks = []
    report = cross_check(circuit, settings, backend=backend, progress=lambda: ticks.append(1))
    assert report.ok and len(ticks) == 2 * len(settings)


def test_chained_powers_read_as_ngspice_reads_them(tmp_path):
    """ngspice's ^ is left associative in B sources: 2^3^2 = 64."""
    netlist = tmp_path / "pow.cir"
    netlist.write_text(
        "pow\nvc c 0 dc 2\nb1 o 0 v={v(c)^3^2 + 2^-1}\nr1 o 0 1k\n.end\n", encoding="utf-8"
    )
    circuit = parse_netlist(netlist)
    report = cross_check(circuit, [{}])
    assert report.ok and report.signal_scale_v == pytest.approx(64.5)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.array([["a", "b"]]), "real numbers"),
        (np.zeros((0, 2)), "no rows"),
        (np.array([[1 + 2j, 0]]), "real numbers"),
    ],
)
def test_check_rejects_unusable_input_arrays(tmp_path, array, message):
    np.save(tmp_path / "in.npy", array)
    result = CliRunner().invoke(
        cli, ["check", str(ROOT / "netlists/xor.cir"), "--inputs", str(tmp_path / "in.npy")]
    )
    assert_one_line_error(result, message)
