"""The chip a host trains: programming, array-level refresh, what survives, edited circuits.

Exact gradients are central differences of the circuit's own loss, each loss from the
circuit edited by hand (a device's resistance changed in the netlist), lowered afresh and
settled to 1e-13: independent of the host's programming and refresh.
"""

from dataclasses import replace

import numpy as np
import pytest

from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.engine.relax import relax
from neurosim.engine.sources import default_sources
from neurosim.host import Chip
from neurosim.learn.estimators import ep_estimate, gradep_estimate
from neurosim.lower.crossbar import lower_crossbar
from neurosim.network.compile import compile_network
from tests.networks import flow_net, random_params

TOL = 1e-13
ALPHA = 2.0


def classifier() -> NetworkMeta:
    layers = (
        Layer("in", 3, "input", "linear"),
        Layer("h", 5, "hidden", "rho"),
        Layer("out", 2, "output", "tanh"),
    )
    return NetworkMeta(
        "crossbar", "scellier_bengio", layers, (("in", "h"), ("h", "out")), Scaling()
    )


def copy_of(circuit):
    return replace(circuit, elements=dict(circuit.elements))


def scaled(circuit, names, factor):
    """``circuit`` with the resistors ``names`` multiplied by ``factor`` (a copy)."""
    out = copy_of(circuit)
    for name in names:
        out.set_value(name, out.elements[name].value * factor)
    return out


def edited_flow_circuit(seed=5):
    """flow_net with the hidden leaks halved, one spring stiffer and two device pairs of
    w0 scaled alike in both arrays: edited, still reciprocal."""
    meta = flow_net()
    circuit = compile_network(meta, random_params(meta, np.random.default_rng(seed), 0.8))
    circuit = scaled(circuit, [f"rl_h1_{i}" for i in range(5)], 0.5)
    circuit = scaled(circuit, ["rs_x_2"], 0.7)
    for pair in ("rw0f_1_2", "rw0b_1_2", "rw0f_3_0", "rw0b_3_0"):
        circuit = scaled(circuit, [f"{pair}p", f"{pair}n"], 0.8)
    return circuit


def shifted(circuit, name, h):
    """``circuit`` with parameter ``name``'s entry ``index`` moved by h, by hand: the
    conductance of the ``p`` device of each pair that realises it grows by h·g_unit."""
    meta = circuit.network

    def apply(index):
        out = copy_of(circuit)
        if name.startswith("w"):
            k = name[1:]
            stems = [f"rw{k}{d}_{index[0]}_{index[1]}" for d in "fb"]
        else:
            stems = [f"rb_{name[2:]}_{index[0]}_"]
        for stem in stems:
            element = out.elements.get(f"{stem}p")
            if element is not None:
                g = 1.0 / element.value + h * meta.scaling.g_unit
                out.set_value(element.name, 1.0 / g)
        return out

    return apply


def exact_gradient(circuit, shapes, loss, h=1e-6):
    grads = {}
    for name, shape in shapes.items():
        grad = np.zeros(shape)
        for index in np.ndindex(shape):
            up = loss(shifted(circuit, name, h)(index))
            down = loss(shifted(circuit, name, -h)(index))
            grad[index] = (up - down) / (2 * h)
        grads[name] = grad
    return grads


def shapes_of(meta):
    return {**meta.weight_shapes(), **meta.bias_shapes()}


def compare(estimate, exact):
    a = np.concatenate([estimate[k].ravel() for k in sorted(exact)])
    b = np.concatenate([exact[k].ravel() for k in sorted(exact)])
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b), np.linalg.norm(a - b) / np.linalg.norm(b)


def ep_against_exact(circuit, inputs, targets, beta=1e-2, **options):
    """(cosine, relative error) of the chip's EP estimate for the output cost ½‖s_out −
    t‖² against the exact gradient of that circuit's own loss; and the free phase."""
    batch = inputs.shape[0]

    def loss(c):
        crossbar = lower_crossbar(c)
        sources = default_sources(crossbar, batch)
        sources.inputs[:] = inputs
        state = relax(crossbar, sources, **options).raise_if_failed().state
        out = state[:, crossbar.free_slices()["out"]]
        return float(np.mean(0.5 * np.sum((out - targets) ** 2, axis=1)))

    exact = exact_gradient(circuit, shapes_of(circuit.network), loss)
    chip = Chip(circuit)
    sources = chip.sources(batch)
    sources.inputs[:] = inputs
    free = chip.settle(sources, **options).raise_if_failed()
    est = ep_estimate(chip, sources, free.state, "out", targets, beta, **options)
    return (*compare(est.gradients, exact), free)


