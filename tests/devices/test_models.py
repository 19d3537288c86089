"""Device models against their defining formulas (aihwkit's PCM-like model, the generic
device), and their settings refused by name when out of range."""

import math
from pathlib import Path

import numpy as np
import pytest

from neurosim.devices.base import drifted
from neurosim.devices.generic import Generic
from neurosim.devices.pcm import PCMLike
from neurosim.devices.presets import device_model, parse_settings
from neurosim.validation import SettingsError

ROOT = Path(__file__).resolve().parents[2]

N = 200_000


def test_pcm_programming_noise_has_the_polynomial_sigma():
    """(g_prog − g_T)/σ(g_T) of many devices: mean ≈ 0, std ≈ 1, at several x = g_T/g_max
    (away from 0, where the clamp at 0 S would bias it)."""
    model = PCMLike()
    rng = np.random.default_rng(0)
    for x in (0.2, 0.5, 0.9):
        target = np.full(N, x * model.g_max)
        programmed = model.program(target, rng)
        sigma = (0.26348 + 1.9650 * x - 1.1731 * x * x) * 1e-6  # µS at g_max = 25 µS
        z = (programmed.g - target) / sigma
        assert abs(z.mean()) < 5 / math.sqrt(N) and abs(z.std() - 1) < 0.01


def test_pcm_sigma_scales_with_g_max_and_the_scale_setting():
    base, wide = PCMLike(), PCMLike(g_max=100e-6)
    target = np.array([0.3])
    np.testing.assert_allclose(
        wide.programming_sigma(target * wide.g_max), 4 * base.programming_sigma(target * base.g_max)
    )
    exact = PCMLike(prog_noise_scale=0.0).program(
        np.array([1e-6, 5e-6, 2e-5]), np.random.default_rng(1)
    )
    np.testing.assert_array_equal(exact.g, [1e-6, 5e-6, 2e-5])


def test_pcm_drift_exponents_are_the_folded_normal_and_drift_follows_the_power_law():
    model = PCMLike(read_noise_scale=0.0)
    x = 0.3
    programmed = model.program(np.full(N, x * model.g_max), np.random.default_rng(2))
    mu = min(max(-0.0155 * math.log(x) + 0.0244, 0.049), 0.1)
    sigma = min(max(-0.0125 * math.log(x) - 0.0059, 0.008), 0.045)
    folded_mean = sigma * math.sqrt(2 / math.pi) * math.exp(-(mu**2) / (2 * sigma**2)) + mu * (
        1 - 2 * _normal_cdf(-mu / sigma)
    )
    assert abs(programmed.nu.mean() - folded_mean) < 4 * sigma / math.sqrt(N)
    assert programmed.nu.min() >= 0
    for seconds in (1.0, 3600.0, 86400.0):
        g = model.at_time(programmed, seconds, np.random.default_rng(3))
        np.testing.assert_allclose(g, programmed.g * ((seconds + 20.0) / 20.0) ** -programmed.nu)


def test_pcm_read_noise_is_the_accumulated_one_over_f_noise():
    model = PCMLike(drift_scale=0.0)
    x, seconds = 0.5, 86400.0
    programmed = model.program(np.full(N, x * model.g_max), np.random.default_rng(4))
    g = model.at_time(programmed, seconds, np.random.default_rng(5))
    q_s = min(0.0088 / x**0.65, 0.2)
    t = seconds + 20.0
    sigma = q_s * math.sqrt(math.log((t + 250e-9) / (2 * 250e-9)))
    z = (g - programmed.g) / (programmed.g * sigma)
    assert abs(z.mean()) < 5 / math.sqrt(N) and abs(z.std() - 1) < 0.01


def test_targets_above_g_max_are_programmed_to_g_max():
    programmed = PCMLike(prog_noise_scale=0.0).program(
        np.array([10e-6, 40e-6]), np.random.default_rng(0)
    )
    np.testing.assert_array_equal(programmed.g, [10e-6, 25e-6])


def test_generic_levels_range_and_exact_defaults():
    rng = np.random.default_rng(0)
    target = rng.uniform(0, 30e-6, N)
    assert np.array_equal(Generic().program(target, rng).g, target)  # ideal by default
    model = Generic(g_min=1e-6, g_max=25e-6, bits=4)
    g = model.program(target, rng).g
    levels = model.levels()
    assert levels.size == 16
    assert np.all(np.min(np.abs(g[:, None] - levels[None, :]), axis=1) < 1e-18)  # on the grid
    inside = (target > 1e-6) & (target < 25e-6)
    assert np.all(np.abs(g[inside] - target[inside]) <= (levels[1] - levels[0]) / 2 + 1e-18)
    assert g.min() == 1e-6 and g.max() == 25e-6


def test_generic_noise_stuck_fractions_and_drift():
    rng = np.random.default_rng(1)
    target = np.full(N, 10e-6)
    noisy = Generic(prog_noise=0.1, prog_noise_kind="proportional").program(target, rng)
    assert abs((noisy.g / target - 1).std() - 0.1) < 0.002
    model = Generic(g_max=25e-6, p_stuck_min=0.01, p_stuck_max=0.05, p_stuck_random=0.02, nu=0.06)
    programmed = model.program(target, rng)
    for share, where in ((0.01, programmed.g == 0.0), (0.05, programmed.g == 25e-6)):
        assert abs(where.mean() - share) < 5 * math.sqrt(share / N)
    moved = (programmed.g != 10e-6) & (programmed.g != 0.0) & (programmed.g != 25e-6)
    assert abs(moved.mean() - 0.02) < 5 * math.sqrt(0.02 / N)
    stuck = programmed.g != 10e-6
    assert np.all(programmed.nu[stuck] == 0) and np.all(programmed.nu[~stuck] == 0.06)
    g = model.at_time(programmed, 3600.0, rng)
    np.testing.assert_allclose(g, drifted(programmed.g, programmed.nu, 3600.0, 20.0))
    np.testing.assert_allclose(g[~stuck], 10e-6 * (3620 / 20) ** -0.06)


