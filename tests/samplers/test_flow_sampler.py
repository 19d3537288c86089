"""Flow sampling on a circuit: both velocity readouts against the abstract model, the
Euler integrator against hand computations, warm against cold starts."""

import numpy as np
import pytest

from neurosim.circuit.drive import Drive
from neurosim.circuit.meta import NetworkMeta
from neurosim.errors import CircuitError, ConvergenceError
from neurosim.host import Chip
from neurosim.host.clamp import clamp_layer
from neurosim.network.compile import compile_network
from neurosim.network.model import energy, force, init_params
from neurosim.samplers.flow import euler, euler_samples, step_count
from neurosim.samplers.grid import mosaic
from neurosim.samplers.readout import Readout
from tests.naive import model_fixed_point
from tests.networks import chip_of, flow_net, random_params, small_network
from tests.oracle import ideal_crossbar

ALPHA = 2.0
TOL = 1e-12


def digits_init() -> NetworkMeta:
    """The shape and scaling of netlists/digits_flow.cir (64 → 128 → 128, λ = 15)."""
    return flow_net((128, 128), 64)


def case(name: str, seed: int = 0):
    """A small network, its parameters, its crossbar and the clamped inputs' values."""
    rng = np.random.default_rng(seed)
    if name == "flow":
        meta = flow_net()
    else:  # an input layer in the even ("layered") or the odd ("deep") group, an output
        meta = small_network("scellier_bengio", "rho", spring=15.0, topology=name)
    params = random_params(meta, rng, gain=0.8)
    circuit = compile_network(meta, params)
    for layer in meta.layers:
        if layer.kind == "input":
            for i, value in enumerate(rng.uniform(-1, 1, layer.size)):
                circuit.set_value(f"vin_{layer.name}_{i}", value * meta.scaling.volts_per_unit)
    chip = Chip(circuit)
    defaults = chip.sources(1).inputs
    inputs = {n: defaults[:, w] for n, w in chip.input_slices().items()}
    return meta, params, chip, inputs


NETWORKS = ["flow", "layered", "deep"]


