"""Oscillator Ising machines: the field is the energy's gradient, the Jacobian the
field's, and the engine settles where ngspice's transient of the exported netlist ends
from the same start (its capacitors' ic)."""

import numpy as np
import pytest

from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.engine.oscillator import lower_oscillator
from neurosim.engine.relax import relax
from neurosim.engine.solvers import Gradient
from neurosim.errors import CircuitError
from neurosim.netlist.parse import parse_netlist_text
from neurosim.netlist.write import netlist_text
from neurosim.network.oscillator import SETTLE_TAUS, compile_oscillator, init_oscillator
from neurosim.spice.ngspice import transients
from neurosim.verify.crosscheck import settings_for_inputs


def network() -> NetworkMeta:
    layers = (
        Layer("in", 3, "input", "linear"),
        Layer("h", 5, "hidden", "linear"),
        Layer("out", 2, "output", "linear"),
    )
    scaling = Scaling(volts_per_unit=0.1, g_unit=1e-5, g_min=1e-7, tau=1e-6)
    return NetworkMeta("oscillator", "phase", layers, (("in", "h"), ("h", "out")), scaling)


def case(seed=0):
    meta = network()
    rng = np.random.default_rng(seed)
    params = init_oscillator(meta, rng, gain=1.5)
    params["b_h"] = rng.normal(0, 0.3, 5)
    params["k_out"] = rng.uniform(0, 0.5, 2)
    circuit = parse_netlist_text(netlist_text(compile_oscillator(meta, params)))
    return circuit, params, rng


def sources_for(system, rng, batch=4, nudge=0.3):
    sources = system.sources_from_settings([{}] * batch)
    sources.inputs[:] = rng.uniform(-1, 1, sources.inputs.shape)
    sources.nudge[-2:] = nudge
    sources.nudge_targets[:, -2:] = rng.uniform(-1, 1, (batch, 2))
    return sources


def test_the_netlist_reads_back_its_parameters():
    circuit, params, _ = case()
    system = lower_oscillator(circuit)
    np.testing.assert_allclose(system.couplings[5:, :5], params["w1"].T, rtol=1e-14)
    np.testing.assert_allclose(system.couplings, system.couplings.T)
    np.testing.assert_allclose(system.input_couplings[:, :5], params["w0"], rtol=1e-14)
    np.testing.assert_allclose(system.locking[5:], params["k_out"], rtol=1e-14)


def test_the_field_descends_the_energy_and_the_jacobian_is_its_derivative():
    circuit, _, rng = case()
    system = lower_oscillator(circuit)
    sources = sources_for(system, rng)
    state = rng.uniform(-np.pi, np.pi, (4, system.free))
    h = 1e-6
    grad = np.zeros_like(state)
    jac = np.zeros((4, system.free, system.free))
    for k in range(system.free):
        step = np.zeros(system.free)
        step[k] = h
        up, down = state + step, state - step
        grad[:, k] = (system.energy(sources, up) - system.energy(sources, down)) / (2 * h)
        jac[:, :, k] = (system.field(sources, up) - system.field(sources, down)) / (2 * h)
    np.testing.assert_allclose(system.field(sources, state), -grad, atol=1e-8)
    np.testing.assert_allclose(system.jacobian(sources, state), jac, atol=1e-7)
    v = rng.normal(size=state.shape)
    expected = np.einsum("bij,bj->bi", system.jacobian(sources, state), v)
    np.testing.assert_allclose(system.jvp(sources, state, v), expected, atol=1e-12)


