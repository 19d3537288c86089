"""``neurosim program``: a network on realistic devices, as a chip netlist that every
command (and ngspice) reads; same seed, same chip; ideal devices change nothing."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.cli.main import cli
from neurosim.host import Chip
from neurosim.netlist.parse import parse_netlist
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
XOR = ROOT / "netlists/xor.cir"
TINY = ROOT / "tests/fixtures/v3_run/tiny_flow.cir"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_ideal_devices_reproduce_the_netlist(tmp_path):
    result = run("program", XOR, "--device", "ideal", "-o", tmp_path / "chip.cir")
    assert result.exit_code == 0, result.output
    chip, given = parse_netlist(tmp_path / "chip.cir"), parse_netlist(XOR)
    assert chip.elements == given.elements
    assert chip.programmed[-1]["device"] == "ideal"


def test_the_same_seed_gives_the_same_chip_and_another_seed_another(tmp_path):
    paths = [tmp_path / f"{k}.cir" for k in range(3)]
    for path, seed in zip(paths, (5, 5, 6), strict=True):
        assert run("program", TINY, "--seed", seed, "--time", 3600, "-o", path).exit_code == 0
    assert paths[0].read_bytes() == paths[1].read_bytes() != paths[2].read_bytes()


def test_a_pcm_chip_is_what_ngspice_sees_and_info_says_what_was_done(tmp_path):
    chip = tmp_path / "chip.cir"
    result = run("program", XOR, "--device", "pcm", "--time", 86400, "-o", chip)
    assert result.exit_code == 0, result.output
    assert "devices of" in result.output and "86400 s after programming" in result.output
    check = run("check", chip, "--count", 2)
    assert check.exit_code == 0 and ": OK" in check.output, check.output
    info = run("info", chip)
    assert "pcm (drift_scale 1.0, g_max 2.5e-05" in info.output and "seed 0" in info.output
    before, after = Chip(parse_netlist(XOR)), Chip(parse_netlist(chip))
    for name, value in before.parameters().items():
        assert not np.array_equal(after.parameters()[name], value)


def test_generic_quantised_devices_sit_on_their_levels(tmp_path):
    chip = tmp_path / "chip.cir"
    settings = ("--set", "g_max=2.5e-5", "--set", "bits=3")
    result = run("program", TINY, "--device", "generic", *settings, "-o", chip)
    assert result.exit_code == 0, result.output
    state = Chip(parse_netlist(chip)).device_state()
    levels = np.linspace(0, 2.5e-5, 8)
    for key, g in state.items():
        if key.startswith("conductance/"):
            g = np.where(g <= 1e-12, 0.0, g)  # a 0 S device is written as 1e-12 S (open)
            assert np.all(np.min(np.abs(g.reshape(-1, 1) - levels), axis=1) < 1e-15), key
    relaxed = run("relax", chip, "--count", 3, "--out", tmp_path / "eq.h5")
    assert relaxed.exit_code == 0, relaxed.output


def test_bad_settings_are_one_line_errors(tmp_path):
    out = tmp_path / "chip.cir"
    cases = [
        (("--set", "prog_noise_scale=-1"), "prog_noise_scale must be a finite number >= 0"),
        (("--set", "bits=4"), "bits is not a setting of device 'pcm'"),
        (("--set", "g_max"), "expects KEY=VALUE"),
        (("--time", "-5"), "must be >= 0 seconds"),
        (("--time", "nan"), "must be >= 0 seconds"),
        (("--seed", "-1"), "Invalid value for '--seed'"),
        (("--device", "memristor"), "Invalid value for '--device'"),
    ]
    for extra, message in cases:
        assert_one_line_error(run("program", XOR, *extra, "-o", out), message)
    assert not out.exists()
    assert_one_line_error(run("program", XOR, "-o", XOR), "is the input")


def test_a_damaged_programmed_record_names_its_line(tmp_path):
    chip = tmp_path / "chip.cir"
    assert run("program", XOR, "-o", chip).exit_code == 0
    text = chip.read_text().replace("*@neurosim programmed {", "*@neurosim programmed [{", 1)
    chip.write_text(text)
    line = next(k for k, t in enumerate(text.splitlines(), 1) if "programmed" in t)
    assert_one_line_error(run("info", chip), f"{chip}:{line}:", "bad programmed metadata")


def test_the_api_programs_the_same_chip():
    import neurosim

    a = neurosim.program(XOR, "pcm", {"drift_scale": 0.5}, seconds=60.0, seed=3)
    b = neurosim.program(
        neurosim.load_netlist(XOR), "pcm", {"drift_scale": "0.5"}, seconds=60.0, seed=3
    )
    assert a.circuit.elements == b.circuit.elements and a.devices == 42
    assert a.record["settings"]["drift_scale"] == 0.5


def test_evaluate_gives_trainings_held_out_accuracy_also_on_an_ideal_chip(tmp_path):
    import neurosim

    settings = neurosim.ClassifySettings(epochs=1, limit=120)
    result = neurosim.train(ROOT / "netlists/digits_classify.cir", "classify", settings=settings)
    scores = neurosim.evaluate(result.chip, "classify", settings)
    assert scores["accuracy"] == result.history["test_accuracy"][-1]
    ideal = neurosim.program(result.circuit, "ideal").circuit
    assert neurosim.evaluate(ideal, "classify", settings)["accuracy"] == scores["accuracy"]
    neurosim.write_netlist(result.circuit, tmp_path / "trained.cir")
    shown = run("evaluate", tmp_path / "trained.cir")
    assert shown.exit_code == 0 and "held-out accuracy" in shown.output, shown.output
    assert_one_line_error(run("evaluate", XOR), "64-dimensional data for 2 input units")
    assert_one_line_error(run("evaluate", XOR, "--seed", "-3"), "--seed: must be a whole number")


def test_drift_compensation_is_a_gain_on_every_injection_amplifier(tmp_path):
    """α = Σ|G⁺ − G⁻| of the weight arrays right after programming over the same at the
    time asked for; written as the injection gain of every unit, and what ngspice sees."""
    import neurosim
    from neurosim.lower.crossbar import lower_crossbar

    settings = {"prog_noise_scale": 0.0, "read_noise_scale": 0.0}
    made = neurosim.program(XOR, "pcm", settings, seconds=86400.0, seed=2, compensate=True)
    before = Chip(parse_netlist(XOR)).device_state()
    after = Chip(made.circuit).device_state()
    weights = [k for k in before if k.startswith("conductance/w")]
    reference = sum(np.abs(np.diff(np.minimum(before[k], 25e-6), axis=-1)).sum() for k in weights)
    now = sum(np.abs(np.diff(after[k], axis=-1)).sum() for k in weights)
    assert made.compensation == pytest.approx(reference / now, rel=1e-12)
    assert made.compensation > 1.2  # a day of drift: (86420/20)^-ν, ν ≈ 0.05-0.1
    gains = lower_crossbar(made.circuit).inj_gain
    np.testing.assert_allclose(gains, made.compensation, rtol=1e-12)
    chip = tmp_path / "chip.cir"
    neurosim.write_netlist(made.circuit, chip)
    check = run("check", chip, "--count", 2)
    assert check.exit_code == 0 and ": OK" in check.output, check.output
    assert "compensation" in run("info", chip).output


def test_evaluate_reads_through_an_adc_and_sets_inputs_through_a_dac():
    """Ideal converters (0 bits) change nothing; coarse ones change the accuracy."""
    trained = ROOT / "netlists/digits_classify.cir"
    import json

    plain = json.loads(run("evaluate", trained, "--json").output)["accuracy"]
    for flags in (("--adc-bits", "0"), ("--dac-bits", "0")):
        result = run("evaluate", trained, "--json", *flags)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["accuracy"] == plain
    coarse = json.loads(run("evaluate", trained, "--json", "--dac-bits", "1").output)
    assert coarse["accuracy"] != plain
    assert_one_line_error(run("evaluate", trained, "--dac-bits", "-1"), "--dac-bits")
