"""Non-reciprocal crossbars (``reciprocal = false``): each coupling between free layers
has a forward and a backward array programmed independently. The netlist is valid
ngspice and agrees with it, reads back with both arrays, settles on the engine, and its
settled field is not a gradient: the Jacobian of the spring-current readout is
asymmetric, where a reciprocal circuit's is symmetric (it is minus the Hessian of the
free energy). Nothing changes for reciprocal networks."""

import numpy as np
import pytest
from click.testing import CliRunner

from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.cli.main import cli
from neurosim.host import Chip
from neurosim.netlist.parse import parse_netlist_text
from neurosim.netlist.write import netlist_text, write_netlist
from neurosim.network.compile import compile_network
from neurosim.network.model import init_params
from neurosim.network.spec import SpecError, spec_from_dict
from neurosim.verify.crosscheck import cross_check, settings_for_inputs
from tests.cli_errors import assert_one_line_error

LAMBDA = 15.0


def network(reciprocal: bool) -> NetworkMeta:
    layers = (
        Layer("x", 2, "visible", "linear"),
        Layer("h", 6, "hidden", "tanh"),
        Layer("g", 5, "hidden", "tanh"),
    )
    return NetworkMeta(
        "crossbar",
        "scellier_bengio",
        layers,
        (("x", "h"), ("h", "g")),
        Scaling(),
        spring_lambda=LAMBDA,
        reciprocal=reciprocal,
    )


def circuit(reciprocal: bool, gain: float = 0.8):
    meta = network(reciprocal)
    params = init_params(meta, np.random.default_rng(4), gain)
    return compile_network(meta, params), params


