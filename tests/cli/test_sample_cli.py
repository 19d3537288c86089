"""``neurosim sample``: samples and grid from a netlist or a RUN_DIR, one-line errors."""

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.cli.main import cli
from neurosim.host import Chip
from neurosim.io.checkpoint_h5 import Checkpoint, write_checkpoint
from neurosim.io.samples_h5 import read_samples
from neurosim.netlist.parse import parse_netlist
from neurosim.netlist.write import write_netlist
from neurosim.network.compile import compile_network
from neurosim.network.model import init_params
from neurosim.samplers.flow import euler_samples
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "netlists/digits_flow.cir"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_sample_writes_samples_settings_and_grid(tmp_path):
    out, png = tmp_path / "s.h5", tmp_path / "grid.png"
    args = ("--n", 16, "--dt", 0.25, "--readout", "energy", "--seed", 4)
    result = run("sample", DIGITS, *args, "--out", out, "--png", png)
    assert result.exit_code == 0, result.output
    assert "16 samples of" in result.output and "4 Euler steps" in result.output
    written = read_samples(out)
    assert written.samples.shape == (16, 64) and np.all(np.abs(written.samples) <= 1)
    settings = written.settings
    assert settings["sampler"] == "flow_euler" and settings["readout"] == "energy"
    assert (settings["n"], settings["dt"], settings["t1"], settings["seed"]) == (16, 0.25, 1.0, 4)
    assert settings["alpha"] == 2.0 and settings["alpha_from"] == "default"
    assert settings["source"] == str(DIGITS) and settings["unsettled"] == 0
    assert settings["passes"] > 0 and settings["seconds"] > 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def small_run_dir(path: Path) -> Path:
    """A RUN_DIR holding a small flow network's trained.cir and a checkpoint (α = 3)."""
    layers = (Layer("x", 4, "visible", "linear"), Layer("h", 6, "hidden", "rho"))
    meta = NetworkMeta("crossbar", "scellier_bengio", layers, (("x", "h"),), Scaling(), 15.0)
    params = init_params(meta, np.random.default_rng(0), gain=0.8)
    path.mkdir()
    write_netlist(compile_network(meta, params), path / "trained.cir")
    write_checkpoint(
        path / "checkpoint.h5", Checkpoint(meta, {}, params, {}, {}, {}, settings={"alpha": 3.0})
    )
    return path


def test_a_run_dir_is_sampled_from_its_netlist_with_its_alpha(tmp_path):
    run_dir = small_run_dir(tmp_path / "run")
    out = tmp_path / "s.h5"
    result = run("sample", run_dir, "--n", 5, "--dt", 0.1, "--t1", 0.5, "--out", out)
    assert result.exit_code == 0, result.output
    written = read_samples(out)
    assert written.settings["alpha"] == 3.0 and written.settings["alpha_from"] == "checkpoint"
    crossbar = Chip(parse_netlist(run_dir / "trained.cir"))
    expected, _ = euler_samples(crossbar, 5, 0.5, 0.1, np.random.default_rng(0), 3.0)
    np.testing.assert_array_equal(written.samples, expected)


def test_bad_sources_and_options_are_one_line_errors(tmp_path):
    empty = tmp_path / "empty_run"
    empty.mkdir()
    (tmp_path / "taken").write_text("")
    cases = {
        "no trained.cir": (empty, "--out", tmp_path / "a.h5"),
        "no such file": (tmp_path / "missing.cir", "--out", tmp_path / "a.h5"),
        "--dt: must be a finite number > 0": (DIGITS, "--dt", 0, "--out", tmp_path / "a.h5"),
        "--t1: must be a finite number > 0": (DIGITS, "--t1", -1, "--out", tmp_path / "a.h5"),
        "whole number of steps": (DIGITS, "--dt", 0.3, "--out", tmp_path / "a.h5"),
        "--n: must be a whole number >= 1": (DIGITS, "--n", 0, "--out", tmp_path / "a.h5"),
        "at most 1,000,000": (DIGITS, "--dt", 1e-300, "--out", tmp_path / "a.h5"),
        "--seed: must be a whole number >= 0": (DIGITS, "--seed", -1, "--out", tmp_path / "a.h5"),
        "--tol: must be a finite number > 0": (DIGITS, "--tol", "nan", "--out", tmp_path / "a.h5"),
        "is a directory": (DIGITS, "--out", tmp_path),
        "is not a directory": (DIGITS, "--out", tmp_path / "taken" / "a.h5"),
        "exactly one visible layer": (ROOT / "netlists/xor.cir", "--out", tmp_path / "a.h5"),
    }
    for message, args in cases.items():
        result = run("sample", *args)
        assert_one_line_error(result, message)
    assert not (tmp_path / "a.h5").exists()


