"""Composition: two networks on the same visible nodes, one netlist; their currents add."""

import json
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.circuit.compose import compose
from neurosim.cli.main import cli
from neurosim.errors import CircuitError
from neurosim.host import Chip
from neurosim.netlist.parse import parse_netlist
from neurosim.netlist.write import write_netlist
from neurosim.samplers.readout import Readout
from tests.cli_errors import assert_one_line_error
from tests.networks import chip_of, flow_net, random_params


def circuits():
    """Two flow networks of different hidden sizes on 4 visible units."""
    first = chip_of(flow_net(), random_params(flow_net(), np.random.default_rng(1), 0.9))
    shape = flow_net((3, 2))
    second = chip_of(shape, random_params(shape, np.random.default_rng(2), 0.9))
    return first.circuit(), second.circuit()


def test_clamped_readout_of_the_composite_is_the_sum(tmp_path):
    """Through the written netlist: with x held, the composite's current into the visible
    nodes is the first network's plus the second's (the hidden units meet only via x)."""
    a, b = circuits()
    path = write_netlist(compose(a, b), tmp_path / "ab.cir")
    chip = Chip(parse_netlist(path))
    assert [layer.name for layer in chip.meta.layers] == ["x", "h1", "h2", "n2_h1", "n2_h2"]
    x = np.random.default_rng(0).standard_normal((5, 4))

    def read(circuit):
        return Readout(Chip(circuit), "energy", 2.0, tolerance=1e-11).read(x).velocity

    both = Readout(chip, "energy", 2.0, tolerance=1e-11).read(x).velocity
    alone = read(a) + read(b)
    np.testing.assert_allclose(both, alone, atol=1e-8)  # measured 7e-11
    assert np.max(np.abs(alone)) > 1.0


def test_visible_parts_join_in_parallel():
    a, b = circuits()
    ab = compose(a, b)
    leak = 1 / (1 / a.elements["rl_x_0"].value + 1 / b.elements["rl_x_0"].value)
    assert ab.elements["rl_x_0"].value == pytest.approx(leak)
    capacitance = a.elements["cu_x_0"].value + b.elements["cu_x_0"].value
    assert ab.elements["cu_x_0"].value == pytest.approx(capacitance)
    assert ab.network.spring_lambda == a.network.spring_lambda + b.network.spring_lambda
    device = ab.elements["rn2_w0f_0_0p"]  # the second's x -> h1 device, on the first's rows
    assert device.nodes == (a.elements["rw0f_0_0p"].nodes[0], "n2_h1_0_c")
    assert "rn2_w*" in ab.trainable


def test_composite_netlist_agrees_with_ngspice(tmp_path):
    a, b = circuits()
    path = write_netlist(compose(a, b), tmp_path / "ab.cir")
    result = CliRunner().invoke(cli, ["check", str(path), "--count", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["max_abs_diff_v"] <= 1e-7
    assert report["groups"]["n2_h1"]["nodes"] == 3


def test_compose_cli_writes_one_netlist_and_protects_its_inputs(tmp_path):
    a, b = circuits()
    first, second = write_netlist(a, tmp_path / "a.cir"), write_netlist(b, tmp_path / "b.cir")
    out = tmp_path / "ab.cir"
    ok = CliRunner().invoke(cli, ["compose", str(first), str(second), "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "layers x 4, h1 5, h2 3, n2_h1 3, n2_h2 2" in ok.output
    assert parse_netlist(out).network.couplings[2] == ("x", "n2_h1")
    over = CliRunner().invoke(cli, ["compose", str(first), str(second), "-o", str(first)])
    assert_one_line_error(over, "would destroy the input")
    xor = tmp_path.parent / "xor_missing.cir"
    missing = CliRunner().invoke(cli, ["compose", str(first), str(xor), "-o", str(out)])
    assert_one_line_error(missing, "no such file")


def test_networks_that_cannot_share_nodes_are_refused():
    a, b = circuits()
    wider = flow_net((3, 2), visible=5)
    c = chip_of(wider, random_params(wider, np.random.default_rng(3), 0.9)).circuit()
    with pytest.raises(CircuitError, match="visible layers of 4 and 5 units"):
        compose(a, c)
    changed = dict(b.elements)
    changed["ep_x_0"] = replace(changed["ep_x_0"], value=2.0)
    b.elements = changed
    with pytest.raises(CircuitError, match="ep_x_0 of the second network differs"):
        compose(a, b)
