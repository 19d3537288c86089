"""Datasets: the toy sets, a user's files (validated), and `train --data` end to end."""

from pathlib import Path

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.cli.main import cli
from neurosim.data.datasets import TOY_POINTS, TOY_SETS, load_dataset, mix_centres, ring_centres
from neurosim.errors import NeurosimError
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "netlists/toy_flow.cir"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_the_toy_sets_are_fixed_scaled_and_labelled():
    for name in TOY_SETS:
        data = load_dataset(name)
        assert data.x.shape == (TOY_POINTS, 2) and data.labels.shape == (TOY_POINTS,)
        assert np.abs(data.x).max() <= 1.0 + 0.5 * (name in ("ring8", "mix3"))  # Gaussian tails
        np.testing.assert_array_equal(load_dataset(name).x, data.x)  # the same every time
    for name, centres, std in (("ring8", ring_centres(), 0.1), ("mix3", mix_centres(), 0.15)):
        data = load_dataset(name)
        offsets = data.x - centres[data.labels]
        assert set(data.labels) == set(range(len(centres)))
        assert np.allclose(offsets.std(axis=0), std, rtol=0.1)  # isotropic, σ as stated
        assert np.abs(offsets.mean(axis=0)).max() < 0.02
    np.testing.assert_allclose(ring_centres()[[0, 2]], [[0.75, 0], [0, 0.75]], atol=1e-15)
    board = load_dataset("checkerboard").x
    square = np.floor((board + 1) / 0.5).astype(int)  # 4 x 4 squares of side 0.5
    assert np.all((square.sum(axis=1) % 2) == 0) and len({tuple(s) for s in square}) == 8
    assert np.abs(board).max() <= 1.0


def test_user_files_load_and_bad_ones_are_named(tmp_path):
    x = np.random.default_rng(0).uniform(-1, 1, (50, 3))
    labels = np.arange(50) % 4
    np.save(tmp_path / "x.npy", x)
    np.savez(tmp_path / "d.npz", x=x, labels=labels)
    with h5py.File(tmp_path / "d.h5", "w") as handle:
        handle["x"], handle["labels"] = x, labels
    for name in ("x.npy", "d.npz", "d.h5"):
        data = load_dataset(str(tmp_path / name))
        np.testing.assert_array_equal(data.x, x)
        assert data.labels is None if name == "x.npy" else np.array_equal(data.labels, labels)
    bad = {
        "nan.npy": (np.full((4, 2), np.nan), "NaN or inf"),
        "big.npy": (np.full((4, 2), 255.0), "scale the data first"),
        "flat.npy": (np.zeros(5), r"must be \(n, dim\)"),
    }
    for name, (array, message) in bad.items():
        np.save(tmp_path / name, array)
        with pytest.raises(NeurosimError, match=message):
            load_dataset(str(tmp_path / name))
    np.savez(tmp_path / "nox.npz", y=x)
    np.savez(tmp_path / "badlabels.npz", x=x, labels=labels[:3])
    (tmp_path / "d.csv").write_text("1,2\n")
    for name, message in (
        ("nox.npz", "needs an array named 'x'"),
        ("badlabels.npz", "labels must be 50 whole numbers"),
        ("d.csv", "a .npy, .npz or HDF5"),
        ("missing.npy", "no such file"),
    ):
        with pytest.raises(NeurosimError, match=message):
            load_dataset(str(tmp_path / name))


@pytest.mark.parametrize("name", ["ring8", "moons", "checkerboard", "mix3", "points.npz"])
def test_each_toy_set_and_a_user_file_train_sample_and_score_end_to_end(tmp_path, name):
    if name == "points.npz":  # a user's own file
        points = np.random.default_rng(1).uniform(-0.5, 0.5, (300, 2))
        np.savez(tmp_path / name, x=points)
        name = str(tmp_path / name)
    out = tmp_path / "run"
    trained = run(
        "train", "--netlist", TOY, "--data", name, "--out", out, "--epochs", 4, "--eval-every", 2
    )
    assert trained.exit_code == 0, trained.output
    assert "energy distance" in trained.output and (out / "quality.png").exists()
    sampled = run(
        "sample",
        out,
        "--n",
        50,
        "--dt",
        0.1,
        "--out",
        tmp_path / "s.h5",
        "--png",
        tmp_path / "s.png",
    )
    assert sampled.exit_code == 0, sampled.output
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    scored = run("metrics", tmp_path / "s.h5")
    assert scored.exit_code == 0 and "50 samples of" in scored.output, scored.output
    assert "energy distance" in scored.output and "W2" in scored.output, scored.output
    if name == "ring8":
        assert "50 samples of ring8" in scored.output and "coverage (of 8)" in scored.output


def test_user_data_train_flow_and_classify(tmp_path):
    points = np.random.default_rng(1).uniform(-0.5, 0.5, (40, 2))
    np.save(tmp_path / "points.npy", points)
    flow = run(
        "train",
        "--netlist",
        TOY,
        "--data",
        tmp_path / "points.npy",
        "--out",
        tmp_path / "f",
        "--epochs",
        2,
        "--eval-every",
        0,
    )
    assert flow.exit_code == 0, flow.output
    from neurosim.data.digits import load_digits

    x, labels = load_digits()
    np.savez(tmp_path / "digits.npz", x=x[:200], labels=labels[:200])
    classify = run(
        "train",
        "--netlist",
        ROOT / "netlists/digits_classify.cir",
        "--objective",
        "classify",
        "--data",
        tmp_path / "digits.npz",
        "--out",
        tmp_path / "c",
        "--epochs",
        1,
    )
    assert classify.exit_code == 0, classify.output
    np.save(tmp_path / "nolabels.npy", x[:50])
    assert_one_line_error(
        run(
            "train",
            "--netlist",
            ROOT / "netlists/digits_classify.cir",
            "--objective",
            "classify",
            "--data",
            tmp_path / "nolabels.npy",
            "--out",
            tmp_path / "n",
        ),
        "classify needs labels",
    )
    assert_one_line_error(
        run("train", "--netlist", TOY, "--out", tmp_path / "w", "--epochs", 1),
        "--data digits: 64-dimensional data for a visible layer of 2 units",
    )
