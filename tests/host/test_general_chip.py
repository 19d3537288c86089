"""A chip whose added elements the engine cannot fold is settled, trained and sampled on
the general MNA solver: the same answers as the engine where both apply, the exact
gradient where only the general solver does."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.circuit.ir import Element, Model
from neurosim.circuit.junction import GMIN
from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.cli.main import cli
from neurosim.engine.general import GENERAL_SOLVER, equilibrium, solve_settings, source_settings
from neurosim.errors import CircuitError
from neurosim.host import Chip
from neurosim.io.samples_h5 import read_samples
from neurosim.learn.estimators import ep_estimate
from neurosim.lower.crossbar import crossbar_layout
from neurosim.netlist.parse import parse_netlist
from neurosim.netlist.write import write_netlist
from neurosim.network.compile import compile_network
from tests.host.test_chip import classifier, compare, exact_gradient, shapes_of
from tests.networks import random_params

ROOT = Path(__file__).resolve().parents[2]


def with_diode(circuit, saturation: float, node: str = "h_0"):
    """``circuit`` with a diode from ``node`` to ground (model ``dd``, IS ``saturation``)."""
    elements = {**circuit.elements, "dextra": Element("dextra", (node, "0"), 1.0, model="dd")}
    models = {**circuit.models, "dd": Model("dd", "d", (("is", saturation),))}
    return replace(circuit, elements=elements, models=models)


def case(saturation, seed=3, batch=6):
    meta = classifier()
    rng = np.random.default_rng(seed)
    circuit = with_diode(compile_network(meta, random_params(meta, rng, 0.8)), saturation)
    inputs, targets = rng.uniform(-1, 1, (batch, 3)), rng.uniform(-0.8, 0.8, (batch, 2))
    return circuit, inputs, targets


def test_a_circuit_with_a_diode_is_settled_on_the_general_solver_as_written():
    circuit, inputs, _ = case(1e-14)
    chip = Chip(circuit)
    assert chip.general.startswith("element dextra is not part of the crossbar's structure")
    assert GENERAL_SOLVER in chip.note and "dextra" in chip.note
    sources = chip.sources(inputs.shape[0])
    sources.inputs[:] = inputs
    settled = chip.settle(sources)
    assert settled.ok and settled.method == GENERAL_SOLVER
    # the diode conducts: h_0 sits where its current balances the rest of the node's
    vs = circuit.network.scaling.volts_per_unit
    h_0 = chip.free_slices()["h"].start
    assert np.max(settled.state[:, h_0] * vs) < 0.75
    for name in ("energy", "power", "net_current"):
        with pytest.raises(CircuitError, match="settled on the general solver"):
            getattr(chip, name)(sources, settled.state)
    with pytest.raises(CircuitError, match="a released view needs the crossbar engine"):
        chip.release("h")


def test_where_the_diode_is_a_resistor_the_general_solver_is_the_engine():
    """A diode of IS = 1e-40 A passes < 1e-22 A besides its GMIN (1e-12 S, as ngspice):
    it is a 1 TΩ resistor, which the engine folds as a bleed, and the general chip's
    equilibria, EP estimates and programmed circuits are then the engine's."""
    circuit, inputs, targets = case(1e-40)
    general = Chip(circuit)
    elements = {k: v for k, v in circuit.elements.items() if k != "dextra"}
    elements["rgmin"] = Element("rgmin", ("h_0", "0"), 1.0 / GMIN)
    plain = Chip(replace(circuit, elements=elements))
    assert general.general is not None and plain.general is None
    for chip in (general, plain):
        sources = chip.sources(inputs.shape[0])
        sources.inputs[:] = inputs
        free = chip.settle(sources, tolerance=1e-13).raise_if_failed()
        chip.estimate = ep_estimate(
            chip, sources, free.state, "out", targets, 1e-2, tolerance=1e-13
        )
        chip.free_state = free.state
        chip.program({k: -0.1 * g for k, g in chip.estimate.gradients.items()})
    np.testing.assert_allclose(general.free_state, plain.free_state, rtol=0, atol=1e-9)
    for name, gradient in plain.estimate.gradients.items():
        np.testing.assert_allclose(general.estimate.gradients[name], gradient, atol=1e-6)
    after = general.circuit()
    assert after.elements["dextra"] == circuit.elements["dextra"]
    for name, element in plain.circuit().elements.items():
        if name == "rgmin":
            continue
        assert after.elements[name].value == pytest.approx(element.value, rel=1e-8), name


