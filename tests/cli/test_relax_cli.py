"""``neurosim relax``: batch equilibria to HDF5, statuses and exit codes."""

from pathlib import Path

import h5py
import numpy as np
from click.testing import CliRunner

from neurosim.cli.main import cli
from neurosim.engine.relax import relax
from neurosim.engine.sources import default_sources
from neurosim.io.equilibria_h5 import read_statuses
from neurosim.lower.crossbar import lower_crossbar
from neurosim.netlist.parse import parse_netlist
from neurosim.status import Status
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
XOR = ROOT / "netlists/xor.cir"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_relax_writes_states_voltages_and_statuses(tmp_path):
    inputs = np.random.default_rng(0).uniform(-1, 1, (7, 2))
    np.save(tmp_path / "in.npy", inputs)
    out = tmp_path / "eq.h5"
    result = run("relax", XOR, "--inputs", tmp_path / "in.npy", "--out", out, "--tol", "1e-10")
    assert result.exit_code == 0, result.output
    assert "7/7 converged" in result.output
    crossbar = lower_crossbar(parse_netlist(XOR))
    sources = default_sources(crossbar, 7)
    sources.inputs[:] = inputs
    expected = relax(crossbar, sources, tolerance=1e-10)
    with h5py.File(out) as f:
        assert f.attrs["schema"] == "neurosim-equilibria/2"
        assert f.attrs["converged"] == 7 and f.attrs["total"] == 7
        np.testing.assert_array_equal(f["inputs"][()], inputs)
        for name, where in crossbar.free_slices().items():
            np.testing.assert_allclose(f[f"state/{name}"][()], expected.state[:, where])
            np.testing.assert_allclose(f[f"voltages/{name}"][()], expected.state[:, where] * 0.1)
        np.testing.assert_allclose(f["voltages/in"][()], inputs * 0.1)
        assert np.all(f["converged"][()]) and np.all(f["residual"][()] <= 1e-10)
        assert f["energy"].shape == (7,) and np.all(f["power_w"][()] > 0)


def test_unconverged_rows_are_flagged_and_exit_1(tmp_path):
    np.save(tmp_path / "in.npy", np.array([[0.3, -0.9], [1.0, 1.0]]))
    out = tmp_path / "eq.h5"
    result = run("relax", XOR, "--inputs", tmp_path / "in.npy", "--out", out, "--max-passes", "2")
    assert result.exit_code == 1
    assert "2 of 2 inputs did not converge" in result.output
    with h5py.File(out) as f:  # written anyway, nothing lost
        assert not np.any(f["converged"][()]) and f.attrs["converged"] == 0
    assert list(read_statuses(out)) == [Status.MAX_PASSES] * 2
    assert "raise max_passes" in Status.MAX_PASSES.value


def test_statuses_read_from_first_schema_files(tmp_path):
    """A neurosim-equilibria/1 file (no /status) still reads: each row's status from its
    converged flag and residual."""
    path = tmp_path / "old.h5"
    with h5py.File(path, "w") as f:
        f.attrs["schema"] = "neurosim-equilibria/1"
        f["converged"] = np.array([True, False, False])
        f["residual"] = np.array([1e-9, 0.3, np.nan])
    assert list(read_statuses(path)) == [Status.CONVERGED, Status.MAX_PASSES, Status.NON_FINITE]


def test_bad_input_is_one_line_and_destroys_nothing(tmp_path):
    out = tmp_path / "eq.h5"
    out.write_bytes(b"precious")
    cases = {
        "wrong width": np.zeros((3, 5)),
        "nan": np.array([[np.nan, 0.0]]),
        "text": np.array([["a", "b"]]),
    }
    for label, array in cases.items():
        np.save(tmp_path / f"{label}.npy", array)
        result = run("relax", XOR, "--inputs", tmp_path / f"{label}.npy", "--out", out, "--force")
        assert assert_one_line_error(result).startswith("neurosim: error: inputs"), label
    missing = run("relax", XOR, "--inputs", tmp_path / "missing.npy", "--out", out, "--force")
    assert_one_line_error(missing, "missing.npy")
    general = ROOT / "tests/netlist/fixtures/divider.cir"
    np.save(tmp_path / "ok.npy", np.zeros((1, 2)))
    result = run("relax", general, "--inputs", tmp_path / "ok.npy", "--out", out, "--force")
    assert_one_line_error(result, "neurosim network netlist")
    assert out.read_bytes() == b"precious"


def test_relax_defaults_to_seeded_random_rows(tmp_path):
    first, second = tmp_path / "a.h5", tmp_path / "b.h5"
    assert run("relax", XOR, "--count", "5", "--seed", "3", "--out", first).exit_code == 0
    assert run("relax", XOR, "--count", "5", "--seed", "3", "--out", second).exit_code == 0
    with h5py.File(first) as a, h5py.File(second) as b:
        assert a["inputs"].shape == (5, 2)
        np.testing.assert_array_equal(a["inputs"][()], b["inputs"][()])
        np.testing.assert_array_equal(a["state/h"][()], b["state/h"][()])


def test_an_unwritable_output_is_one_line_before_any_work(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    result = run("relax", XOR, "--count", "2", "--out", blocker / "eq.h5")
    assert_one_line_error(result, "is not a directory")
