"""``neurosim train``: checkpoints, exact resume, the trained netlist, bad input."""

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from neurosim.cli.main import cli
from neurosim.host import Chip
from neurosim.io.checkpoint_h5 import read_checkpoint
from neurosim.netlist.parse import parse_netlist
from tests.cli_errors import assert_one_line_error

ROOT = Path(__file__).resolve().parents[2]
NETLIST = ROOT / "netlists/digits_flow.cir"


def train(run_dir, *extra):
    args = ["train", "--netlist", NETLIST, "--out", run_dir, "--limit", "32", *extra]
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_resume_gives_the_same_result_as_an_uninterrupted_run(tmp_path):
    straight = train(tmp_path / "a", "--epochs", "4", "--checkpoint-every", "2")
    assert straight.exit_code == 0, straight.output
    first = train(tmp_path / "b", "--epochs", "2", "--checkpoint-every", "2")
    assert first.exit_code == 0, first.output
    resumed = train(tmp_path / "b", "--epochs", "4", "--checkpoint-every", "2", "--resume")
    assert resumed.exit_code == 0, resumed.output
    a = read_checkpoint(tmp_path / "a/checkpoint.h5")
    b = read_checkpoint(tmp_path / "b/checkpoint.h5")
    assert a.epoch == b.epoch == 4
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    arrays = ("w0.forward", "w0.backward", "w1.forward", "w1.backward", "b_x", "b_h1", "b_h2")
    kinds = ("conductance", "target")
    assert set(a.devices) == set(b.devices) == {f"{k}/{n}" for k in kinds for n in arrays}
    for name in a.devices:
        np.testing.assert_array_equal(a.devices[name], b.devices[name])
    np.testing.assert_array_equal(a.history["mse"], b.history["mse"])
    assert a.optimizer["step"] == b.optimizer["step"] == 4
    # the trained netlist holds the trained parameters and parses back
    back = Chip(parse_netlist(tmp_path / "b/trained.cir")).parameters()
    for name in a.params:
        np.testing.assert_allclose(back[name], a.params[name], rtol=0, atol=1e-12)
    assert (tmp_path / "b/loss.png").stat().st_size > 1000


def test_resume_refuses_changed_settings_and_bad_input_is_one_line(tmp_path):
    assert train(tmp_path / "r", "--epochs", "1").exit_code == 0
    changed = train(tmp_path / "r", "--epochs", "2", "--lr", "0.01", "--resume")
    assert_one_line_error(changed, "different settings: lr")
    again = train(tmp_path / "r", "--epochs", "1")  # a fresh start would overwrite the run
    assert_one_line_error(again, "already holds a training run")
    missing = train(tmp_path / "nothing", "--epochs", "1", "--resume")
    assert_one_line_error(missing, "no such checkpoint")
    xor = CliRunner().invoke(
        cli, ["train", "--netlist", str(ROOT / "netlists/xor.cir"), "--out", str(tmp_path / "x")]
    )
    assert_one_line_error(xor, "needs a network netlist with springs")


def test_classify_writes_the_held_out_accuracy(tmp_path):
    import json

    run = CliRunner().invoke(
        cli,
        [
            "train",
            "--netlist",
            str(ROOT / "netlists/digits_classify.cir"),
            "--objective",
            "classify",
            "--out",
            str(tmp_path / "c"),
            "--epochs",
            "2",
            "--limit",
            "400",
        ],
    )
    assert run.exit_code == 0, run.output
    metrics = json.loads((tmp_path / "c/metrics.json").read_text())
    assert metrics["epochs"] == 2 and 0.5 < metrics["test_accuracy"] <= 1.0  # measured 0.70
    assert (tmp_path / "c/trained.cir").exists() and (tmp_path / "c/loss.png").exists()
    bad = CliRunner().invoke(
        cli,
        [
            "train",
            "--netlist",
            str(ROOT / "netlists/digits_classify.cir"),
            "--objective",
            "classify",
            "--out",
            str(tmp_path / "d"),
            "--beta",
            "1.5",
        ],
    )
    assert_one_line_error(bad, "--beta: must be in (0, 1)")
    wrong = train(tmp_path / "e", "--objective", "classify")  # the flow network
    assert_one_line_error(wrong, "input and output layers")


