"""Rows that diverge end in their status and in null scores, never in numpy warnings."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def neurosim(*args) -> subprocess.CompletedProcess:
    """The command as a user runs it (pytest's warning capture does not apply)."""
    command = [sys.executable, "-m", "neurosim", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_relax_of_diverging_rows_records_them_without_warnings(tmp_path):
    np.save(tmp_path / "huge.npy", np.full((2, 2), 1e200))
    done = neurosim(
        "relax",
        "netlists/xor.cir",
        "--inputs",
        tmp_path / "huge.npy",
        "--out",
        tmp_path / "o.h5",
        "--max-passes",
        "200",
    )
    assert done.returncode == 1, done.stderr  # some rows did not converge: the file says
    assert "Warning" not in done.stderr and "Warning" not in done.stdout, done.stderr
    assert (tmp_path / "o.h5").exists()


def test_score_json_is_strict_where_a_row_diverges(tmp_path):
    np.save(tmp_path / "huge.npy", np.full((1, 64), 1e200))
    done = neurosim("score", "netlists/digits_flow.cir", tmp_path / "huge.npy", "--json")
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    row = json.loads(done.stdout, parse_constant=lambda token: 1 / 0)["rows"][0]
    assert row == {"free_energy": None, "power_w": None, "converged": False}
