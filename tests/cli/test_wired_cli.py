"""A netlist with wire resistance through the whole shell workflow: export, check,
relax, train, sample — every step on the wired circuit itself."""

import json
from pathlib import Path

import h5py
from click.testing import CliRunner

from neurosim.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SPEC = """
[network]
name = "wired_flow"
couplings = [["x", "h"]]
spring_lambda = 15.0

[[layers]]
name = "x"
size = 64
kind = "visible"

[[layers]]
name = "h"
size = 8

[scaling]
volts_per_unit = 0.1
g_unit = 1e-4
g_min = 1e-6
tau = 1e-6

[circuit]
wire_resistance = 5.0
"""


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_wired_flow_netlist_exports_checks_relaxes_trains_and_samples(tmp_path):
    (tmp_path / "spec.toml").write_text(SPEC)
    netlist = tmp_path / "wired.cir"
    assert run("export", tmp_path / "spec.toml", "-o", netlist).exit_code == 0
    check = run("check", netlist, "--count", "2", "--json")
    assert check.exit_code == 0, check.output
    report = json.loads(check.output)
    assert report["ok"] and "2 wired arrays reduced" in report["solver"], report["solver"]
    relaxed = run("relax", netlist, "--out", tmp_path / "eq.h5", "--count", "4")
    assert relaxed.exit_code == 0, relaxed.output
    with h5py.File(tmp_path / "eq.h5") as f:
        assert f["converged"][()].all() and "energy" not in f  # IR drop: no energy function
    trained = run("train", "--netlist", netlist, "--out", tmp_path / "run", "--epochs", "3")
    assert trained.exit_code == 0, trained.output
    after = (tmp_path / "run/trained.cir").read_text()
    assert after.count("\nrh0") == after.count("\nrv0") == after.count("\nrw0") > 0
    again = run("check", tmp_path / "run/trained.cir", "--count", "1", "--json")
    again = json.loads(again.output)
    assert again["ok"] and "2 wired arrays" in again["solver"]
    sampled = run("sample", tmp_path / "run", "--n", "4", "--out", tmp_path / "s.h5")
    assert sampled.exit_code == 0, sampled.output
    assert "0 of" in sampled.output and "unsettled" in sampled.output
