"""Nothing a command writes destroys an input or an earlier output, and a damaged or
unfinished run is refused or finished, never resumed into another result."""

import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.cli.main import cli
from neurosim.io.checkpoint_h5 import read_checkpoint
from neurosim.io.samples_h5 import write_samples
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "netlists/digits_flow.cir"
XOR_SPEC = ROOT / "circuits/xor.toml"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def train(run_dir, *extra, netlist=FLOW):
    return run("train", "--netlist", netlist, "--out", run_dir, "--limit", "32", *extra)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished two-epoch flow run (checkpoint.h5, trained.cir, loss.png)."""
    run_dir = tmp_path_factory.mktemp("runs") / "r"
    result = train(run_dir, "--epochs", "2", "--eval-every", "0")
    assert result.exit_code == 0, result.output
    return run_dir


def copy_run(trained_run, tmp_path) -> Path:
    return Path(shutil.copytree(trained_run, tmp_path / "copy"))


def unchanged(path: Path):
    """A check that ``path`` still has the bytes it has now."""
    before = path.read_bytes()
    return lambda: path.read_bytes() == before


@pytest.mark.parametrize("spelling", ["same", "dot", "symlink", "hardlink"])
def test_an_output_that_is_the_input_is_refused_however_it_is_spelled(tmp_path, spelling):
    netlist = tmp_path / "x.cir"
    shutil.copy(FLOW, netlist)
    out = {
        "same": netlist,
        "dot": tmp_path / "." / "x.cir",
        "symlink": tmp_path / "link.cir",
        "hardlink": tmp_path / "hard.cir",
    }[spelling]
    if spelling == "symlink":
        out.symlink_to(netlist)
    if spelling == "hardlink":
        os.link(netlist, out)
    intact = unchanged(netlist)
    for args in (("relax", netlist, "--out", out), ("sample", netlist, "--out", out, "--n", 2)):
        assert_one_line_error(run(*args, "--force"), "is the input")
        assert intact()


def test_relax_export_and_sample_never_write_over_their_inputs(tmp_path, trained_run):
    rows = tmp_path / "x.npy"
    np.save(rows, np.zeros((2, 64)))
    intact = unchanged(rows)
    assert_one_line_error(run("relax", FLOW, "--inputs", rows, "--out", rows), "is the input")
    assert intact()
    spec = tmp_path / "s.toml"
    shutil.copy(XOR_SPEC, spec)
    intact = unchanged(spec)
    assert_one_line_error(run("export", spec, "-o", spec, "--force"), "is the input")
    assert intact()
    checkpoint = copy_run(trained_run, tmp_path) / "checkpoint.h5"
    intact = unchanged(checkpoint)
    result = run(
        "export", ROOT / "circuits/digits_flow.toml", "--params", checkpoint, "-o", checkpoint
    )
    assert_one_line_error(result, "is the input")
    assert intact()
    for name in ("trained.cir", "checkpoint.h5"):
        target = trained_run / name
        intact = unchanged(target)
        result = run("sample", trained_run, "--out", target, "--n", "2", "--force")
        assert_one_line_error(result, "is the input")
        assert intact()


def test_train_never_writes_over_its_netlist(tmp_path):
    run_dir = tmp_path / "d"
    run_dir.mkdir()
    netlist = run_dir / "trained.cir"
    shutil.copy(FLOW, netlist)
    intact = unchanged(netlist)
    assert_one_line_error(train(run_dir, "--epochs", "1", netlist=netlist), "is the input")
    assert intact() and not (run_dir / "checkpoint.h5").exists()


def test_existing_outputs_are_replaced_only_with_force(tmp_path):
    out = tmp_path / "keep.h5"
    out.write_text("precious")
    for args in (
        ("relax", FLOW, "--count", 2, "--out", out),
        ("sample", FLOW, "--n", 2, "--t1", 0.1, "--dt", 0.05, "--out", out),
        ("export", XOR_SPEC, "-o", out),
    ):
        assert_one_line_error(run(*args), "exists (--force to replace it)")
        assert out.read_text() == "precious"
        result = run(*args, "--force")
        assert result.exit_code == 0, result.output
        assert out.read_bytes() != b"precious"
        out.write_text("precious")


def test_two_outputs_that_are_one_file_are_refused(tmp_path):
    out = tmp_path / "s.h5"
    result = run("sample", FLOW, "--n", 2, "--out", out, "--png", out)
    assert_one_line_error(result, "is also the --out output")
    assert not out.exists()


def test_resume_of_a_complete_run_writes_its_missing_outputs(trained_run, tmp_path):
    """A run killed after its last checkpoint, before trained.cir and loss.png."""
    copy = copy_run(trained_run, tmp_path)
    (copy / "trained.cir").unlink()
    (copy / "loss.png").unlink()
    checkpoint = unchanged(copy / "checkpoint.h5")
    result = train(copy, "--epochs", "2", "--eval-every", "0", "--resume")
    assert result.exit_code == 0, result.output
    assert checkpoint()
    assert (copy / "trained.cir").read_bytes() == (trained_run / "trained.cir").read_bytes()
    assert (copy / "loss.png").stat().st_size > 1000
    fewer = train(copy, "--epochs", "1", "--eval-every", "0", "--resume")
    assert_one_line_error(fewer, "has 2 epochs, more than the 1 epochs asked for")


def _damage(path: Path, how: str) -> None:
    with h5py.File(path, "r+") as handle:
        if how == "no optimizer/v":
            del handle["optimizer/v"]
        elif how == "no history/seconds":
            del handle["history/seconds"]
        elif how == "short history/mse":
            mse = handle["history/mse"][()]
            del handle["history/mse"]
            handle["history/mse"] = mse[:-1]
        elif how == "NaN parameter":
            handle["params/w0"][0, 0] = np.nan
        elif how == "NaN device":
            handle["devices/conductance/w0.forward"][0, 0, 0] = np.nan
        elif how == "no devices":
            del handle["devices"]
            handle.create_group("devices")
        elif how == "wrong device shape":
            del handle["devices/target/b_h1"]
            handle["devices/target/b_h1"] = np.zeros(3)
        elif how == "rng of another epoch":
            rng = json.loads(handle.attrs["rng"])
            rng["next_epoch"] = 1
            handle.attrs["rng"] = json.dumps(rng)
        elif how == "no network":
            del handle.attrs["network"]


@pytest.mark.parametrize(
    ("how", "named"),
    [
        ("no optimizer/v", "lacks v/"),
        ("no history/seconds", "history/seconds is missing"),
        ("short history/mse", "history/mse has 1 values for 2 epochs"),
        ("NaN parameter", "parameter w0 holds NaN"),
        ("NaN device", "devices/conductance/w0.forward holds NaN"),
        ("no devices", "devices group is missing"),
        ("wrong device shape", "devices/target/b_h1 has shape (3,)"),
        ("rng of another epoch", "generator state"),
        ("no network", "'network' attribute is missing"),
    ],
)
def test_a_damaged_checkpoint_is_refused_by_name(trained_run, tmp_path, how, named):
    copy = copy_run(trained_run, tmp_path)
    _damage(copy / "checkpoint.h5", how)
    intact = unchanged(copy / "checkpoint.h5")
    result = train(copy, "--epochs", "3", "--eval-every", "0", "--resume")
    assert_one_line_error(result, "damaged checkpoint", named)
    assert intact()


def test_stale_temporary_files_of_killed_writes_are_removed(trained_run, tmp_path):
    copy = copy_run(trained_run, tmp_path)
    stale = copy / ".checkpoint.h5.abc123.tmp"
    stale.write_bytes(b"half a checkpoint")
    result = train(copy, "--epochs", "2", "--eval-every", "0", "--resume")
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert not list(copy.glob(".*.tmp"))


def test_a_run_being_written_by_another_process_is_refused(trained_run, tmp_path):
    import fcntl

    copy = copy_run(trained_run, tmp_path)
    with open(copy / ".lock", "a") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        result = train(copy, "--epochs", "3", "--eval-every", "0", "--resume")
    assert_one_line_error(result, "another neurosim process is writing this run")
    assert read_checkpoint(copy / "checkpoint.h5").epoch == 2


def test_metrics_json_is_strict_json_for_samples_outside_the_pixel_range(tmp_path):
    samples = np.random.default_rng(0).uniform(-1, 1, size=(20, 64))
    samples[0, :5] = 1e300
    samples[1, 0] = -7.0
    path = tmp_path / "s.h5"
    write_samples(path, samples, {"worst_residual": float("nan")})
    result = run("metrics", path, "--json")
    assert result.exit_code == 0, result.output

    def refuse(constant):
        raise AssertionError(f"not JSON: {constant}")

    record = json.loads(result.output, parse_constant=refuse)
    assert record["clipped_values"] == 6
    assert record["settings"]["worst_residual"] is None
    assert np.isfinite(record["samples"]["frechet_distance"])
    table = run("metrics", path)
    assert "6 sample values outside [-1, 1] clipped to it" in table.output
