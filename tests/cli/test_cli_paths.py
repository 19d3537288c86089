"""CLI paths the rest of the suite did not run: sample --help, float32 and SGD training
from the command line, and a trained netlist through ngspice."""

from pathlib import Path

from click.testing import CliRunner

from neurosim.cli.main import cli
from neurosim.io.checkpoint_h5 import read_checkpoint

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "netlists/digits_flow.cir"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_sample_help_explains_the_readouts():
    result = run("sample", "--help")
    assert result.exit_code == 0
    for words in ("--readout", "spring", "energy", "--warm-start", "--force", "[default: 0.01]"):
        assert words in result.output, words


def test_float32_sgd_training_from_the_cli_and_its_netlist_through_ngspice(tmp_path):
    out = tmp_path / "r"
    args = ("--epochs", 2, "--limit", 32, "--dtype", "float32", "--optimizer", "sgd")
    result = run("train", "--netlist", FLOW, "--out", out, *args, "--eval-every", 0)
    assert result.exit_code == 0, result.output
    settings = read_checkpoint(out / "checkpoint.h5").settings
    assert (settings["dtype"], settings["optimizer"]) == ("float32", "sgd")
    check = run("check", out / "trained.cir", "--count", 1)
    assert check.exit_code == 0 and ": OK" in check.output, check.output