def test_the_engine_settles_where_ngspice_transient_ends():
    circuit, _, rng = case(seed=2)
    system = lower_oscillator(circuit)
    inputs = rng.uniform(-1, 1, (2, 3))
    settings = settings_for_inputs(circuit.network, inputs)
    sources = system.sources_from_settings(settings)
    start = np.tile(system.start, (2, 1))
    settled = relax(system, sources, solver=Gradient(), start=start, tolerance=1e-12)
    assert settled.ok, settled.summary()
    assert system.stable(sources, settled.state).all()
    tau = circuit.network.scaling.tau
    text = netlist_text(circuit)
    runs = transients(text, settings, tstop=SETTLE_TAUS * tau, tstep=tau / 20, tmax=tau / 20)
    vs = circuit.network.scaling.volts_per_unit
    for row, run in enumerate(runs):
        theirs = np.array([run.voltages[u][-1] for u in system.units]) / vs
        assert np.max(np.abs(theirs - settled.state[row])) < 1e-6, (theirs, settled.state[row])


def test_a_source_that_is_not_the_template_is_refused_by_name():
    circuit, _, _ = case()
    text = netlist_text(circuit).replace("sin(2 * (v(out_0) / 0.1))", "cos(2 * (v(out_0) / 0.1))")
    with pytest.raises(CircuitError, match="bk_out_0: not the oscillator network's locking source"):
        lower_oscillator(parse_netlist_text(text))


def test_check_compares_with_ngspice_transient(tmp_path):
    from click.testing import CliRunner

    from neurosim.cli.main import cli
    from neurosim.netlist.write import write_netlist

    circuit, _, _ = case(seed=4)
    path = write_netlist(circuit, tmp_path / "oim.cir")
    result = CliRunner().invoke(cli, ["check", str(path), "--count", "2", "--json"])
    assert result.exit_code == 0, result.output
    import json

    report = json.loads(result.output)
    assert report["solver"].startswith("oscillator engine") and report["ok"], report
    assert report["max_abs_diff_v"] <= 1e-6 * report["signal_scale_v"], report


def test_ep_on_the_oscillators_is_the_exact_gradient():
    """The EP estimate from phase correlations against central differences of the
    output cost ½‖cos φ_out − t‖² of circuits compiled afresh (the same start)."""
    from neurosim.host.oscillator import OscillatorChip
    from neurosim.learn.estimators import ep_estimate

    meta = network()
    rng = np.random.default_rng(7)
    params = init_oscillator(meta, rng, gain=1.5)
    params["b_h"] = rng.normal(0, 0.3, 5)
    params["k_out"] = rng.uniform(0, 0.5, 2)
    inputs, targets = rng.uniform(-1, 1, (4, 3)), rng.uniform(-0.8, 0.8, (4, 2))
    tol = dict(tolerance=1e-12, max_passes=100_000)

    def loss(p):
        chip = OscillatorChip(compile_oscillator(meta, p))
        sources = chip.sources(4)
        sources.inputs[:] = inputs
        state = chip.settle(sources, **tol).raise_if_failed().state
        return float(np.mean(0.5 * np.sum((chip.read(state, "out") - targets) ** 2, axis=1)))

    exact = {}
    for name, value in params.items():
        grad = np.zeros(value.shape)
        for index in np.ndindex(value.shape):
            up = {k: v.copy() for k, v in params.items()}
            down = {k: v.copy() for k, v in params.items()}
            up[name][index] += 1e-6
            down[name][index] -= 1e-6
            grad[index] = (loss(up) - loss(down)) / 2e-6
        exact[name] = grad
    chip = OscillatorChip(compile_oscillator(meta, params))
    sources = chip.sources(4)
    sources.inputs[:] = inputs
    free = chip.settle(sources, **tol).raise_if_failed()
    assert lower_oscillator(chip.circuit()).stable(sources, free.state).all()
    estimate = ep_estimate(chip, sources, free.state, "out", targets, 1e-3, **tol)
    a = np.concatenate([estimate.gradients[k].ravel() for k in sorted(exact)])
    b = np.concatenate([exact[k].ravel() for k in sorted(exact)])
    cosine = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    assert cosine >= 0.999 and np.linalg.norm(a - b) <= 1e-2 * np.linalg.norm(b), cosine
    chip.program({k: 0.1 * g for k, g in estimate.gradients.items()})
    again = OscillatorChip(parse_netlist_text(netlist_text(chip.circuit())))
    for k, v in chip.parameters().items():
        np.testing.assert_allclose(again.parameters()[k], v, rtol=1e-12, atol=1e-15)


