"""A deep resistive network: netlist vs ngspice, its host's equilibria and EP against
the exact gradient (central differences of the loss of the circuit edited by hand)."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.circuit.resistive import device_names
from neurosim.cli.main import cli
from neurosim.engine.general import solve_settings
from neurosim.host.resistive import ResistiveChip
from neurosim.learn.estimators import ep_estimate
from neurosim.netlist.parse import parse_netlist, parse_netlist_text
from neurosim.netlist.write import netlist_text, write_netlist
from neurosim.network.resistive import compile_resistive, init_resistive, read_resistive
from neurosim.verify.crosscheck import cross_check, settings_for_inputs

ROOT = Path(__file__).resolve().parents[2]
TOL = 1e-12


def network(hidden: int = 5) -> NetworkMeta:
    layers = (
        Layer("in", 3, "input", "linear"),
        Layer("h", hidden, "hidden", "linear"),
        Layer("out", 2, "output", "linear"),
    )
    scaling = Scaling(volts_per_unit=1.0, g_unit=1e-5, g_min=1e-7, tau=1e-6)
    return NetworkMeta("resistive", "co_content", layers, (("in", "h"), ("h", "out")), scaling)


def case(seed=0, batch=6):
    meta = network()
    rng = np.random.default_rng(seed)
    circuit = compile_resistive(meta, init_resistive(meta, rng))
    inputs, targets = rng.uniform(-1, 1, (batch, 3)), rng.uniform(-0.3, 0.3, (batch, 2))
    return circuit, inputs, targets


def test_the_netlist_reads_back_and_agrees_with_ngspice():
    circuit, inputs, _ = case()
    back = parse_netlist_text(netlist_text(circuit))
    params = read_resistive(circuit)
    assert all(np.array_equal(read_resistive(back)[k], params[k]) for k in params)
    report = cross_check(back, settings_for_inputs(back.network, inputs))
    assert report.solver.startswith("resistor–diode engine"), report.solver
    assert report.ok and report.max_abs_diff_v <= 1e-6 * report.signal_scale_v, report


def test_the_chip_settles_as_the_general_solver_and_the_diodes_clip():
    circuit, inputs, _ = case()
    chip = ResistiveChip(circuit)
    sources = chip.sources(inputs.shape[0])
    sources.inputs[:] = 4 * inputs  # driven hard: the hidden units clip
    settled = chip.settle(sources, tolerance=TOL).raise_if_failed()
    settings = settings_for_inputs(circuit.network, 4 * inputs)
    points = solve_settings(circuit, settings)  # vs = 1 V: states are volts
    reference = np.array(
        [
            [v[f"h_{i}"] for i in range(5)]
            + [v[f"out_{k}_p"] - v[f"out_{k}_n"] for k in range(2)]
            + [v[f"out_{k}_n"] for k in range(2)]
            for v in (p.voltages for p in points)
        ]
    )
    np.testing.assert_allclose(settled.state, reference, rtol=0, atol=1e-9)
    hidden = settled.state[:, chip.free_slices()["h"]]
    assert 0.3 < np.max(np.abs(hidden)) < 0.6  # a diode's knee, though inputs reach 4 V


def shifted(circuit, name, h):
    """``circuit`` with parameter ``name``'s entry moved by h (θ = G/g_unit), by hand."""
    meta = circuit.network
    names = device_names(meta)[name]
    g_unit = meta.scaling.g_unit

    def apply(index):
        flat = int(np.ravel_multi_index(index, read_resistive(circuit)[name].shape))
        element = circuit.elements[names[flat]]
        g = 1.0 / element.value + h * g_unit
        return replace(
            circuit, elements={**circuit.elements, element.name: replace(element, value=1.0 / g)}
        )

    return apply


