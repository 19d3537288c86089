"""The Python API: the CLI's results bit for bit, settings validated on creation,
nothing written without an output path, everything a Dask worker needs picklable, and
checkpoints of earlier versions resumed."""

import dataclasses
import io
import json
import math
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import neurosim
from neurosim.cli.main import cli
from neurosim.cli.progress import EpochReporter
from neurosim.io.checkpoint_h5 import read_checkpoint
from neurosim.io.samples_h5 import read_samples

ROOT = Path(__file__).resolve().parents[1]
FLOW = ROOT / "netlists/digits_flow.cir"
CLASSIFY = ROOT / "netlists/digits_classify.cir"
V3_RUN = ROOT / "tests/fixtures/v3_run"  # written by neurosim-checkpoint/3 (commit 7e4df27)
SMALL = dict(epochs=2, limit=32, eval_every=0)


def cli_run(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_the_api_and_the_cli_train_and_sample_bit_for_bit(tmp_path):
    args = ("--epochs", 2, "--limit", 32, "--eval-every", 1)
    cli_run("train", "--netlist", FLOW, "--out", tmp_path / "cli", *args)
    settings = neurosim.FlowSettings(epochs=2, limit=32, eval_every=1)
    result = neurosim.train(FLOW, "flow", settings=settings, out=tmp_path / "api")
    a, b = (read_checkpoint(tmp_path / name / "checkpoint.h5") for name in ("cli", "api"))
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    for name in a.devices:
        np.testing.assert_array_equal(a.devices[name], b.devices[name])
    for name in a.history:
        if name not in ("seconds", "eval_seconds"):
            np.testing.assert_array_equal(a.history[name], b.history[name])
    assert a.settings == b.settings == settings.record()
    for name in ("trained.cir", "best.cir"):
        assert (tmp_path / "cli" / name).read_bytes() == (tmp_path / "api" / name).read_bytes()
    assert set(result.files) >= {"checkpoint.h5", "trained.cir", "best.cir", "loss.png"}
    assert result.best_epoch in (1, 2) and result.best is not None

    cli_run("sample", tmp_path / "cli", "--n", 6, "--dt", 0.25, "--out", tmp_path / "s.h5")
    made = neurosim.sample(tmp_path / "api", neurosim.EulerSampling(n=6, dt=0.25))
    np.testing.assert_array_equal(read_samples(tmp_path / "s.h5").samples, made.samples)
    from_result = neurosim.sample(result, neurosim.EulerSampling(n=6, dt=0.25))
    trained = neurosim.sample(
        tmp_path / "api" / "trained.cir", neurosim.EulerSampling(n=6, dt=0.25)
    )
    # the netlist stores each device as a resistance 1/G: G comes back to round-off
    np.testing.assert_allclose(from_result.samples, trained.samples, rtol=0, atol=1e-12)


def test_training_without_an_output_directory_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seen = []
    circuit = neurosim.load_netlist(FLOW)
    result = neurosim.train(
        circuit, "flow", settings=neurosim.FlowSettings(**SMALL), progress=seen.append
    )
    assert list(tmp_path.iterdir()) == []
    assert result.files == {} and result.epochs == 2 and len(result.history["mse"]) == 2
    assert [p.done for p in seen] == [1, 2] and all(p.epochs == 2 for p in seen)
    assert math.isnan(seen[0].eta) is False and seen[-1].eta == 0
    assert "flow MSE" in seen[-1].describe()
    trained = result.circuit
    assert neurosim.Chip(trained).parameters().keys() == result.checkpoint.params.keys()


def test_classify_through_the_api(tmp_path):
    settings = neurosim.ClassifySettings(epochs=1, limit=120)
    result = neurosim.train(CLASSIFY, "classify", settings=settings, out=tmp_path / "c")
    assert 0 <= result.history["test_accuracy"][-1] <= 1
    assert (tmp_path / "c/metrics.json").exists()
    with pytest.raises(neurosim.NeurosimError, match="settings of the 'classify' objective"):
        neurosim.train(FLOW, "flow", settings=settings)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: neurosim.FlowSettings(lr=float("nan")), "FlowSettings.lr must be a finite"),
        (lambda: neurosim.FlowSettings(epochs=1.5), "FlowSettings.epochs must be a whole"),
        (lambda: neurosim.FlowSettings(optimizer="rmsprop"), "must be adam or sgd"),
        (lambda: neurosim.FlowSettings(seed=-1), "FlowSettings.seed must be"),
        (lambda: neurosim.FlowSettings(clip=float("inf")), "FlowSettings.clip must be"),
        (lambda: neurosim.ClassifySettings(beta=1.0), "ClassifySettings.beta must be in (0, 1)"),
        (lambda: neurosim.ClassifySettings(test_fraction=0), "test_fraction must be in (0, 1)"),
        (lambda: neurosim.EulerSampling(dt=0.3), "not a whole number of steps"),
        (lambda: neurosim.EulerSampling(dt=1e-9), "at most 1,000,000"),
        (lambda: neurosim.EulerSampling(n=True), "EulerSampling.n must be a whole number"),
        (lambda: neurosim.EulerSampling(alpha=-2.0), "EulerSampling.alpha must be"),
    ],
)
def test_settings_are_validated_on_creation_by_field(make, message):
    with pytest.raises(neurosim.SettingsError) as caught:
        make()
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, neurosim.NeurosimError)


