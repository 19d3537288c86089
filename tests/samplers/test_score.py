"""The free energy a circuit assigns to a point: its gradient is the energy readout
(checked by finite differences), and `neurosim score` writes it per input row."""

import h5py
import numpy as np
from click.testing import CliRunner

import neurosim
from neurosim.cli.main import cli
from neurosim.host import Chip
from neurosim.samplers.readout import Readout
from tests.cli_errors import assert_one_line_error
from tests.learn.test_hardware_aware import ROOT

TINY = ROOT / "tests/fixtures/v3_run/tiny_flow.cir"


def test_the_free_energys_gradient_is_the_energy_readout():
    """−α ∂F/∂x by central differences equals the clamp current the energy readout
    reads (two different computations: energies of settled circuits vs a current)."""
    readout = Readout(Chip(neurosim.load_netlist(TINY)), "energy", 2.0, tolerance=1e-12)
    x = np.random.default_rng(0).uniform(-1, 1, (3, readout.dim))
    v = readout.read(x).velocity
    h = 1e-5
    for i in range(readout.dim):
        step = np.zeros_like(x)
        step[:, i] = h
        plus, _, _ = readout.landscape(x + step)
        minus, _, _ = readout.landscape(x - step)
        np.testing.assert_allclose(-2.0 * (plus - minus) / (2 * h), v[:, i], atol=1e-6)


def test_score_writes_free_energy_and_power_per_row(tmp_path):
    inputs = tmp_path / "x.npy"
    np.save(inputs, np.random.default_rng(1).uniform(-1, 1, (5, 64)))
    out = tmp_path / "s.h5"
    result = CliRunner().invoke(cli, ["score", str(TINY), str(inputs), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with h5py.File(out) as handle:
        assert handle.attrs["schema"] == "neurosim-scores/1"
        f, p = handle["free_energy"][()], handle["power_w"][()]
        assert f.shape == p.shape == (5,) and np.all(p > 0) and handle["converged"][()].all()
    direct = neurosim.score(TINY, np.load(inputs))
    np.testing.assert_array_equal(direct["free_energy"], f)
    np.save(inputs, np.zeros((5, 3)))
    bad = CliRunner().invoke(cli, ["score", str(TINY), str(inputs), "--json"])
    assert_one_line_error(bad, "the visible layer takes (n, 64)")