def test_ep_on_the_general_solver_is_that_circuits_exact_gradient():
    """With a conducting diode at a hidden node the EP estimate from the general solver's
    phases matches central differences of the loss of the circuit edited by hand."""
    circuit, inputs, targets = case(1e-14)
    batch = inputs.shape[0]
    layout = crossbar_layout(circuit, leave_out=True)
    scaling = circuit.network.scaling
    chip = Chip(circuit)
    out = chip.free_slices()["out"]

    def loss(c):
        sources = chip.sources(batch)
        sources.inputs[:] = inputs
        points = solve_settings(c, source_settings(layout, scaling, sources))
        state = equilibrium(points, layout.units, scaling).raise_if_failed().state
        return float(np.mean(0.5 * np.sum((state[:, out] - targets) ** 2, axis=1)))

    exact = exact_gradient(circuit, shapes_of(circuit.network), loss)
    sources = chip.sources(batch)
    sources.inputs[:] = inputs
    free = chip.settle(sources).raise_if_failed()
    estimate = ep_estimate(chip, sources, free.state, "out", targets, 1e-2)
    cosine, relative = compare(estimate.gradients, exact)
    assert cosine >= 0.999 and relative <= 2e-2, (cosine, relative)


def test_train_runs_on_the_general_solver_and_keeps_the_diode(tmp_path):
    meta = NetworkMeta(
        "crossbar",
        "scellier_bengio",
        (Layer("in", 2, "input", "linear"), Layer("h", 5, "hidden", "rho"), classifier().layers[2]),
        (("in", "h"), ("h", "out")),
        Scaling(),
    )
    rng = np.random.default_rng(0)
    circuit = with_diode(compile_network(meta, random_params(meta, rng, 0.8)), 1e-14)
    path = write_netlist(circuit, tmp_path / "diode.cir")
    x = rng.uniform(-1, 1, (24, 2))
    np.savez(tmp_path / "data.npz", x=x, labels=(x[:, 0] * x[:, 1] > 0).astype(int))
    out = tmp_path / "run"
    args = ["train", "--netlist", path, "--objective", "classify", "--epochs", "2"]
    args += ["--data", tmp_path / "data.npz", "--out", out]
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("neurosim: note:")]
    assert len(notes) == 1 and GENERAL_SOLVER in notes[0] and "dextra" in notes[0], notes
    before, after = parse_netlist(path), parse_netlist(out / "trained.cir")
    assert after.elements.keys() == before.elements.keys()
    assert after.elements["dextra"] == before.elements["dextra"] and "dd" in after.models
    changed = [n for n, e in before.elements.items() if e != after.elements[n]]
    assert changed and all(n.startswith(("rw", "rb")) for n in changed), changed


def test_a_trainable_element_outside_the_arrays_is_refused_by_name(tmp_path):
    """An added resistor marked trainable has no local update (it joins no row line to a
    column): train names it."""
    text = (ROOT / "netlists/xor.cir").read_text()
    path = tmp_path / "xor_extra.cir"
    text = text.replace("*@neurosim trainable rw* rb*", "*@neurosim trainable rw* rb* rextra")
    path.write_text(text.replace("\n.end", "\nrextra h_0 0 50k\n.end", 1))
    args = ["train", "--netlist", path, "--objective", "classify", "--epochs", "1"]
    result = CliRunner().invoke(cli, [*map(str, args), "--out", str(tmp_path / "run")])
    assert result.exit_code != 0
    assert "rextra" in result.output and "local update" in result.output, result.output


def test_sample_integrates_the_flow_on_the_general_solver(tmp_path):
    layers = (Layer("x", 3, "visible", "linear"), Layer("h", 5, "hidden", "rho"))
    meta = NetworkMeta("crossbar", "scellier_bengio", layers, (("x", "h"),), Scaling(), 15.0)
    rng = np.random.default_rng(1)
    circuit = with_diode(compile_network(meta, random_params(meta, rng, 0.8)), 1e-14)
    path = write_netlist(circuit, tmp_path / "flow_diode.cir")
    out = tmp_path / "s.h5"
    args = ["sample", path, "--n", "4", "--dt", "0.5", "--out", out]
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if line.startswith("neurosim: note:")]
    assert len(notes) == 1 and GENERAL_SOLVER in notes[0], notes
    written = read_samples(out)
    assert written.samples.shape == (4, 3) and np.all(np.isfinite(written.samples))
    assert written.settings["unsettled"] == 0 and "dextra" in written.settings["general_solver"]
    refused = CliRunner().invoke(
        cli, [*map(str, args[:-1]), str(tmp_path / "e.h5"), "--readout", "energy"]
    )
    assert refused.exit_code != 0 and "a clamped view needs the crossbar engine" in refused.output
