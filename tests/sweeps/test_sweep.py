"""``neurosim sweep``: the grid and its seeds, the same numbers on every executor, a
killed sweep continued without redoing finished points, a changed sweep refused, a
failing point recorded."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import neurosim
from neurosim.cli.main import cli
from neurosim.errors import NeurosimError
from neurosim.io.sweep_h5 import read_sweep
from neurosim.sweeps.config import SweepConfig, from_toml
from neurosim.sweeps.grid import Axis, parse_axis, parse_spec, seed_of
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
CLASSIFY = str(ROOT / "netlists/digits_classify.cir")


def config(**extra) -> SweepConfig:
    values = {
        "netlist": CLASSIFY,
        "device": "pcm",
        "axes": (Axis("time", (1.0, 86400.0)), Axis("compensate", (False, True))),
        "repeats": 2,
        "seed": 3,
    }
    return SweepConfig(**{**values, **extra})


def test_specs_name_their_values():
    assert parse_spec("4,6,8") == (4, 6, 8)
    assert parse_spec("0:1:5") == (0.0, 0.25, 0.5, 0.75, 1.0)
    np.testing.assert_allclose(parse_spec("log:1:1000:4"), (1, 10, 100, 1000), rtol=1e-12)
    assert parse_spec("true,false") == (True, False)
    assert parse_axis("prog_noise_kind=absolute,proportional").values == (
        "absolute",
        "proportional",
    )
    for bad in ("0:1", "0:1:0", "log:0:1:3", "1,,2"):
        with pytest.raises(NeurosimError):
            parse_spec(bad)
    with pytest.raises(NeurosimError, match="--vary expects KEY=SPEC"):
        parse_axis("bits")


def test_a_repeats_seed_depends_only_on_the_base_point_and_repeat():
    seeds = {seed_of(0, p, r) for p in range(50) for r in range(4)}
    assert len(seeds) == 200 and all(0 <= s < 2**63 for s in seeds)
    assert seed_of(7, 3, 1) == seed_of(7, 3, 1) != seed_of(8, 3, 1)


def test_keys_are_placed_by_name_and_unknown_ones_refused():
    made = config(settings=("driver_gain_error=0.02", "adc_bits=6"))
    placed = made.point_settings({"time": 1.0, "compensate": True})
    assert placed["programming"] == {"time": 1.0, "compensate": True}
    assert placed["amplifiers"] == {"driver_gain_error": "0.02"}
    assert placed["converters"] == {"adc_bits": "6"}
    with pytest.raises(NeurosimError, match="bits is not a setting of the device"):
        config(axes=(Axis("bits", (4, 6)),))
    with pytest.raises(NeurosimError, match="pulsed-update device: sweep it with mode train"):
        config(device="reram_sb")
    with pytest.raises(NeurosimError, match="both fixed"):
        config(settings=("time=5",))


def test_every_executor_gives_the_same_numbers(tmp_path):
    sweep = config()
    one = neurosim.sweep(sweep, tmp_path / "one.h5")
    two = neurosim.sweep(sweep, tmp_path / "two.h5", workers=2)
    dask = neurosim.sweep(sweep, tmp_path / "dask.h5", dask_local=2)
    for other in (two, dask):
        np.testing.assert_array_equal(one.seed, other.seed)
        np.testing.assert_array_equal(one.status, other.status)
        assert one.metrics.keys() == other.metrics.keys()
        for name in one.metrics:
            np.testing.assert_array_equal(one.metrics[name], other.metrics[name])
    assert np.all(one.status == 1)
    accuracy = one.metrics["accuracy"]
    assert accuracy.shape == (4, 2) and not np.array_equal(accuracy[0], accuracy[1])
    stored = read_sweep(tmp_path / "two.h5")
    np.testing.assert_array_equal(stored.metrics["accuracy"], accuracy)


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(tmp_path):
    sweep = config(
        device="generic", axes=(Axis("bits", (-1, 4)),), settings=("g_max=3.6e-5",), repeats=1
    )
    results = neurosim.sweep(sweep, tmp_path / "s.h5")
    assert list(results.status[:, 0]) == [2, 1]
    assert "bits must be a whole number >= 0" in results.reason[0, 0]
    assert np.isnan(results.metrics["accuracy"][0, 0])
    assert 0 <= results.metrics["accuracy"][1, 0] <= 1


def test_a_changed_sweep_is_refused_and_the_same_one_continues(tmp_path):
    out = tmp_path / "s.h5"
    first = neurosim.sweep(config(repeats=1), out)
    with pytest.raises(NeurosimError, match="holds another sweep \\(repeats differ\\)"):
        neurosim.sweep(config(repeats=2), out)
    again = neurosim.sweep(config(repeats=1), out)  # nothing left to run: nothing reruns
    np.testing.assert_array_equal(first.seconds, again.seconds)


def test_a_killed_sweep_continues_without_redoing_finished_points(tmp_path):
    out = tmp_path / "s.h5"
    args = [
        sys.executable, "-m", "neurosim", "sweep", CLASSIFY, "--device", "pcm",
        "--vary", "time=1,10,100,1000,10000,100000", "--repeats", "2", "--workers", "1",
        "--seed", "3", "--out", str(out),
    ]  # fmt: skip
    process = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    done = 0
    while process.poll() is None:  # until three points are stored (or, wrongly, it ends)
        time.sleep(0.2)
        try:
            done = int(np.count_nonzero(read_sweep(out).status))
        except NeurosimError:
            continue  # not written yet
        if done >= 3:
            break
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert 3 <= done < 12, done
    killed = read_sweep(out)
    finished = killed.status != 0
    result = CliRunner().invoke(cli, [str(a) for a in args[3:]])
    assert result.exit_code == 0, result.output
    continued = read_sweep(out)
    assert np.all(continued.status == 1)
    np.testing.assert_array_equal(continued.seconds[finished], killed.seconds[finished])
    straight = neurosim.sweep(
        SweepConfig(
            netlist=CLASSIFY,
            device="pcm",
            axes=(Axis("time", (1, 10, 100, 1000, 10000, 100000)),),
            repeats=2,
            seed=3,
        ),
        tmp_path / "straight.h5",
    )
    np.testing.assert_array_equal(continued.metrics["accuracy"], straight.metrics["accuracy"])


def test_the_command_writes_a_plot_and_json_and_reads_a_toml_sweep(tmp_path):
    toml = tmp_path / "sweep.toml"
    toml.write_text(
        f'netlist = "{CLASSIFY}"\ndevice = "generic"\nrepeats = 1\n'
        '[set]\ng_max = 3.6e-5\n[vary]\nbits = [2, 8]\nprog_noise = "0:1e-6:2"\n'
    )
    assert [a.key for a in from_toml(toml).axes] == ["bits", "prog_noise"]
    png, out = tmp_path / "s.png", tmp_path / "s.h5"
    run = lambda *a: CliRunner().invoke(cli, [str(x) for x in a])  # noqa: E731
    result = run("sweep", "--config", toml, "--out", out, "--png", png, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output.splitlines()[-1])["rows"]
    assert [(r["bits"], r["prog_noise"]) for r in rows] == [
        (2, 0.0), (2, 1e-6), (8, 0.0), (8, 1e-6)
    ]  # fmt: skip
    assert all("seconds" not in r for r in rows) and png.read_bytes()[:4] == b"\x89PNG"
    assert_one_line_error(
        run("sweep", "--config", toml, "--device", "pcm", "--out", out), "--config"
    )
    assert_one_line_error(run("sweep", CLASSIFY, "--vary", "g_max", "--out", out), "KEY=SPEC")
    assert_one_line_error(run("sweep", CLASSIFY, "--out", CLASSIFY), "--out")


def test_train_mode_trains_each_chip_hardware_aware(tmp_path):
    """mode train: each repeat trains on its own devices (here 1 epoch on 64 digits,
    read through a 6-bit ADC) and is scored on its run's held-out split."""
    sweep = SweepConfig(
        netlist=CLASSIFY,
        device="generic",
        mode="train",
        axes=(Axis("prog_noise", (0.0, 2e-6)),),
        settings=("adc_bits=6",),
        train=("epochs=1", "limit=64"),
        seed=1,
    )
    results = neurosim.sweep(sweep, tmp_path / "t.h5")
    assert np.all(results.status == 1), results.reason
    accuracy = results.metrics["accuracy"][:, 0]
    assert np.all((0 <= accuracy) & (accuracy <= 1)) and accuracy[0] != accuracy[1]
    with pytest.raises(NeurosimError, match="epochs is not a setting"):
        SweepConfig(netlist=CLASSIFY, axes=(Axis("epochs", (1, 2)),))  # inference mode


def test_a_flow_sweep_scores_sample_quality(tmp_path):
    tiny = str(ROOT / "tests/fixtures/v3_run/tiny_flow.cir")
    sweep = SweepConfig(netlist=tiny, objective="flow", axes=(Axis("time", (1.0,)),))
    results = neurosim.sweep(sweep, tmp_path / "f.h5")
    assert results.status[0, 0] == 1 and sweep.metric == "frechet"
    assert np.isfinite(results.metrics["frechet"][0, 0]) and "coverage" in results.metrics
