"""Hardware-aware training: the chip is programmed onto the device model first and
every update is written through it; resume stays exact; ideal devices change nothing."""

from pathlib import Path

import numpy as np
import pytest

import neurosim
from neurosim.host.programming import encode
from neurosim.io.checkpoint_h5 import read_checkpoint

ROOT = Path(__file__).resolve().parents[2]
CLASSIFY = ROOT / "netlists/digits_classify.cir"


def settings(**extra):
    return neurosim.ClassifySettings(**{"epochs": 2, "limit": 120, **extra})


def test_updates_go_through_the_devices_and_resume_is_exact(tmp_path):
    pcm = settings(device="pcm", device_settings=("prog_noise_scale=2",))
    straight = neurosim.train(CLASSIFY, "classify", settings=pcm, out=tmp_path / "a")
    one = settings(epochs=1, device="pcm", device_settings=("prog_noise_scale=2",))
    first = neurosim.train(CLASSIFY, "classify", settings=one, out=tmp_path / "b")
    assert first.epochs == 1
    resumed = neurosim.train(CLASSIFY, "classify", settings=pcm, out=tmp_path / "b", resume=True)
    a, b = (read_checkpoint(tmp_path / name / "checkpoint.h5") for name in ("a", "b"))
    for name in a.devices:
        np.testing.assert_array_equal(a.devices[name], b.devices[name])
    assert resumed.history["test_accuracy"] == straight.history["test_accuracy"]
    # the devices hold noisy versions of the host's targets, each array its own draws
    state = straight.chip.device_state()
    scaling = straight.chip.meta.scaling
    exact = encode(state["target/w1.forward"], scaling)
    deviation = np.abs(state["conductance/w1.forward"] - exact)
    assert deviation.mean() > 1e-7  # σ_p ≈ 2 × 0.27–0.6 µS
    assert not np.array_equal(state["conductance/w1.forward"], state["conductance/w1.backward"])


def test_ideal_devices_train_as_before():
    ideal = neurosim.train(CLASSIFY, "classify", settings=settings(device="ideal"))
    plain = neurosim.train(CLASSIFY, "classify", settings=settings())
    assert ideal.history == plain.history | {"seconds": ideal.history["seconds"]}
    for name, value in plain.chip.device_state().items():
        np.testing.assert_array_equal(ideal.chip.device_state()[name], value)


def test_a_bad_device_setting_is_refused_when_the_settings_are_made():
    with pytest.raises(neurosim.SettingsError, match="prog_noise_scale must be a finite"):
        settings(device="pcm", device_settings=("prog_noise_scale=-1",))
    with pytest.raises(neurosim.SettingsError, match="bits is not a setting of device 'pcm'"):
        settings(device="pcm", device_settings=("bits=4",))


def test_pulsed_devices_train_open_loop_and_resume_exactly(tmp_path):
    """Updates are pulses written without reading the devices back: what the devices
    hold drifts away from the host's targets; the hidden device state is checkpointed,
    so a resumed run is the uninterrupted one, bit for bit."""
    soft = settings(device="soft_bounds", device_settings=("write_noise_std=5",))
    straight = neurosim.train(CLASSIFY, "classify", settings=soft, out=tmp_path / "a")
    one = settings(epochs=1, device="soft_bounds", device_settings=("write_noise_std=5",))
    neurosim.train(CLASSIFY, "classify", settings=one, out=tmp_path / "b")
    resumed = neurosim.train(CLASSIFY, "classify", settings=soft, out=tmp_path / "b", resume=True)
    a, b = (read_checkpoint(tmp_path / name / "checkpoint.h5") for name in ("a", "b"))
    assert any(name.startswith("programmer/hidden/") for name in a.devices)
    assert a.devices.keys() == b.devices.keys()
    for name in a.devices:
        np.testing.assert_array_equal(a.devices[name], b.devices[name])
    assert resumed.history["test_accuracy"] == straight.history["test_accuracy"]
    chip = straight.chip
    for name, target in chip.targets().items():
        if name in chip.trained:
            assert not np.allclose(chip.parameters()[name], target, atol=1e-3)


def test_a_pulsed_device_is_for_training_only():
    with pytest.raises(neurosim.SettingsError, match="'reram_sb' is a pulsed-update device"):
        neurosim.program(CLASSIFY, "reram_sb")


def test_training_reads_through_the_converters_and_resumes_exactly(tmp_path):
    """An ADC with read noise and an input DAC act in every phase; the read noise is
    drawn per epoch from the seed, so a resumed run reads what an uninterrupted one did."""
    extra = {"adc_bits": 5, "read_noise": 0.05, "dac_bits": 3}
    straight = neurosim.train(CLASSIFY, "classify", settings=settings(**extra), out=tmp_path / "a")
    neurosim.train(CLASSIFY, "classify", settings=settings(epochs=1, **extra), out=tmp_path / "b")
    resumed = neurosim.train(
        CLASSIFY, "classify", settings=settings(**extra), out=tmp_path / "b", resume=True
    )
    assert resumed.history["test_accuracy"] == straight.history["test_accuracy"]
    a, b = (read_checkpoint(tmp_path / name / "checkpoint.h5") for name in ("a", "b"))
    for name in a.devices:
        np.testing.assert_array_equal(a.devices[name], b.devices[name])
    plain = neurosim.train(CLASSIFY, "classify", settings=settings())
    assert plain.history["loss"] != straight.history["loss"]