def test_ep_is_the_exact_gradient_of_the_output_cost():
    circuit, inputs, targets = case(seed=3)
    batch = inputs.shape[0]

    def loss(c):
        chip = ResistiveChip(c)
        sources = chip.sources(batch)
        sources.inputs[:] = inputs
        state = chip.settle(sources, tolerance=TOL).raise_if_failed().state
        out = state[:, chip.free_slices()["out"]]
        return float(np.mean(0.5 * np.sum((out - targets) ** 2, axis=1)))

    exact = {}
    for name, value in read_resistive(circuit).items():
        grad = np.zeros(value.shape)
        for index in np.ndindex(value.shape):
            up, down = shifted(circuit, name, 1e-6)(index), shifted(circuit, name, -1e-6)(index)
            grad[index] = (loss(up) - loss(down)) / 2e-6
        exact[name] = grad
    chip = ResistiveChip(circuit)
    sources = chip.sources(batch)
    sources.inputs[:] = inputs
    free = chip.settle(sources, tolerance=TOL).raise_if_failed()
    estimate = ep_estimate(chip, sources, free.state, "out", targets, 1e-3, tolerance=TOL)
    a = np.concatenate([estimate.gradients[k].ravel() for k in sorted(exact)])
    b = np.concatenate([exact[k].ravel() for k in sorted(exact)])
    cosine = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    assert cosine >= 0.999 and np.linalg.norm(a - b) <= 1e-2 * np.linalg.norm(b), cosine


def test_programming_is_the_circuit_written_back():
    circuit, inputs, _ = case(seed=5)
    chip = ResistiveChip(circuit)
    rng = np.random.default_rng(0)
    chip.program({k: rng.normal(0, 0.05, v.shape) for k, v in chip.parameters().items()})
    params = chip.parameters()
    assert all(np.all((p >= 1e-7 / 1e-5) & (p <= 1.0)) for p in params.values())
    again = ResistiveChip(parse_netlist_text(netlist_text(chip.circuit())))
    for k, v in again.parameters().items():
        np.testing.assert_allclose(v, params[k], rtol=1e-12)
    for c in (chip, again):
        sources = c.sources(inputs.shape[0])
        sources.inputs[:] = inputs
        c.state = c.settle(sources, tolerance=TOL).raise_if_failed().state
    np.testing.assert_allclose(chip.state, again.state, rtol=0, atol=1e-9)
    with pytest.raises(KeyError):
        chip.program({"w9": np.zeros(1)})


def test_the_shipped_digits_network_agrees_with_ngspice():
    circuit = parse_netlist(ROOT / "netlists/digits_drn.cir")
    inputs = np.random.default_rng(0).uniform(-1, 1, (2, 64))
    report = cross_check(circuit, settings_for_inputs(circuit.network, inputs))
    assert report.solver.startswith("resistor–diode engine"), report.solver
    assert report.ok and report.max_abs_diff_v <= 1e-6 * report.signal_scale_v, report


def test_train_classifies_with_a_resistive_network(tmp_path):
    meta = network(hidden=6)
    rng = np.random.default_rng(2)
    path = write_netlist(compile_resistive(meta, init_resistive(meta, rng)), tmp_path / "n.cir")
    x = rng.uniform(-1, 1, (40, 3))
    np.savez(tmp_path / "data.npz", x=x, labels=(x[:, 0] + x[:, 1] > 0).astype(int))
    out = tmp_path / "run"
    args = ["train", "--netlist", path, "--objective", "classify", "--epochs", "3"]
    args += ["--data", tmp_path / "data.npz", "--lr", "0.02", "--beta", "0.1", "--out", out]
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    before, after = parse_netlist(path), parse_netlist(out / "trained.cir")
    changed = [n for n, e in before.elements.items() if e != after.elements[n]]
    assert changed and all(n.startswith(("rw", "rb")) for n in changed)
    history = json.loads((out / "metrics.json").read_text())
    assert history, history
    flow = CliRunner().invoke(cli, ["train", "--netlist", str(path), "--out", str(tmp_path / "f")])
    assert flow.exit_code != 0 and "trains with --objective classify" in flow.output
