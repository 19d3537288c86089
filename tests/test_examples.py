"""The scripts in examples/ run, on small settings, and say what they measured."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_example(name: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_train_and_sample(tmp_path):
    out = run_example(
        "train_and_sample.py",
        "--epochs",
        "2",
        "--limit",
        "32",
        "--n",
        "20",
        "--out",
        str(tmp_path / "run"),
    )
    assert "2 epochs, flow MSE" in out and "20 samples: FD" in out
    assert (tmp_path / "run/trained.cir").exists()


def test_classify_and_check():
    out = run_example("classify_and_check.py", "--epochs", "1", "--limit", "120", "--checks", "1")
    assert "1 epochs: held-out accuracy" in out and "(OK)" in out
