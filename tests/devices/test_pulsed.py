"""Pulsed-update devices against their defining formulas (aihwkit's update-once rules,
``neurosim.devices.pulsed``): the drawn steps and bounds, one pulse's mean and noise,
soft bounds' geometric approach, clipping, the pulse count, write noise."""

import numpy as np
import pytest

from neurosim.devices.presets import device_model
from neurosim.devices.pulsed import ConstantStep, PulsedArray, ReRamES, ReRamSB, SoftBounds
from neurosim.validation import SettingsError

N = 200_000


def fixed(shape, up=1e-3, down=1e-3, w_min=-0.6, w_max=0.6) -> PulsedArray:
    full = lambda v: np.full(shape, float(v))  # noqa: E731
    return PulsedArray(full(up), full(down), full(w_min), full(w_max))


def test_device_draws_follow_the_populate_rule():
    model = ConstantStep(up_down=0.1)
    devices = model.devices((N,), np.random.default_rng(0))
    # up = (gain + r)·dw_min, down = (gain − up_down − r)·dw_min; gain ~ N(1, 0.3²)
    assert abs(devices.up.mean() / 1e-3 - 1.0) < 5 * 0.3 / np.sqrt(N)
    assert abs(devices.down.mean() / 1e-3 - 0.9) < 5 * 0.3 / np.sqrt(N)
    assert abs(np.std(devices.up + devices.down) / 2e-3 - 0.3) < 0.005
    assert abs(np.std(devices.up - devices.down) / 2e-3 - 0.01) < 0.001  # up_down_dtod
    assert np.all(devices.w_max > 0) and np.all(devices.w_min < 0)
    assert abs(devices.w_max.mean() - 0.6) < 0.01 and abs(devices.w_min.mean() + 0.6) < 0.01


def test_one_pulse_moves_by_the_step_with_cycle_noise():
    model = ConstantStep(dw_min_std=0.3)
    rng = np.random.default_rng(1)
    w0 = np.zeros(N)
    # |dw| = dw_min − ε: exactly one pulse unless the uniform draw is below ε/dw_min
    out = model.update(w0, w0, np.full(N, 0.999e-3), fixed(N, up=2e-3), rng)
    one = out.pulses == 1
    assert one.mean() > 0.99
    z = (out.hidden[one] - 2e-3) / (2e-3 * 0.3)  # standardised cycle-to-cycle noise
    assert abs(z.mean()) < 5 / np.sqrt(one.sum()) and abs(z.std() - 1) < 0.01
    down = model.update(w0, w0, np.full(N, -0.999e-3), fixed(N, down=0.5e-3), rng)
    assert abs(down.hidden[down.pulses == -1].mean() + 0.5e-3) < 1e-5


def test_pulse_counts_round_stochastically_and_are_capped():
    model = ConstantStep(dw_min_std=0.0)
    rng = np.random.default_rng(2)
    w0 = np.zeros(N)
    out = model.update(w0, w0, np.full(N, 2.3e-3), fixed(N), rng)
    assert set(np.unique(out.pulses)) == {2, 3}
    assert abs(out.pulses.mean() - 2.3) < 5 * np.sqrt(0.21 / N)  # unbiased: n·dw_min = Δw
    np.testing.assert_allclose(out.hidden, out.pulses * 1e-3, rtol=1e-12)
    capped = model.update(w0[:10], w0[:10], np.full(10, 1.0), fixed(10), rng)
    np.testing.assert_array_equal(capped.pulses, 31)  # aihwkit's desired_bl


def test_bounds_clip_every_pulse():
    model = ConstantStep(dw_min_std=0.0, max_pulses=1000)
    w0 = np.full(4, 0.55)
    out = model.update(w0, w0, np.full(4, 0.5), fixed(4, up=0.01), np.random.default_rng(3))
    np.testing.assert_array_equal(out.hidden, 0.6)
    out = model.update(w0, w0, np.full(4, -5.0), fixed(4, down=0.01), np.random.default_rng(3))
    np.testing.assert_array_equal(out.hidden, -0.6)


def test_soft_bounds_approach_the_bound_geometrically():
    model = SoftBounds(dw_min_std=0.0, max_pulses=100)
    w0 = np.array([0.1, -0.2])
    devices = fixed(2, up=0.02, down=0.02, w_min=-0.5, w_max=0.8)
    out = model.update(w0, w0, np.array([0.05, -0.05]), devices, np.random.default_rng(4))
    assert list(out.pulses) == [50, -50]  # |Δw|/dw_min is whole: no rounding
    n = np.abs(out.pulses)
    # b − w_n = (b − w_0)·(1 − step/|b|)^n
    expected_up = 0.8 - (0.8 - 0.1) * (1 - 0.02 / 0.8) ** n[0]
    expected_down = -0.5 + (-0.2 + 0.5) * (1 - 0.02 / 0.5) ** n[1]
    np.testing.assert_allclose(out.hidden, [expected_up, expected_down], rtol=1e-12)


