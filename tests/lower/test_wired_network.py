"""Networks whose two arrays differ — wire resistance (IR drop), device mismatch: the
engine settles the netlist itself, as ngspice does, before and after its devices are
programmed (training: ``tests/host/test_host_training.py``)."""

from pathlib import Path

import numpy as np
import pytest

from neurosim.circuit.inputs import input_width
from neurosim.engine.energy import dissipated_power
from neurosim.engine.readout import node_voltages
from neurosim.engine.relax import relax
from neurosim.engine.sources import default_sources, sources_from_settings
from neurosim.host import Chip
from neurosim.lower.crossbar import lower_crossbar
from neurosim.netlist.parse import parse_netlist_text
from neurosim.netlist.write import netlist_text
from neurosim.network.compile import compile_network
from neurosim.spice.ngspice import operating_points
from neurosim.verify.crosscheck import cross_check, settings_for_inputs
from tests.networks import random_params, small_network

ROOT = Path(__file__).resolve().parents[2]


def wired(law="scellier_bengio", hidden="rho", topology="layered", ohms=50.0, seed=1):
    meta = small_network(law, hidden, spring=2.0, topology=topology)
    params = random_params(meta, np.random.default_rng(seed), gain=0.6)
    circuit = compile_network(meta, params, wire_resistance=ohms)
    return parse_netlist_text(netlist_text(circuit)), meta, params


def fast_against_ngspice(circuit, settings) -> float:
    """max |V_ngspice − V_neurosim| [V] over the unit nodes, neurosim's default (fast)
    path at a tight tolerance against ngspice's ``.op``."""
    crossbar = lower_crossbar(circuit)
    sources = sources_from_settings(crossbar, settings)
    eq = relax(crossbar, sources, tolerance=1e-12).raise_if_failed()
    assert eq.method == "anderson" and not eq.followed.any()  # the accelerated path
    ours = node_voltages(crossbar, sources, eq.state)
    theirs = operating_points(netlist_text(circuit), settings, backend="shared")
    return max(
        abs(point.voltages[unit] - ours[unit][n])
        for n, point in enumerate(theirs)
        for unit in crossbar.layout.units
    )


@pytest.mark.parametrize(
    ("law", "hidden", "topology"),
    [("scellier_bengio", "rho", "layered"), ("scellier_bengio", "tanh", "deep")],
)
def test_a_wired_netlist_settles_where_ngspice_settles(law, hidden, topology):
    circuit, meta, params = wired(law, hidden, topology)
    assert any(name.startswith("rh") for name in circuit.elements)
    inputs = np.random.default_rng(4).uniform(-1, 1, (3, input_width(meta)))
    settings = settings_for_inputs(meta, inputs)
    report = cross_check(circuit, settings)
    assert report.solver.startswith("crossbar engine"), report.solver
    assert "wired arrays reduced" in report.solver
    assert report.ok and report.max_abs_diff_v <= 1e-6 * report.signal_scale_v, report
    assert fast_against_ngspice(circuit, settings) <= 1e-6 * report.signal_scale_v
    # the wires matter: the ideal circuit of the same devices settles elsewhere
    ideal = lower_crossbar(compile_network(meta, params))
    cb = lower_crossbar(circuit)
    drop = relax(cb, sources_from_settings(cb, settings), tolerance=1e-12).state
    clean = relax(ideal, sources_from_settings(ideal, settings), tolerance=1e-12).state
    assert np.max(np.abs(drop - clean)) > 1e-3


@pytest.mark.parametrize(("law", "hidden"), [("scellier_bengio", "rho"), ("hopfield", "tanh")])
def test_a_mismatched_netlist_settles_where_ngspice_settles(law, hidden):
    """5% spread between each coupling's two arrays, with and without wires."""
    for ohms in (0.0, 50.0):
        circuit, meta, _ = wired(law, hidden, ohms=ohms, seed=3)
        rng = np.random.default_rng(7)
        for name in [n for n in circuit.elements if n.startswith("rw") and "b_" in n]:
            circuit.set_value(name, circuit.elements[name].value * (1 + 0.05 * rng.normal()))
        assert not lower_crossbar(circuit).symmetric()
        inputs = np.random.default_rng(5).uniform(-1, 1, (3, input_width(meta)))
        settings = settings_for_inputs(meta, inputs)
        report = cross_check(circuit, settings)  # the arbiter: the circuit's own dynamics
        assert report.solver.startswith("crossbar engine (gradient"), report.solver
        assert report.ok and report.max_abs_diff_v <= 1e-6 * report.signal_scale_v, report
        assert fast_against_ngspice(circuit, settings) <= 1e-6 * report.signal_scale_v


def test_programmed_devices_are_reduced_again_and_agree_with_ngspice():
    circuit, _, _ = wired(ohms=200.0)
    chip = Chip(circuit)
    rng = np.random.default_rng(2)
    chip.program(
        {name: rng.normal(0, 0.2, value.shape) for name, value in chip.parameters().items()}
    )
    programmed = chip.circuit()
    fresh = lower_crossbar(programmed)
    sources = default_sources(fresh, 1)
    eq = chip.settle(sources, tolerance=1e-13).raise_if_failed()
    again = relax(fresh, sources, tolerance=1e-13).raise_if_failed()
    np.testing.assert_allclose(eq.state, again.state, rtol=0, atol=1e-11)
    ours = node_voltages(fresh, sources, eq.state)
    (theirs,) = operating_points(netlist_text(programmed), [{}], backend="shared")
    vs = fresh.meta.scaling.volts_per_unit
    for unit in fresh.layout.units:
        assert abs(theirs.voltages[unit] - ours[unit][0]) <= 1e-6 * vs
    # the dissipated power (row power matrix of the reduced arrays) is Σ V²/R over every
    # resistor of the netlist, wires included, at ngspice's node voltages
    volts = {**theirs.voltages, "0": 0.0}
    heat = sum(
        (volts[e.nodes[0]] - volts[e.nodes[1]]) ** 2 / e.value
        for e in programmed.elements.values()
        if e.kind == "r"
    )
    assert dissipated_power(fresh, sources, eq.state)[0] == pytest.approx(heat, rel=1e-9)
