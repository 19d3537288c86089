"""Device models on the new families: a deep resistive network's resistors are
programmed onto device models (levels and drift by their defining formulas, ngspice
sees the chip, same seed same chip) and swept; an oscillator network, whose parameters
are behavioural sources, and the crossbar-only options are refused by name."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from neurosim import api
from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.circuit.resistive import device_names
from neurosim.cli.main import cli
from neurosim.netlist.parse import parse_netlist
from neurosim.netlist.write import write_netlist
from neurosim.network.resistive import compile_resistive, init_resistive
from neurosim.sweeps.config import SweepConfig
from neurosim.sweeps.point import OK, Task, run_task
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
G_MIN, G_MAX = 1e-7, 1e-5


def resistive(tmp_path: Path, inputs: int = 3, outputs: int = 2) -> Path:
    layers = (
        Layer("in", inputs, "input", "linear"),
        Layer("h", 4, "hidden", "linear"),
        Layer("out", outputs, "output", "linear"),
    )
    scaling = Scaling(volts_per_unit=1.0, g_unit=G_MAX, g_min=G_MIN, tau=1e-6)
    meta = NetworkMeta("resistive", "co_content", layers, (("in", "h"), ("h", "out")), scaling)
    circuit = compile_resistive(meta, init_resistive(meta, np.random.default_rng(0)))
    return write_netlist(circuit, tmp_path / "drn.cir")


def conductances(path: Path) -> np.ndarray:
    circuit = parse_netlist(path)
    names = [n for names in device_names(circuit.network).values() for n in names]
    return np.array([1.0 / circuit.elements[n].value for n in names])


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_levels_and_drift_follow_their_formulas_and_only_the_devices_change(tmp_path):
    path = resistive(tmp_path)
    given = conductances(path)
    settings = {"g_min": G_MIN, "g_max": G_MAX, "bits": 3, "nu": 0.05}
    made = api.program(path, "generic", settings, seconds=1000.0, seed=3)
    levels = np.linspace(G_MIN, G_MAX, 8)
    nearest = levels[np.argmin(np.abs(given[:, None] - levels), axis=1)]
    out = write_netlist(made.circuit, tmp_path / "chip.cir")
    drift = ((1000.0 + 20.0) / 20.0) ** -0.05  # G(t) = G((t + t0)/t0)^-nu, t0 = 20 s
    assert np.allclose(conductances(out), nearest * drift, rtol=1e-9)
    assert made.devices == given.size and made.compensation is None
    before, after = parse_netlist(path), parse_netlist(out)
    devices = {n for names in device_names(before.network).values() for n in names}
    assert {k: v for k, v in after.elements.items() if k not in devices} == {
        k: v for k, v in before.elements.items() if k not in devices
    }
    assert after.programmed[-1]["device"] == "generic"


def test_a_programmed_resistive_chip_is_what_ngspice_sees_and_the_seed_fixes_it(tmp_path):
    path = resistive(tmp_path)
    chips = [tmp_path / f"{k}.cir" for k in range(3)]
    for chip, seed in zip(chips, (5, 5, 6), strict=True):
        result = run("program", path, "--device", "pcm", "--seed", seed, "-o", chip)
        assert result.exit_code == 0, result.output
        assert f"{conductances(path).size} devices of" in result.output
    assert chips[0].read_bytes() == chips[1].read_bytes() != chips[2].read_bytes()
    assert not np.allclose(conductances(chips[0]), conductances(path))
    check = run("check", chips[0], "--count", 2)
    assert check.exit_code == 0 and ": OK" in check.output, check.output


@pytest.mark.parametrize(
    ("netlist", "options", "words"),
    [
        ("oscillator", (), "oscillator network has no devices to program"),
        ("resistive", ("--compensate",), "a resistive network has none"),
        ("resistive", ("--amplifier", "driver_offset=0.01"), "has no amplifiers"),
    ],
)
def test_what_does_not_apply_is_refused_by_name(tmp_path, netlist, options, words):
    path = ROOT / "netlists/digits_oim.cir" if netlist == "oscillator" else resistive(tmp_path)
    out = tmp_path / "chip.cir"
    result = run("program", path, *options, "-o", out)
    assert_one_line_error(result, words)
    assert not out.exists()


def test_a_sweep_point_programs_and_scores_a_resistive_classifier(tmp_path):
    path = resistive(tmp_path, inputs=64, outputs=10)
    config = SweepConfig(str(path), device="generic", settings=("g_max=1e-5", "bits=2"))
    outcome = run_task(config.record(), Task(0, 0, 7, {}))
    assert outcome.status == OK, outcome.reason
    assert 0 <= outcome.metrics["accuracy"] <= 1 and outcome.metrics["unsettled"] == 0


def test_a_resistive_network_trains_on_devices_and_resumes_exactly(tmp_path):
    import neurosim
    from neurosim.io.checkpoint_h5 import read_checkpoint

    path = resistive(tmp_path, inputs=64, outputs=10)
    levels = np.linspace(G_MIN, G_MAX, 16)
    device = dict(device="generic", device_settings=("g_min=1e-7", "g_max=1e-5", "bits=4"))
    run = dict(limit=96, lr=0.05, beta=0.1, checkpoint_every=1, **device)
    two = neurosim.ClassifySettings(epochs=2, **run)
    straight = neurosim.train(path, "classify", settings=two, out=tmp_path / "a")
    one = neurosim.ClassifySettings(epochs=1, **run)
    neurosim.train(path, "classify", settings=one, out=tmp_path / "b")
    resumed = neurosim.train(path, "classify", settings=two, out=tmp_path / "b", resume=True)
    a, b = (read_checkpoint(tmp_path / n / "checkpoint.h5") for n in ("a", "b"))
    assert set(a.devices) == set(b.devices) and any(k.startswith("target/") for k in a.devices)
    for key in a.devices:
        np.testing.assert_array_equal(a.devices[key], b.devices[key])
    assert resumed.history["test_accuracy"] == straight.history["test_accuracy"]
    # every device sits on one of the 16 levels; the targets moved off them
    held = conductances(tmp_path / "a/trained.cir")
    assert np.abs(held[:, None] - levels).min(axis=1).max() < 1e-12
    assert not np.allclose(a.devices["target/w0"], a.devices["conductance/w0"])
    assert not np.array_equal(
        a.devices["target/w0"], conductances(path)[: a.devices["target/w0"].size]
    )


def test_pulsed_devices_and_oscillators_do_not_train_on_devices(tmp_path):
    result = run(
        "train",
        "--netlist",
        resistive(tmp_path, inputs=64, outputs=10),
        "--objective",
        "classify",
        "--device",
        "reram_sb",
        "--out",
        tmp_path / "r",
    )
    assert_one_line_error(result, "single resistors train on pcm or generic")
    result = run(
        "train",
        "--netlist",
        ROOT / "netlists/digits_oim.cir",
        "--objective",
        "classify",
        "--device",
        "pcm",
        "--out",
        tmp_path / "o",
    )
    assert_one_line_error(result, "oscillator network has no devices to program")
