"""A training run killed with SIGKILL at an arbitrary moment resumes to the same result."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from neurosim.io.checkpoint_h5 import read_checkpoint

ROOT = Path(__file__).resolve().parents[2]
NETLIST = ROOT / "netlists/digits_flow.cir"
EPOCHS = "300"


def command(run_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "neurosim",
        "train",
        "--netlist",
        str(NETLIST),
        "--out",
        str(run_dir),
        "--limit",
        "48",
        "--epochs",
        EPOCHS,
        "--checkpoint-every",
        "3",
        *extra,
    ]


def test_sigkill_loses_at_most_the_last_interval_and_resume_is_exact(tmp_path):
    straight = subprocess.run(command(tmp_path / "straight"), capture_output=True, text=True)
    assert straight.returncode == 0, straight.stderr
    killed = subprocess.Popen(command(tmp_path / "killed"), stderr=subprocess.DEVNULL)
    checkpoint = tmp_path / "killed/checkpoint.h5"
    # wait for the event (epoch 30 checkpointed, or the run's end), however slow the machine
    while killed.poll() is None:
        if checkpoint.exists() and read_checkpoint(checkpoint).epoch >= 30:
            break
        time.sleep(0.05)
    assert killed.poll() is None, "the run ended before it could be killed"
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    survived = read_checkpoint(checkpoint)  # whatever moment the kill hit, it reads
    assert 30 <= survived.epoch < int(EPOCHS) and survived.epoch % 3 == 0
    resumed = subprocess.run(command(tmp_path / "killed", "--resume"), capture_output=True)
    assert resumed.returncode == 0, resumed.stderr
    a = read_checkpoint(tmp_path / "straight/checkpoint.h5")
    b = read_checkpoint(checkpoint)
    assert a.epoch == b.epoch == int(EPOCHS)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    for name in ("loss", "mse", "passes"):
        np.testing.assert_array_equal(a.history[name], b.history[name])