def test_gradep_on_an_edited_reciprocal_circuit_is_that_circuits_exact_gradient():
    circuit = edited_flow_circuit()
    meta = circuit.network
    rng = np.random.default_rng(6)
    x_t, u = rng.uniform(-1, 1, (8, 4)), rng.normal(0, 1, (8, 4))

    def loss(c):
        crossbar = lower_crossbar(c)
        sources = default_sources(crossbar, 8)
        where = crossbar.free_slices()["x"]
        sources.targets[:, where] = x_t
        state = relax(crossbar, sources, tolerance=TOL).raise_if_failed().state
        v = ALPHA * crossbar.spring[where] * (state[:, where] - x_t)  # v = αλ_i(x* − x_t)
        return float(np.mean(0.5 * np.sum((v - u) ** 2, axis=1)))

    exact = exact_gradient(circuit, shapes_of(meta), loss)
    chip = Chip(circuit)
    sources = chip.sources(8)
    sources.targets[:, chip.free_slices()["x"]] = x_t
    free = chip.settle(sources, tolerance=TOL).raise_if_failed()
    errors = []
    for beta in (1e-3, 5e-4):
        est = gradep_estimate(chip, sources, free.state, u, ALPHA, beta, tolerance=TOL)
        cosine, relative = compare(est.gradients, exact)
        assert cosine >= 0.999 and relative <= 1e-2, (beta, cosine, relative)
        errors.append(relative)
    assert 3.0 <= errors[0] / errors[1] <= 5.0  # symmetric nudging: error ~ beta^2
    # the edit is not ignored: the unedited circuit's gradient is another one
    unedited = compile_network(meta, random_params(meta, np.random.default_rng(5), 0.8))
    assert compare(exact, exact_gradient(unedited, shapes_of(meta), loss))[1] > 0.05


def test_ep_on_an_edited_reciprocal_circuit_is_that_circuits_exact_gradient():
    meta = classifier()
    circuit = compile_network(meta, random_params(meta, np.random.default_rng(3), 0.8))
    circuit = scaled(circuit, [f"rl_h_{i}" for i in range(5)], 0.5)
    circuit = scaled(circuit, ["rw1f_2_1p", "rw1f_2_1n", "rw1b_2_1p", "rw1b_2_1n"], 1.5)
    rng = np.random.default_rng(4)
    inputs, targets = rng.uniform(-1, 1, (8, 3)), rng.uniform(-0.8, 0.8, (8, 2))
    cosine, relative, _ = ep_against_exact(circuit, inputs, targets, tolerance=TOL)
    assert cosine >= 0.999 and relative <= 1e-2, (cosine, relative)


def test_programming_moves_each_pair_by_its_update_and_refreshes_as_lowering_would():
    circuit = edited_flow_circuit()
    chip = Chip(circuit)
    before = chip.parameters()
    rng = np.random.default_rng(0)
    deltas = {name: rng.normal(0, 0.05, value.shape) for name, value in before.items()}
    chip.program(deltas)
    after = chip.parameters()
    for name in before:
        np.testing.assert_allclose(after[name], before[name] + deltas[name], rtol=0, atol=1e-14)
    relowered = lower_crossbar(chip.circuit())
    for array in ("m_eo", "m_oe", "bias", "row_conductance_even", "row_conductance_odd"):
        np.testing.assert_allclose(
            getattr(chip._crossbar, array), getattr(relowered, array), rtol=1e-13, atol=1e-18
        )
    # the two arrays of w0 keep their offset (the scaled pairs): each pair moved by Δ
    programmed = chip.circuit()
    g_unit = circuit.network.scaling.g_unit

    def value(c, stem):
        return (1 / c.elements[f"{stem}p"].value - 1 / c.elements[f"{stem}n"].value) / g_unit

    for pair in ("1_2", "0_0"):
        offset = value(circuit, f"rw0f_{pair}") - value(circuit, f"rw0b_{pair}")
        now = value(programmed, f"rw0f_{pair}") - value(programmed, f"rw0b_{pair}")
        assert now == pytest.approx(offset, abs=1e-13)