def field_jacobian(chip: Chip, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """d(spring current)/dx at ``x`` (2,) by central differences of settled readings."""
    columns = []
    for i in range(2):
        points = np.array([x + step * np.eye(2)[i], x - step * np.eye(2)[i]])
        sources = chip.sources(2)
        sources.targets[:, chip.free_slices()["x"]] = points
        settled = chip.settle(sources, tolerance=1e-12, throw=True)
        current = chip.spring_current(sources, settled.state, "x")
        columns.append((current[0] - current[1]) / (2 * step))
    return np.array(columns).T


def test_the_netlist_has_both_arrays_reads_back_and_agrees_with_ngspice():
    made, params = circuit(reciprocal=False)
    assert set(params) == {"w0", "w0_back", "w1", "w1_back", "b_x", "b_h", "b_g"}
    back = parse_netlist_text(netlist_text(made))
    assert back.network == made.network and not back.network.reciprocal
    read = Chip(back).parameters()
    assert set(read) == set(params)
    for name, value in params.items():
        assert np.allclose(read[name], value, atol=1e-12), name
    inputs = np.random.default_rng(1).uniform(-1, 1, (3, 2))
    report = cross_check(back, settings_for_inputs(back.network, inputs))
    assert report.ok and report.max_abs_diff_v <= 1e-9, report


def test_the_settled_field_is_not_a_gradient_unless_the_circuit_is_reciprocal():
    x = np.array([0.3, -0.5])
    asymmetry = {}
    for reciprocal in (True, False):
        jacobian = field_jacobian(Chip(circuit(reciprocal)[0]), x)
        asymmetry[reciprocal] = np.abs(jacobian - jacobian.T).max() / np.abs(jacobian).max()
    assert asymmetry[True] < 1e-6
    assert asymmetry[False] > 1e-2


def test_with_equal_arrays_it_is_the_reciprocal_circuit_and_reciprocal_exports_are_unchanged():
    nonrec, params = circuit(reciprocal=False)
    params = {**params, "w0_back": params["w0"], "w1_back": params["w1"]}
    same = compile_network(nonrec.network, params)
    reciprocal = compile_network(
        network(True), {k: v for k, v in params.items() if not k.endswith("_back")}
    )
    assert same.elements == reciprocal.elements
    assert "reciprocal" not in network(True).to_dict()
    assert "reciprocal" not in netlist_text(reciprocal).split("*@neurosim network", 1)[1][:400]


def test_the_spec_option_and_its_errors():
    base = {
        "network": {"couplings": [["x", "h"], ["h", "g"]], "reciprocal": False},
        "layers": [
            {"name": "x", "size": 2, "kind": "visible", "activation": "linear"},
            {"name": "h", "size": 3, "kind": "hidden", "activation": "tanh"},
            {"name": "g", "size": 3, "kind": "hidden", "activation": "tanh"},
        ],
    }
    spec = spec_from_dict(base)
    assert not spec.meta.reciprocal and set(spec.meta.backward_shapes()) == {"w0_back", "w1_back"}
    with pytest.raises(SpecError, match=r"network\.reciprocal"):
        spec_from_dict({**base, "network": {**base["network"], "reciprocal": "no"}})
    layers = (Layer("x", 2, "input", "linear"), Layer("h", 3, "hidden", "tanh"))
    with pytest.raises(ValueError, match="needs a coupling between two free layers"):
        NetworkMeta(
            "crossbar", "scellier_bengio", layers, (("x", "h"),), Scaling(), reciprocal=False
        )
    with pytest.raises(ValueError, match="reciprocal must be true or false"):
        NetworkMeta.from_dict({**network(True).to_dict(), "reciprocal": "false"})


def test_info_says_it_has_no_energy_and_ep_training_is_refused(tmp_path):
    path = write_netlist(circuit(reciprocal=False)[0], tmp_path / "nr.cir")
    info = CliRunner().invoke(cli, ["info", str(path)])
    assert info.exit_code == 0 and "energy: none: non-reciprocal" in info.output, info.output
    result = CliRunner().invoke(
        cli, ["train", "--netlist", str(path), "--data", "ring8", "--out", str(tmp_path / "r")]
    )
    assert_one_line_error(result, "non-reciprocal network has no energy")
    assert not (tmp_path / "r").exists()


def test_sharp_first_layer_features_scale_the_forward_array_only():
    """[init] visible_gain and hidden_bias: the forward x→h weights ×gain (the backward
    array as drawn), h's biases uniform in ±hidden_bias, every other draw unchanged."""
    meta = network(False)
    plain = init_params(meta, np.random.default_rng(3), 0.5)
    sharp = init_params(meta, np.random.default_rng(3), 0.5, visible_gain=10.0, hidden_bias=2.0)
    np.testing.assert_array_equal(sharp["w0"], 10.0 * plain["w0"])
    for name in ("w0_back", "w1", "w1_back", "b_x", "b_g"):
        np.testing.assert_array_equal(sharp[name], plain[name])
    assert np.all(np.abs(sharp["b_h"]) <= 2.0) and np.ptp(sharp["b_h"]) > 1.0
    base = {
        "network": {"couplings": [["x", "h"]], "reciprocal": False},
        "layers": [
            {"name": "x", "size": 2, "kind": "visible", "activation": "linear"},
            {"name": "h", "size": 3, "kind": "hidden", "activation": "tanh"},
        ],
    }
    spec = spec_from_dict({**base, "init": {"visible_gain": 10.0, "hidden_bias": 2.0}})
    assert (spec.visible_gain, spec.hidden_bias) == (10.0, 2.0)
    with pytest.raises(SpecError, match=r"init\.hidden_bias must be >= 0"):
        spec_from_dict({**base, "init": {"hidden_bias": -1.0}})
    with pytest.raises(SpecError, match=r"init\.visible_gain must be > 0"):
        spec_from_dict({**base, "init": {"visible_gain": 0}})


def test_input_gain_scales_the_arrays_out_of_clamped_inputs_only():
    """[init] input_gain: a noise level's input array ×gain, every other draw unchanged;
    an unknown [init] key is an error naming the known ones."""
    layers = (
        Layer("noise", 1, "input", "linear"),
        Layer("x", 2, "visible", "linear"),
        Layer("h", 4, "hidden", "tanh"),
    )
    meta = NetworkMeta(
        "crossbar",
        "scellier_bengio",
        layers,
        (("noise", "h"), ("x", "h")),
        Scaling(),
        spring_lambda=LAMBDA,
        reciprocal=False,
    )
    plain = init_params(meta, np.random.default_rng(5), 0.5)
    strong = init_params(meta, np.random.default_rng(5), 0.5, input_gain=10.0)
    np.testing.assert_array_equal(strong["w0"], 10.0 * plain["w0"])
    for name in set(plain) - {"w0"}:
        np.testing.assert_array_equal(strong[name], plain[name])
    base = {
        "network": {"couplings": [["noise", "h"], ["x", "h"]], "reciprocal": False},
        "layers": [
            {"name": "noise", "size": 1, "kind": "input", "activation": "linear"},
            {"name": "x", "size": 2, "kind": "visible", "activation": "linear"},
            {"name": "h", "size": 3, "kind": "hidden", "activation": "tanh"},
        ],
    }
    assert spec_from_dict({**base, "init": {"input_gain": 10.0}}).input_gain == 10.0
    with pytest.raises(SpecError, match=r"init\.input_gain must be > 0"):
        spec_from_dict({**base, "init": {"input_gain": -1.0}})
    with pytest.raises(SpecError, match=r"unknown key init\.input_gian \(known: seed, "):
        spec_from_dict({**base, "init": {"input_gian": 10.0}})