def test_train_classifies_with_oscillators_and_writes_the_programmed_sources(tmp_path):
    import json

    from click.testing import CliRunner

    from neurosim.cli.main import cli
    from neurosim.netlist.parse import parse_netlist
    from neurosim.netlist.write import write_netlist

    circuit, _, rng = case(seed=1)
    path = write_netlist(circuit, tmp_path / "oim.cir")
    x = rng.uniform(-1, 1, (40, 3))
    np.savez(tmp_path / "data.npz", x=x, labels=(x[:, 0] + x[:, 1] > 0).astype(int))
    out = tmp_path / "run"
    args = ["train", "--netlist", path, "--objective", "classify", "--epochs", "2"]
    args += ["--data", tmp_path / "data.npz", "--lr", "0.02", "--beta", "0.1", "--out", out]
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    before, after = parse_netlist(path), parse_netlist(out / "trained.cir")
    changed = [n for n, e in before.elements.items() if e != after.elements[n]]
    assert changed and all(n.startswith(("bj", "bh", "bk")) for n in changed), changed
    lower_oscillator(after)  # the programmed sources are still the templates
    assert json.loads((out / "metrics.json").read_text())


def test_a_max_cut_instance_settles_on_the_optimum_and_agrees_with_ngspice(tmp_path):
    """An 8-vertex max-cut spec: J = −A on the edges of its seeded graph; from 64
    random starts the best cut read as sign(cos φ) is the optimum by enumeration; the
    exported netlist agrees with ngspice's transient from its capacitors' start."""
    import itertools

    from neurosim.network.compile import compile_spec
    from neurosim.network.spec import spec_from_dict
    from neurosim.verify.crosscheck import cross_check

    spec = spec_from_dict(
        {
            "network": {"name": "cut8", "family": "oscillator", "couplings": [["s", "s"]]},
            "layers": [{"name": "s", "size": 8, "kind": "hidden", "activation": "linear"}],
            "scaling": {"volts_per_unit": 0.1, "g_unit": 1e-5, "g_min": 1e-7, "tau": 1e-6},
            "graph": {"edge_probability": 0.5, "seed": 3, "locking": 1.0},
        }
    )
    circuit = parse_netlist_text(netlist_text(compile_spec(spec)))
    assert circuit.network.parameter_count() == 28 + 8 + 8
    system = lower_oscillator(circuit)
    weights = -system.couplings
    assert np.all((weights == 0) | (weights == 1)) and np.array_equal(weights, weights.T)
    best = max(
        0.25 * (weights.sum() - np.array(s) @ weights @ np.array(s))
        for s in itertools.product((1.0, -1.0), repeat=8)
    )
    sources = system.sources_from_settings([{}] * 64)
    start = np.random.default_rng(0).uniform(-np.pi, np.pi, (64, 8))
    settled = relax(system, sources, start=start, tolerance=1e-8, max_passes=20_000)
    assert settled.ok
    sides = np.where(np.cos(settled.state) >= 0, 1.0, -1.0)
    cuts = 0.25 * (weights.sum() - np.einsum("bi,ij,bj->b", sides, weights, sides))
    assert cuts.max() == best and np.all(cuts <= best)
    report = cross_check(circuit, [{}])
    assert report.ok and report.max_abs_diff_v <= 1e-6 * report.signal_scale_v, report
    from click.testing import CliRunner

    from neurosim.cli.main import cli
    from neurosim.netlist.write import write_netlist

    path = write_netlist(circuit, tmp_path / "cut8.cir")
    result = CliRunner().invoke(
        cli, ["relax", str(path), "--count", "2", "--out", str(tmp_path / "r.h5")]
    )
    assert result.exit_code == 0, result.output  # no inputs: each row the netlist's own