def test_sample_quality_is_tracked_and_the_best_parameters_kept(tmp_path):
    run = train(tmp_path / "q", "--epochs", "4", "--eval-every", "2")
    assert run.exit_code == 0, run.output
    history = read_checkpoint(tmp_path / "q/checkpoint.h5").history
    frechet = np.array(history["frechet"])
    assert np.isnan(frechet[[0, 2]]).all() and np.isfinite(frechet[[1, 3]]).all()
    best = Chip(parse_netlist(tmp_path / "q/best.cir")).parameters()
    assert set(best) == set(read_checkpoint(tmp_path / "q/checkpoint.h5").params)
    assert (tmp_path / "q/quality.png").stat().st_size > 1000
    assert "best samples at epoch" in run.output


def classify(netlist, run_dir, *extra):
    args = ["train", "--netlist", netlist, "--out", run_dir, "--objective", "classify"]
    args += ["--limit", "120", "--epochs", "1", *extra]
    return CliRunner().invoke(cli, [str(a) for a in args])


def with_halved_hidden_leaks(path):
    from neurosim.netlist.write import write_netlist

    circuit = parse_netlist(ROOT / "netlists/digits_classify.cir")
    for name in [n for n in circuit.elements if n.startswith("rl_h_")]:
        circuit.set_value(name, circuit.elements[name].value / 2)
    write_netlist(circuit, path)
    return path


def test_an_edited_netlist_trains_as_edited_and_its_edits_survive(tmp_path):
    """The issue's case: halving every hidden leak of digits_classify.cir must change
    training, and trained.cir must be that circuit trained (leaks still halved)."""
    edited = with_halved_hidden_leaks(tmp_path / "edited.cir")
    plain = classify(ROOT / "netlists/digits_classify.cir", tmp_path / "plain")
    assert plain.exit_code == 0, plain.output
    run = classify(edited, tmp_path / "edited")
    assert run.exit_code == 0, run.output
    given, trained = parse_netlist(edited), parse_netlist(tmp_path / "edited/trained.cir")
    for name, element in given.elements.items():
        if not name.startswith(("rw", "rb")):  # not a trainable device: kept as written
            assert trained.elements[name].value == element.value, name
    assert trained.elements["rl_h_0"].value == 5e3
    a = read_checkpoint(tmp_path / "plain/checkpoint.h5")
    b = read_checkpoint(tmp_path / "edited/checkpoint.h5")
    assert a.history["loss"] != b.history["loss"]
    assert not np.allclose(a.params["w0"], b.params["w0"], rtol=0, atol=1e-9)
    # resuming it with another circuit (the unedited netlist) is refused
    other = classify(
        ROOT / "netlists/digits_classify.cir", tmp_path / "edited", "--epochs", "2", "--resume"
    )
    assert_one_line_error(other, "different circuit")


def test_a_checkpoint_of_the_earlier_schema_resumes(tmp_path):
    """neurosim-checkpoint/2 files (parameters, no devices) keep loading: the
    parameters are programmed exactly and training goes on."""
    import h5py

    assert train(tmp_path / "s", "--epochs", "4", "--checkpoint-every", "2").exit_code == 0
    assert train(tmp_path / "o", "--epochs", "2").exit_code == 0
    with h5py.File(tmp_path / "o/checkpoint.h5", "r+") as handle:
        handle.attrs["schema"] = "neurosim-checkpoint/2"
        del handle["devices"]
        # before /4 the config held the settings and the run's facts in one record
        config = {**json.loads(handle.attrs["settings"]), **json.loads(handle.attrs["config"])}
        del config["circuit_sha256"]  # written before the host existed
        handle.attrs["config"] = json.dumps(config, sort_keys=True)
        del handle.attrs["settings"]
    old = read_checkpoint(tmp_path / "o/checkpoint.h5")
    assert old.devices == {} and old.epoch == 2
    resumed = train(tmp_path / "o", "--epochs", "4", "--resume")
    assert resumed.exit_code == 0, resumed.output
    a = read_checkpoint(tmp_path / "s/checkpoint.h5")
    b = read_checkpoint(tmp_path / "o/checkpoint.h5")
    for name in a.params:
        np.testing.assert_allclose(b.params[name], a.params[name], rtol=0, atol=1e-9)
