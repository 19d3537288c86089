"""The chip's amplifiers: gain errors, offsets and swing drawn per amplifier, written
into the driver and injection elements, and the chip they make is what ngspice sees."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import neurosim
from neurosim.circuit.activations import get_activation
from neurosim.circuit.templates import driver_parameters
from neurosim.cli.main import cli
from neurosim.devices.amplifiers import Amplifiers
from neurosim.host import Chip
from neurosim.lower.crossbar import lower_crossbar
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
XOR = ROOT / "netlists/xor.cir"
ERRORS = {
    "driver_gain_error": 0.05,
    "driver_offset": 0.01,
    "driver_swing": 0.08,
    "injection_gain_error": 0.1,
}


def test_errors_are_drawn_per_amplifier_as_defined():
    model = Amplifiers(driver_gain_error=0.02, driver_offset=0.003, injection_gain_error=0.05)
    errors = model.draw(100_000, 100_000, np.random.default_rng(0))
    for values, mean, sigma in (
        (errors.driver_gain, 1.0, 0.02),
        (errors.driver_offset, 0.0, 0.003),
        (errors.injection_gain, 1.0, 0.05),
    ):
        assert abs(values.mean() - mean) < 5 * sigma / np.sqrt(values.size)
        assert abs(values.std() / sigma - 1) < 0.01


def test_the_errors_are_written_into_the_elements():
    plain = neurosim.program(XOR, "pcm", seed=3)
    made = neurosim.program(XOR, "pcm", seed=3, amplifiers=ERRORS)
    assert made.record["amplifiers"]["driver_swing"] == 0.08
    circuit, given = made.circuit, neurosim.load_netlist(XOR)
    chip = Chip(given)
    # the same devices with or without the amplifiers' errors
    np.testing.assert_array_equal(
        Chip(made.circuit).device_state()["conductance/w0.forward"],
        Chip(plain.circuit).device_state()["conductance/w0.forward"],
    )
    errors = Amplifiers(**ERRORS).draw(
        len(chip.driver_elements()), len(chip.injection_elements()), np.random.default_rng([3, 2])
    )
    vs = given.network.scaling.volts_per_unit
    for (name, node, layer), gain, offset in zip(
        chip.driver_elements(), errors.driver_gain, errors.driver_offset, strict=True
    ):
        element = circuit.elements[name]
        if element.kind == "e":  # a linear layer's VCVS driver: its gain only
            assert element.value == pytest.approx(given.elements[name].value * gain, rel=1e-15)
            continue
        activation = get_activation(given.network.layer(layer).activation)
        driver = driver_parameters(element.expr, activation, node, vs)
        assert driver.gain == pytest.approx(gain, rel=1e-15)
        assert driver.offset == pytest.approx(offset, rel=1e-15)
        assert (driver.low, driver.high) == (-0.08, 0.08)
    # the injection gains the engine reads off the chip are the drawn ones
    np.testing.assert_allclose(
        lower_crossbar(circuit).inj_gain,
        lower_crossbar(given).inj_gain * errors.injection_gain,
        rtol=1e-15,
    )


def test_exact_amplifiers_change_nothing():
    plain = neurosim.program(XOR, "pcm", seed=1)
    exact = neurosim.program(XOR, "pcm", seed=1, amplifiers={})
    assert plain.circuit.elements == exact.circuit.elements
    assert "amplifiers" not in exact.record


def test_a_chip_with_amplifier_errors_is_what_ngspice_sees(tmp_path):
    chip = tmp_path / "chip.cir"
    pairs = [arg for key, value in ERRORS.items() for arg in ("--amplifier", f"{key}={value}")]
    result = CliRunner().invoke(
        cli, ["program", str(XOR), "--device", "pcm", *pairs, "-o", str(chip)]
    )
    assert result.exit_code == 0, result.output
    check = CliRunner().invoke(cli, ["check", str(chip), "--count", 3])
    assert check.exit_code == 0 and ": OK" in check.output, check.output
    info = CliRunner().invoke(cli, ["info", str(chip)])
    assert "driver_swing" in info.output, info.output


def test_bad_amplifier_settings_are_one_line_errors(tmp_path):
    out = str(tmp_path / "chip.cir")
    for pair, message in (
        ("driver_offset=-1", "amplifiers: driver_offset must be a finite number >= 0"),
        ("driver_swing=0", "driver_swing must be a number > 0"),
        ("gain=2", "gain is not a setting of amplifiers"),
    ):
        result = CliRunner().invoke(cli, ["program", str(XOR), "--amplifier", pair, "-o", out])
        assert_one_line_error(result, message)