@pytest.mark.parametrize("name", NETWORKS)
def test_spring_readout_is_alpha_lambda_times_the_model_fixed_point_offset(name):
    meta, params, crossbar, inputs = case(name)
    x = np.random.default_rng(1).normal(size=(3, 4))
    reading = Readout(crossbar, "spring", ALPHA, tolerance=TOL).read(x)
    assert reading.equilibrium.ok
    for i in range(3):
        fixed = model_fixed_point(meta, params, Drive(inputs=inputs, targets={"x": x[i : i + 1]}))
        expected = ALPHA * meta.spring_lambda * (fixed["x"] - x[i])
        np.testing.assert_allclose(reading.velocity[i], expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", NETWORKS)
def test_energy_readout_is_minus_alpha_dE_dx_with_the_hidden_units_relaxed(name):
    meta, params, crossbar, inputs = case(name)
    x = np.random.default_rng(2).normal(size=(3, 4))
    readout = Readout(crossbar, "energy", ALPHA, tolerance=TOL)
    reading = readout.read(x)
    assert reading.equilibrium.ok
    slices = readout.clamped.free_slices()
    assert "x" not in slices and "x" in readout.clamped.input_slices()
    state = {"x": x, **{n: reading.equilibrium.state[:, w] for n, w in slices.items()}}
    drive = Drive(inputs=inputs, targets={"x": x})  # springs at rest: no spring force
    forces = force(meta, params, state, drive)
    for layer in slices:  # the hidden units settled
        assert np.max(np.abs(forces[layer])) < 1e-10
    np.testing.assert_allclose(reading.velocity, ALPHA * forces["x"], rtol=0, atol=1e-10)
    h, gradient = 1e-5, np.zeros_like(x)
    for j in range(x.shape[1]):
        up, down = dict(state), dict(state)
        up["x"], down["x"] = x.copy(), x.copy()
        up["x"][:, j] += h
        down["x"][:, j] -= h
        gradient[:, j] = (energy(meta, params, up, drive) - energy(meta, params, down, drive)) / (
            2 * h
        )
    np.testing.assert_allclose(reading.velocity, -ALPHA * gradient, rtol=0, atol=1e-6)


def test_clamped_crossbar_keeps_the_units_and_values_of_the_others():
    meta, params, _, _ = case("deep")
    crossbar = ideal_crossbar(meta, params)
    crossbar.defaults["inputs"][:] = np.random.default_rng(3).uniform(-1, 1, 3)
    clamped, index = clamp_layer(crossbar, "x")
    x = crossbar.free_slices()["x"]
    assert sorted(index) == [i for i in range(crossbar.free) if not x.start <= i < x.stop]
    np.testing.assert_array_equal(clamped.bias, crossbar.bias[index])
    np.testing.assert_array_equal(
        clamped.defaults["inputs"][clamped.input_slices()["in"]],
        crossbar.defaults["inputs"][crossbar.input_slices()["in"]],
    )
    assert clamped.symmetric()


def test_euler_integrates_a_field_known_by_hand():
    x0 = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(euler(x0, lambda x: -x, 0.1, 7), 0.9**7 * x0, rtol=1e-14)
    for t1, dt in ((1.0, 0.01), (1.2, 0.01), (0.3, 0.1), (2.0, 0.25)):
        steps = step_count(t1, dt)
        assert steps == round(t1 / dt)
        reached = euler(np.zeros((1, 1)), lambda x: np.ones_like(x), dt, steps)
        assert reached[0, 0] == pytest.approx(t1, rel=1e-12)  # n steps of dt reach t1
    for t1, dt in ((1.0, 0.3), (1.0, 0.0), (1.0, -0.01), (0.0, 0.01), (np.inf, 0.1)):
        with pytest.raises(ValueError):
            step_count(t1, dt)


@pytest.mark.parametrize("readout", ["spring", "energy"])
def test_one_circuit_step_is_x0_plus_dt_v_then_clipped(readout):
    _, _, crossbar, _ = case("flow")
    samples, stats = euler_samples(
        crossbar, 6, 0.25, 0.25, np.random.default_rng(3), ALPHA, readout, tolerance=TOL
    )
    x0 = np.random.default_rng(3).standard_normal((6, 4))
    v = Readout(crossbar, readout, ALPHA, tolerance=TOL).read(x0).velocity
    np.testing.assert_allclose(samples, np.clip(x0 + 0.25 * v, -1, 1), rtol=0, atol=1e-12)
    assert stats.steps == 1 and stats.relaxations == 6 and stats.unsettled == 0


@pytest.mark.parametrize("readout", ["spring", "energy"])
def test_samples_are_seeded_bounded_and_shaped(readout):
    _, _, crossbar, _ = case("flow")
    ticks = []
    run = [
        euler_samples(crossbar, 9, 1.0, 0.1, np.random.default_rng(5), ALPHA, readout, ticks.append)
        for _ in range(2)
    ]
    (first, stats), (second, _) = run
    np.testing.assert_array_equal(first, second)
    assert first.shape == (9, 4) and np.all(np.abs(first) <= 1.0)
    assert ticks == [1] * 20 and stats.steps == 10 and stats.relaxations == 90
    assert stats.passes > 0 and stats.unsettled == 0 and stats.worst_residual <= 1e-6
    other, _ = euler_samples(crossbar, 9, 1.0, 0.1, np.random.default_rng(6), ALPHA, readout)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("readout", ["spring", "energy"])
def test_warm_starts_match_cold_starts_at_the_digits_initialisation(readout):
    """At Xavier gain 0.5 every reading has one minimum; stronger couplings (gain ≥ 0.8)
    can settle a warm start in another one (measured, see neurosim/samplers/flow.py)."""
    meta = digits_init()
    crossbar = chip_of(meta, init_params(meta, np.random.default_rng(0), gain=0.5))
    rng = np.random.default_rng
    runs = {
        warm: euler_samples(
            crossbar, 24, 1.0, 0.05, rng(1), ALPHA, readout, warm=warm, tolerance=1e-10
        )
        for warm in (True, False)
    }
    (warm, warm_stats), (cold, cold_stats) = runs[True], runs[False]
    assert np.max(np.abs(warm - cold)) < 1e-9
    assert warm_stats.passes < cold_stats.passes


def test_networks_without_springs_or_settling_fail_clearly():
    meta, params, crossbar, _ = case("flow")
    no_springs = NetworkMeta(meta.family, meta.law, meta.layers, meta.couplings, meta.scaling)
    with pytest.raises(CircuitError, match="no springs"):
        Readout(chip_of(no_springs, params), "spring", ALPHA)
    with pytest.raises(ConvergenceError, match="did not settle"):
        euler_samples(crossbar, 4, 0.1, 0.1, np.random.default_rng(0), ALPHA, max_passes=1)


def test_grid_tiles_ten_images_per_row():
    samples = np.random.default_rng(0).uniform(-1, 1, (16, 64))
    image = mosaic(samples)
    assert image.shape == (2 * 9 - 1, 10 * 9 - 1)
    np.testing.assert_array_equal(image[9:17, 45:53], samples[15].reshape(8, 8))
    assert np.isnan(image[9:, 54:]).all()  # cells 16-19 stay empty
    assert mosaic(np.zeros((250, 4))).shape == (10 * 3 - 1, 10 * 3 - 1)