@pytest.mark.parametrize(
    ("name", "settings", "message"),
    [
        ("pcm", {"prog_noise_scale": "-1"}, "prog_noise_scale must be a finite number >= 0"),
        ("pcm", {"g_max": "nan"}, "g_max must be a finite number > 0"),
        ("pcm", {"bits": "4"}, "bits is not a setting of device 'pcm'"),
        ("generic", {"bits": "-2"}, "bits must be a whole number >= 0"),
        ("generic", {"bits": "2.5"}, "bits must be a whole number >= 0"),
        ("generic", {"bits": "4"}, "bits needs a finite g_max"),
        ("generic", {"p_stuck_min": "1.5"}, "p_stuck_min must be in [0, 1]"),
        ("generic", {"p_stuck_min": "0.6", "p_stuck_max": "0.6", "g_max": "1e-5"}, "sum to <= 1"),
        ("generic", {"g_min": "2e-5", "g_max": "1e-5"}, "g_max must be above g_min"),
        ("generic", {"prog_noise_kind": "relative"}, "absolute or proportional"),
        ("memristor", {}, "unknown device 'memristor'"),
    ],
)
def test_bad_settings_name_the_setting_and_its_range(name, settings, message):
    with pytest.raises(SettingsError) as caught:
        device_model(name, settings)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_settings_are_parsed_from_key_value_pairs():
    model = device_model("generic", parse_settings(("g_max=2.5e-5", "bits=6", "nu=0.05")))
    assert (model.g_max, model.bits, model.nu) == (2.5e-5, 6, 0.05)
    with pytest.raises(SettingsError, match="expects KEY=VALUE"):
        parse_settings(("bits",))


def _normal_cdf(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def test_the_adc_rounds_to_its_levels_and_clips_and_the_noise_has_its_sigma():
    from neurosim.devices.periphery import Readout

    rng = np.random.default_rng(0)
    values = rng.uniform(-2, 2, N)
    adc = Readout(adc_bits=6, adc_range=1.0)
    read = adc.read(values, rng)
    levels = adc.levels()
    assert levels.size == 64 and read.min() == -1.0 and read.max() == 1.0
    assert np.all(np.min(np.abs(read[:, None] - levels[None, :]), axis=1) < 1e-12)
    inside = np.abs(values) <= 1.0
    assert np.all(np.abs(read[inside] - values[inside]) <= (levels[1] - levels[0]) / 2 + 1e-12)
    noisy = Readout(out_noise=0.05).read(np.zeros(N), rng)
    assert abs(noisy.std() - 0.05) < 0.001 and abs(noisy.mean()) < 5 * 0.05 / math.sqrt(N)
    np.testing.assert_array_equal(Readout().read(values, rng), values)  # ideal by default


def test_the_dac_sets_inputs_on_its_levels_before_the_circuit_settles():
    from neurosim.devices.periphery import Drive
    from neurosim.host import Chip
    from neurosim.netlist.parse import parse_netlist

    dac = Drive(dac_bits=3, dac_range=1.0)
    values = np.random.default_rng(1).uniform(-1.5, 1.5, 1000)
    levels = np.linspace(-1, 1, 8)
    set_ = dac.set(values)
    assert np.all(np.min(np.abs(set_[:, None] - levels[None, :]), axis=1) < 1e-12)
    chip = Chip(parse_netlist(ROOT / "netlists/xor.cir"))
    sources = chip.sources(4)
    sources.inputs[:] = np.random.default_rng(2).uniform(-1, 1, sources.inputs.shape)
    exact = chip.settle(sources).state
    chip.set_drive(dac)
    through = chip.settle(sources).state
    chip.set_drive(None)
    sources.inputs[:] = dac.set(sources.inputs)
    np.testing.assert_array_equal(through, chip.settle(sources).state)
    assert not np.array_equal(through, exact)


def test_the_flow_readout_reads_spring_currents_through_the_adc():
    from neurosim.devices.periphery import Readout
    from neurosim.host import Chip
    from neurosim.netlist.parse import parse_netlist

    chip = Chip(parse_netlist(ROOT / "tests/fixtures/v3_run/tiny_flow.cir"))
    layer = next(iter(chip.free_slices()))
    sources = chip.sources(8)
    sources.targets[:] = np.random.default_rng(3).normal(size=sources.targets.shape)
    state = chip.settle(sources).state
    exact = chip.velocity(sources, state, 2.0, layer)
    chip.set_readout(Readout(adc_bits=4, adc_range=0.5))
    read = chip.velocity(sources, state, 2.0, layer) / -2.0
    levels = np.linspace(-0.5, 0.5, 16)
    assert np.all(np.min(np.abs(read.reshape(-1, 1) - levels), axis=1) < 1e-12)
    assert np.all(np.abs(read - np.clip(exact / -2.0, -0.5, 0.5)) <= 1 / 30 + 1e-12)
