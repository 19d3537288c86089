"""EqM's samplers (gradient descent, Nesterov, adaptive compute) on a field whose
landscape is known exactly, and on a circuit."""

import numpy as np
import pytest

from neurosim.host import Chip
from neurosim.netlist.parse import parse_netlist
from neurosim.samplers.descent import descend, descent_samples
from tests.learn.test_hardware_aware import ROOT

CENTRE = np.array([0.3, -0.2])


def quadratic(x, rows=None):
    """The velocity −∇E of E = ½‖x − m‖²."""
    return -(x - CENTRE)


def test_gradient_descent_contracts_geometrically():
    x0 = np.random.default_rng(0).normal(size=(5, 2))
    x, taken = descend(x0, quadratic, eta=0.1, steps=7)
    np.testing.assert_allclose(x, CENTRE + 0.9**7 * (x0 - CENTRE), rtol=1e-13)
    assert list(taken) == [7] * 5


def test_nesterov_looks_ahead():
    x0 = np.array([[1.0, 1.0]])
    x, _ = descend(x0, quadratic, eta=0.1, steps=3, mu=0.35)
    # by hand: x_{k+1} = x_k + η·v(x_k + μ(x_k − x_{k−1})), x_{−1} = x_0
    prev, cur = x0.copy(), x0.copy()
    for _ in range(3):
        look = cur + 0.35 * (cur - prev)
        prev, cur = cur, cur + 0.1 * quadratic(look)
    np.testing.assert_allclose(x, cur, rtol=1e-14)


def test_adaptive_compute_stops_each_sample_at_its_own_step():
    distances = np.array([0.5, 2.0, 8.0])
    x0 = CENTRE + distances[:, None] * np.array([1.0, 0.0])
    x, taken = descend(x0, quadratic, eta=0.2, steps=100, g_min=0.1)
    # ‖f(x_k)‖ = 0.8^k·d: the first k with 0.8^k·d < 0.1
    expected = np.ceil(np.log(0.1 / distances) / np.log(0.8))
    np.testing.assert_array_equal(taken, expected)
    assert np.all(np.linalg.norm(x - CENTRE, axis=1) < 0.1)


def test_descent_on_a_circuit_reads_its_field():
    chip = Chip(parse_netlist(ROOT / "tests/fixtures/v3_run/tiny_flow.cir"))
    rng = np.random.default_rng(1)
    samples, taken, stats = descent_samples(chip, 6, rng, 2.0, 0.05, 4, g_min=1e-9)
    assert samples.shape == (6, chip.free_slices()["x"].stop - chip.free_slices()["x"].start)
    assert np.all(np.abs(samples) <= 1) and list(taken) == [4] * 6 and stats.steps == 4
    again, _, _ = descent_samples(chip, 6, np.random.default_rng(1), 2.0, 0.05, 4)
    np.testing.assert_array_equal(samples, again)


def test_analog_sampling_is_the_released_circuits_own_descent():
    """The released circuit (springs off) run long enough ends where the solver settles
    it from the same start: the transient is the circuit's own descent."""
    from neurosim.samplers.analog import analog_samples

    chip = Chip(parse_netlist(ROOT / "tests/fixtures/v3_run/tiny_flow.cir"))
    tau = float(np.max(chip._crossbar.tau))
    samples, steps, stats = analog_samples(chip, 4, np.random.default_rng(2), 300 * tau, 3)
    assert samples.shape == (4, 64) and np.all(steps > 0)
    assert stats.heat_j > 0 and stats.physical_seconds == 300 * tau
    released = chip.release("x")
    x0 = np.random.default_rng(2).standard_normal((4, 64))
    start = np.zeros((4, chip.free))
    start[:, chip.free_slices()["x"]] = x0
    eq = released.settle(released.sources(4), start=start, tolerance=1e-10)
    settled = np.clip(eq.state[:, chip.free_slices()["x"]], -1, 1)
    np.testing.assert_allclose(samples, settled, atol=1e-5)
    assert not np.allclose(samples, np.clip(x0, -1, 1))  # the circuit moved them


def test_partial_noise_starts_from_the_data():
    """--from DATA --noise-level γ starts at γx + (1 − γ)ε (γ = 1: the data itself)."""
    from neurosim.data.digits import load_digits
    from neurosim.samplers.settings import DescentSampling
    from neurosim.validation import SettingsError

    chip = Chip(parse_netlist(ROOT / "tests/fixtures/v3_run/tiny_flow.cir"))
    still = DescentSampling(n=5, steps=1, eta=1e-12, start_from="digits", noise_level=1.0)
    samples, _, _ = still.generate(chip, 2.0)
    np.testing.assert_allclose(samples, np.clip(load_digits()[0][:5], -1, 1), atol=1e-9)
    half = DescentSampling(n=5, steps=1, eta=1e-12, start_from="digits", noise_level=0.5)
    noisy, _, _ = half.generate(chip, 2.0)
    eps = np.random.default_rng(0).standard_normal((5, 64))
    expected = np.clip(0.5 * load_digits()[0][:5] + 0.5 * eps, -1, 1)
    np.testing.assert_allclose(noisy, expected, atol=1e-9)
    with pytest.raises(SettingsError, match="asks for 2000 samples; digits has 1797 rows"):
        DescentSampling(n=2000, start_from="digits").generate(chip, 2.0)


@pytest.mark.parametrize("readout", ["spring", "energy"])
def test_host_loop_samplers_report_the_hardwares_cost(readout):
    """The first ``probes`` samples' every settling is timed and its energy counted;
    measuring them changes no sample."""
    from neurosim.samplers.settings import DescentSampling, EulerSampling

    chip = Chip(parse_netlist(ROOT / "tests/fixtures/v3_run/tiny_flow.cir"))
    plain = DescentSampling(n=5, steps=3, probes=0, readout=readout)
    probed = DescentSampling(n=5, steps=3, probes=2, readout=readout)
    samples, _, none = plain.generate(chip, 2.0)
    again, _, stats = probed.generate(chip, 2.0)
    np.testing.assert_array_equal(samples, again)
    assert none.probes == 0 and np.isnan(none.heat_j) and np.isnan(none.settle_seconds)
    assert stats.probes == 2 and stats.settle_seconds > 0 and stats.heat_j > 0
    # every probe took all 3 steps: its hardware time is 3 settlings
    assert stats.physical_seconds == pytest.approx(3 * stats.settle_seconds, rel=1e-12)
    tau = float(np.min(chip.time_constants()))
    assert tau < stats.settle_seconds < 1000 * tau
    _, euler_stats = EulerSampling(n=1, dt=0.5, probes=4).generate(chip, 2.0)[1:]
    assert euler_stats.probes == 1  # more probes than samples: all of them
