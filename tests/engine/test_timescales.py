"""The settling-time estimate from the circuit's slowest time constant, against the
circuit's own transient and against the defining formula on a linear circuit."""

import numpy as np
import pytest

from neurosim.circuit.meta import Layer, NetworkMeta
from neurosim.engine.relax import residual
from neurosim.engine.timescales import jacobians, settling_estimate, slowest_rate
from neurosim.engine.transient import settling_times
from neurosim.samplers.readout import Readout
from tests.networks import SCALING, chip_of, flow_net, random_params

TAU = SCALING.tau


def test_jacobian_and_rate_of_a_linear_node():
    """Uncoupled linear units with their leak (and springs) decay at (leak + λ)/τ."""
    layers = (Layer("x", 3, "visible", "linear"), Layer("h", 4, "hidden", "linear"))
    meta = NetworkMeta("crossbar", "scellier_bengio", layers, (("x", "h"),), SCALING, 15.0)
    chip = chip_of(meta, random_params(meta, np.random.default_rng(0), gain=0.0))
    sources = chip.sources(1)
    a = jacobians(chip._crossbar, sources, np.zeros((1, chip.free)))[0]
    diagonal = -(chip._crossbar.leak + chip._crossbar.spring) / chip._crossbar.tau
    np.testing.assert_allclose(np.diag(a), diagonal, rtol=1e-6)
    assert slowest_rate(a) == pytest.approx(np.min(-diagonal), rel=1e-6)


def test_slowest_rate_matches_the_eigenvalues():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(30, 30))
    a = -(q @ q.T + 0.5 * np.eye(30))
    assert slowest_rate(a) == pytest.approx(np.min(np.linalg.eigvalsh(-a)), rel=1e-6)
    rotation = np.array([[-1.0, 5.0], [-5.0, -1.0]])  # a complex pair: the fallback
    assert slowest_rate(rotation) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("seed", [1, 2])
def test_estimate_is_the_transient_settling_time(seed):
    """On a small flow circuit with random weights, ln(r0/tol)/λ is within a factor ~2
    of the first time the real transient's residual stays below the tolerance (measured
    over seeds 1–6, 36 relaxations: 0.49–1.54 times, median 1.0)."""
    meta = flow_net()
    chip = chip_of(meta, random_params(meta, np.random.default_rng(seed), gain=1.2))
    readout = Readout(chip, "spring", 2.0, tolerance=1e-6)
    x = np.random.default_rng(seed).standard_normal((6, 4))
    reading = readout.read(x)
    start = readout.cold_start(x)
    seconds, joules = readout.costs(x, None, reading.equilibrium.state)
    sources = chip.sources(6)
    sources.targets[:, chip.free_slices()["x"]] = x
    assert np.all(residual(chip._crossbar, sources, reading.equilibrium.state) <= 1e-6)
    times = TAU * np.geomspace(0.05, 500, 400)
    run = chip.transient(sources, times, start=start, rtol=1e-9, atol=1e-12)
    measured = settling_times(chip._crossbar, sources, run, 1e-6)
    ratio = seconds / measured
    assert np.all((ratio > 0.4) & (ratio < 1.8)), ratio
    assert 0.75 < np.median(ratio) < 1.3, ratio
    power = chip.power(sources, reading.equilibrium.state)
    np.testing.assert_allclose(joules, seconds * power, rtol=1e-12)
    direct = settling_estimate(chip._crossbar, sources, start, reading.equilibrium.state, 1e-6)
    np.testing.assert_array_equal(direct, seconds)