def test_settings_are_frozen_and_round_trip_through_their_record():
    from neurosim.learn.settings import from_record

    settings = neurosim.FlowSettings(lr=3e-4, epochs=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.lr = 1.0
    assert from_record(settings.record()) == settings
    assert neurosim.ClassifySettings().epochs == 30 and neurosim.FlowSettings().epochs == 2000
    assert settings.changed_from(dataclasses.replace(settings, epochs=20)) == []
    assert settings.changed_from(dataclasses.replace(settings, lr=1e-3)) == ["lr"]


def test_what_a_dask_worker_needs_is_picklable(tmp_path):
    settings = neurosim.FlowSettings(**SMALL)
    result = neurosim.train(FLOW, "flow", settings=settings)
    made = neurosim.sample(result.chip, neurosim.EulerSampling(n=3, dt=0.5))
    report = neurosim.metrics(np.random.default_rng(0).uniform(-1, 1, (4, 64)))

    def again(value):
        return pickle.loads(pickle.dumps(value))

    assert (
        again(settings) == settings and again(neurosim.EulerSampling()) == neurosim.EulerSampling()
    )
    assert again(result.circuit) == result.circuit
    np.testing.assert_array_equal(again(made).samples, made.samples)
    assert again(made).settings == made.settings
    assert json.dumps(again(report).to_dict()) == json.dumps(report.to_dict())
    chip = pickle.loads(pickle.dumps(result.chip))
    for name, value in result.chip.parameters().items():
        np.testing.assert_array_equal(chip.parameters()[name], value)
    back = pickle.loads(pickle.dumps(result))
    assert back.history == result.history
    again = neurosim.sample(chip, neurosim.EulerSampling(n=3, dt=0.5))
    np.testing.assert_array_equal(again.samples, made.samples)


def test_a_run_written_by_checkpoint_schema_3_resumes(tmp_path):
    """tests/fixtures/v3_run: a 2-epoch run of a 64-6 flow network (its netlist
    tiny_flow.cir) written by the neurosim-checkpoint/3 version."""
    run_dir = Path(shutil.copytree(V3_RUN, tmp_path / "run"))
    old = read_checkpoint(run_dir / "checkpoint.h5")
    assert old.epoch == 2 and old.settings["objective"] == "flow"
    netlist = tmp_path / "tiny_flow.cir"
    shutil.move(run_dir / "tiny_flow.cir", netlist)
    settings = neurosim.FlowSettings(epochs=3, limit=32, eval_every=1)
    result = neurosim.train(netlist, "flow", settings=settings, out=run_dir, resume=True)
    assert result.epochs == 3
    for name, values in old.history.items():
        np.testing.assert_array_equal(result.history[name][:2], values)
    new = read_checkpoint(run_dir / "checkpoint.h5")
    assert new.settings == settings.record()
    changed = neurosim.FlowSettings(epochs=4, limit=32, eval_every=1, lr=0.01)
    with pytest.raises(neurosim.NeurosimError, match="different settings: lr"):
        neurosim.train(netlist, "flow", settings=changed, out=run_dir, resume=True)


def test_progress_goes_to_log_lines_when_nobody_watches_a_terminal():
    from neurosim.learn.run import Progress

    stream = io.StringIO()
    with EpochReporter(3, stream=stream, interactive=False) as report:
        for done in (1, 2, 3):
            report(Progress(done, 3, 0, 1.5 * done, {"mse": 0.5 / done}))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "epoch 1/3: flow MSE 0.5000, 1.50 s/epoch, 3 s left"
    assert lines[-1].startswith("epoch 3/3: flow MSE 0.1667")  # the last epoch always


def test_every_exported_name_resolves():
    for name in neurosim.__all__:
        assert getattr(neurosim, name) is not None, name
    with pytest.raises(AttributeError):
        neurosim.no_such_thing  # noqa: B018


def test_netlists_load_export_and_write_through_the_api(tmp_path):
    circuit = neurosim.export(ROOT / "circuits/xor.toml")
    path = neurosim.write_netlist(circuit, tmp_path / "x.cir")
    again = neurosim.load_netlist(path)
    assert again.network.to_dict() == circuit.network.to_dict()
    report = neurosim.check(again, np.zeros((1, 2)))
    assert report.ok
    eq = neurosim.relax(again, np.zeros((3, 2)))
    assert eq.equilibrium.ok and eq.equilibrium.state.shape[0] == 3