def test_a_run_dir_is_sampled_from_its_best_parameters_when_it_has_them(tmp_path):
    import shutil

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    shutil.copy(DIGITS, run_dir / "trained.cir")
    args = ("--n", 4, "--dt", 0.5, "--out", tmp_path / "a.h5", "--force")
    assert "trained.cir" in run("sample", run_dir, *args).output
    shutil.copy(DIGITS, run_dir / "best.cir")
    result = run("sample", run_dir, *args)
    assert result.exit_code == 0 and "best.cir" in result.output
    assert read_samples(tmp_path / "a.h5").settings["netlist"].endswith("best.cir")


def test_descent_samplers_record_each_samples_steps(tmp_path):
    """gd, nag and adaptive descend the circuit's landscape: the file records each
    sample's step count (adaptive: its own; a histogram beside the grid)."""
    tiny = ROOT / "tests/fixtures/v3_run/tiny_flow.cir"
    for sampler in ("gd", "nag"):
        out = tmp_path / f"{sampler}.h5"
        result = run("sample", tiny, "--sampler", sampler, "--n", 5, "--steps", 6, "--out", out)
        assert result.exit_code == 0, result.output
        written = read_samples(out)
        assert written.settings["sampler"] == sampler and list(written.steps) == [6] * 5
        assert written.settings["mu"] == (0.35 if sampler == "nag" else 0.0)
    out, png = tmp_path / "a.h5", tmp_path / "a.png"
    args = ("--sampler", "adaptive", "--n", 8, "--steps", 50, "--g-min", 0.6, "--eta", 0.2)
    result = run("sample", tiny, *args, "--out", out, "--png", png)
    assert result.exit_code == 0, result.output
    steps = read_samples(out).steps
    assert steps.min() < 50 and len(set(steps)) > 1  # samples stop at their own step
    assert (tmp_path / "a.steps.png").read_bytes()[:4] == b"\x89PNG"
    bad = run("sample", tiny, "--sampler", "gd", "--dt", 0.1, "--out", tmp_path / "b.h5")
    assert_one_line_error(bad, "--dt is an option of --sampler euler")


def test_analog_sampler_writes_the_released_netlist(tmp_path):
    """--sampler analog runs the released circuit for --duration seconds (noisy at
    --temperature) and writes that circuit beside --out; it refuses to overwrite it."""
    tiny = ROOT / "tests/fixtures/v3_run/tiny_flow.cir"
    out = tmp_path / "an.h5"
    args = ("--sampler", "analog", "--n", 4, "--duration", 2e-6, "--temperature", 1e9)
    result = run("sample", tiny, *args, "--out", out)
    assert result.exit_code == 0, result.output
    assert "at 1e+09 K (theta" in result.output and "an.released.cir" in result.output
    settings = read_samples(out).settings
    assert settings["sampler"] == "analog" and settings["temperature"] == 1e9
    assert settings["duration"] == 2e-6 and settings["model_temperature"] > 0
    released = parse_netlist(tmp_path / "an.released.cir")
    assert "inoise_x_0" in released.elements and "rs_x_0" not in released.elements
    again = run(
        "sample", tiny, *args, "--out", tmp_path / "other.h5", "--seed", 1, "--inductance", 1e-3
    )
    assert again.exit_code == 0 and "with 0.001 H in series" in again.output
    assert "lm_x_0" in parse_netlist(tmp_path / "other.released.cir").elements
    assert not np.allclose(read_samples(tmp_path / "other.h5").samples, read_samples(out).samples)
    (tmp_path / "an.h5").unlink()
    refused = run("sample", tiny, *args, "--out", out)
    assert_one_line_error(refused, "an.released.cir")
    bad = run("sample", tiny, "--sampler", "gd", "--temperature", 1, "--out", tmp_path / "g.h5")
    assert_one_line_error(bad, "--temperature is an option of --sampler analog")


def test_analog_sampler_refuses_runs_it_cannot_finish(tmp_path):
    """A duration beyond 1e4 time constants, or a noisy run of more than a million
    steps, is one line naming the option, before any work."""
    tiny = ROOT / "tests/fixtures/v3_run/tiny_flow.cir"
    out = tmp_path / "an.h5"
    long = run("sample", tiny, "--sampler", "analog", "--duration", 1e9, "--out", out)
    assert_one_line_error(long, "--duration 1e+09 s is more than 10000")
    args = ("--temperature", 1e9, "--time-step", 1e-30)
    fine = run("sample", tiny, "--sampler", "analog", *args, "--out", out)
    assert_one_line_error(fine, "Euler–Maruyama steps; at most 1,000,000")
    assert not out.exists() and not (tmp_path / "an.released.cir").exists()
