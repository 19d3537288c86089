"""``neurosim metrics``: JSON and table output, one-line errors with exit status 2."""

import json

import h5py
import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.cli.main import cli
from neurosim.data.digits import load_digits
from neurosim.io.samples_h5 import write_samples
from neurosim.scores.quality import evaluate
from tests.cli_errors import assert_one_line_error


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("metrics") / "digits.h5"
    write_samples(path, load_digits()[0][:300], {"sampler": "real digits", "n": 300})
    return path


def test_json_is_one_object_with_every_metric(digits_file):
    result = run("metrics", digits_file, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["file"] == str(digits_file) and report["n_samples"] == 300
    assert report["settings"] == {"sampler": "real digits", "n": 300}
    expected = evaluate(load_digits()[0][:300])
    assert {k: report[k] for k in expected} == expected
    assert report["samples"]["class_coverage"] == 10


def test_table_names_every_metric(digits_file):
    result = run("metrics", digits_file)
    assert result.exit_code == 0, result.output
    for label in ("Frechet distance", "class coverage", "mean confidence", "nearest training"):
        assert label in result.output
    assert "300 samples" in result.output and "held-out accuracy 0.99" in result.output


def test_help_explains_each_metric():
    text = run("metrics", "--help").output
    for word in ("Frechet", "coverage", "confidence", "nearest training", "--json"):
        assert word in text


def test_bad_files_are_one_line_errors(tmp_path):
    (tmp_path / "text.h5").write_text("not hdf5\n")
    write_samples(tmp_path / "wide.h5", np.zeros((4, 10)), {})
    write_samples(tmp_path / "one.h5", np.zeros((1, 64)), {})
    with h5py.File(tmp_path / "other.h5", "w") as handle:
        handle["samples"] = np.zeros((4, 64))
    cases = {
        "missing.h5": "no such file",
        "text.h5": "not a readable HDF5 file",
        "wide.h5": r"shape (4, 10)",
        "one.h5": "at least 2",
        "other.h5": "not a neurosim-samples/1 file",
    }
    for name, message in cases.items():
        result = run("metrics", tmp_path / name, "--json")
        assert_one_line_error(result, str(tmp_path / name), message)
        assert result.stdout == ""


def test_a_missing_classifier_is_a_one_line_error(digits_file, tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSIM_DATA", str(tmp_path))
    result = run("metrics", digits_file)
    assert_one_line_error(result, "classifier weights not found")


def test_data_names_what_samples_of_a_netlist_are_scored_against(tmp_path):
    from neurosim.data.datasets import load_dataset

    path = tmp_path / "ring.h5"
    ring = load_dataset("ring8").x
    write_samples(path, ring[:400], {"sampler": "langevin", "n": 400})  # no run: no data
    assert_one_line_error(run("metrics", path), "the metrics need (n, 64)")
    scores = json.loads(run("metrics", path, "--data", "ring8", "--json").output)
    assert scores["samples"]["w2"] < 0.2 < 0.3 < run_w2(path, "moons")
    assert_one_line_error(run("metrics", path, "--data", "nonesuch"), "--data nonesuch")


def run_w2(path, data):
    return json.loads(run("metrics", path, "--data", data, "--json").output)["samples"]["w2"]