def test_soft_bounds_noise_is_multiplicative_or_additive():
    devices = fixed(N, up=2e-3, w_max=0.5)
    w0 = np.full(N, 0.25)  # the soft-bound step here is half the step
    dw = np.full(N, 0.999e-3)
    mult = SoftBounds(dw_min_std=0.3).update(w0, w0, dw, devices, np.random.default_rng(5))
    add = ReRamSB(dw_min_std=0.3, write_noise_std=0.0).update(
        w0, w0, dw, devices, np.random.default_rng(5)
    )
    for out, sigma in ((mult, 0.3 * 1e-3), (add, 0.3 * 2e-3)):
        one = out.pulses == 1
        moved = out.hidden[one] - 0.25
        assert abs(moved.mean() - 1e-3) < 5 * sigma / np.sqrt(one.sum())
        assert abs(moved.std() / sigma - 1) < 0.01


def test_write_noise_is_drawn_on_the_devices_written():
    model = ConstantStep(dw_min_std=0.0, write_noise_std=10.0)
    rng = np.random.default_rng(6)
    devices = fixed(N)
    start = model.set_weights(np.full(N, 0.1), devices, rng)
    np.testing.assert_array_equal(start.hidden, 0.1)
    assert abs(np.std(start.apparent - 0.1) / 1e-2 - 1) < 0.01  # σ = write_noise_std·dw_min
    dw = np.where(np.arange(N) < N // 2, 0.0, 1.5e-3)
    out = model.update(start.hidden, start.apparent, dw, devices, rng)
    untouched = out.pulses == 0
    np.testing.assert_array_equal(out.apparent[untouched], start.apparent[untouched])
    assert np.all(out.apparent[~untouched] != start.apparent[~untouched])
    noise = out.apparent[~untouched] - out.hidden[~untouched]
    assert abs(noise.std() / 1e-2 - 1) < 0.02


def test_setting_weights_clips_to_each_devices_bounds():
    model = ConstantStep()
    devices = fixed(3, w_min=-0.3, w_max=0.4)
    out = model.set_weights(np.array([-1.0, 0.2, 1.0]), devices, np.random.default_rng(7))
    np.testing.assert_array_equal(out.hidden, [-0.3, 0.2, 0.4])


def test_presets_carry_aihwkits_defaults_and_bad_settings_are_named():
    reram = device_model("reram_sb")
    assert (reram.dw_min, reram.w_max, reram.w_min, reram.dw_min_std) == (0.002, 1.25, -0.75, 3.75)
    assert reram.write_noise_std == 56.0 and reram.step == "soft_bounds" and not reram.mult_noise
    soft = device_model("soft_bounds", {"mult_noise": "false"})
    assert soft.step == "soft_bounds" and not soft.mult_noise
    with pytest.raises(SettingsError, match="w_min must be a finite number < 0"):
        device_model("constant_step", {"w_min": "0.1"})
    with pytest.raises(SettingsError, match="mult_noise must be true or false"):
        device_model("soft_bounds", {"mult_noise": "maybe"})


def test_the_exponential_step_follows_its_formula():
    model = ReRamES(dw_min_std=0.0, write_noise_std=0.0, max_pulses=1)  # one pulse each
    w0 = np.linspace(-0.9, 0.9, 7)
    devices = fixed(7, up=1e-3, down=2e-3, w_min=-1.0, w_max=1.0)
    z = 2 * w0 / 2.0 * (-0.5) + (-0.5)  # z = 2w/(b_max − b_min)·a + b
    up = model.update(w0, w0, np.full(7, 1.0), devices, np.random.default_rng(8))
    y_up = np.maximum(1 + 1.18445 * np.exp(5 * z), 0)  # A_up = −1.18445
    np.testing.assert_allclose(up.hidden - w0, 1e-3 * y_up, rtol=1e-12)
    down = model.update(w0, w0, np.full(7, -1.0), devices, np.random.default_rng(8))
    y_down = np.maximum(1 + 0.081404 * np.exp(-5 * z), 0)
    np.testing.assert_allclose(w0 - down.hidden, 2e-3 * y_down, rtol=1e-12)