def test_only_devices_marked_trainable_change_and_every_other_element_is_kept():
    circuit = edited_flow_circuit()
    circuit.trainable = ("rw*",)  # biases fixed
    chip = Chip(circuit)
    assert chip.trained == ("w0", "w1")
    with pytest.raises(KeyError, match="b_h1"):
        chip.program({"b_h1": np.zeros(5)})
    sources = chip.sources(2)
    assert set(chip.local_gradients(sources, np.zeros((2, chip.free)))) == {"w0", "w1"}
    chip.program({"w0": np.full((4, 5), 0.01), "w1": np.full((5, 3), -0.01)})
    programmed = chip.circuit()
    for name, element in circuit.elements.items():
        if not name.startswith("rw"):
            assert programmed.elements[name] == element, name
    assert programmed.elements["rl_h1_0"].value == 0.5 / 100e-6  # the halved leak stays
    changed = [n for n in circuit.elements if programmed.elements[n] != circuit.elements[n]]
    assert changed and all(n.startswith("rw") for n in changed)


def test_device_state_round_trips_and_the_fingerprint_sees_only_what_is_not_programmed():
    circuit = edited_flow_circuit()
    chip = Chip(circuit)
    saved = chip.device_state()
    print_before = chip.fingerprint()
    chip.program({name: np.full(v.shape, 0.02) for name, v in chip.parameters().items()})
    again = Chip(circuit)
    again.load_device_state(chip.device_state())
    for name, value in chip.device_state().items():
        np.testing.assert_array_equal(again.device_state()[name], value)
    assert not np.array_equal(
        saved["conductance/w0.forward"], chip.device_state()["conductance/w0.forward"]
    )
    assert Chip(chip.circuit()).fingerprint() == print_before  # programmed devices only
    assert Chip(scaled(circuit, ["rl_h2_0"], 2.0)).fingerprint() != print_before
    with pytest.raises(Exception, match="another circuit"):
        Chip(
            compile_network(
                classifier(), random_params(classifier(), np.random.default_rng(0), 0.8)
            )
        ).load_device_state(saved)


def test_a_clamped_view_refuses_to_settle_after_the_chip_is_programmed():
    chip = Chip(edited_flow_circuit())
    view = chip.clamp("x")
    sources = view.sources(1)
    assert view.settle(sources).ok
    chip.program({"b_x": np.full(4, 0.01)})
    with pytest.raises(Exception, match="programmed after"):
        view.settle(sources)


def test_ep_with_offset_row_drivers_is_the_exact_gradient_of_that_circuit():
    """Driver offsets shift the row values (r = ρ + offset/(k_p vs)): the circuit keeps
    an energy, −r_h·W·r_out per two-array coupling, so EP reading the row lines must
    give its exact gradient. The engine settles it along its own dynamics."""
    from neurosim.circuit.activations import get_activation
    from neurosim.circuit.templates import Driver, driver_expression
    from neurosim.netlist.parse import parse_netlist_text
    from neurosim.netlist.write import netlist_text

    meta = classifier()
    circuit = compile_network(meta, random_params(meta, np.random.default_rng(3), 0.8))
    rng = np.random.default_rng(8)
    for layer in ("h", "out"):
        activation = get_activation(meta.layer(layer).activation)
        for i in range(meta.layer(layer).size):
            unit, name = f"{layer}_{i}", f"bp_{layer}_{i}"
            driver = Driver(
                gain=float(rng.uniform(0.95, 1.05)), offset=float(rng.uniform(-0.01, 0.01))
            )
            expr = driver_expression(activation, unit, meta.scaling.volts_per_unit, driver)
            circuit.elements[name] = replace(circuit.elements[name], expr=expr)
    circuit = parse_netlist_text(netlist_text(circuit))
    inputs, targets = rng.uniform(-1, 1, (6, 3)), rng.uniform(-0.8, 0.8, (6, 2))
    options = dict(tolerance=TOL, max_passes=200_000)
    cosine, relative, free = ep_against_exact(circuit, inputs, targets, **options)
    assert free.method == "anderson"
    assert cosine >= 0.999 and relative <= 1e-2, (cosine, relative)
