from pathlib import Path

import numpy as np
import pytest

from neurosim.circuit.pairs import encode
from neurosim.errors import SpecError
from neurosim.host import Chip
from neurosim.network.compile import compile_network
from neurosim.network.model import init_params
from neurosim.network.spec import load_spec, spec_from_dict

ROOT = Path(__file__).resolve().parents[2]


def test_digits_flow_spec_has_the_reference_shape():
    spec = load_spec(ROOT / "circuits/digits_flow.toml")
    meta = spec.meta
    assert [(l.name, l.size, l.kind, l.activation) for l in meta.layers] == [
        ("x", 64, "visible", "linear"),
        ("h1", 128, "hidden", "rho"),
        ("h2", 128, "hidden", "rho"),
    ]
    assert meta.weight_shapes() == {"w0": (64, 128), "w1": (128, 128)}
    assert meta.parameter_count() == 24_896
    assert meta.spring_lambda == 15.0 and meta.law == "scellier_bengio"


def test_xor_circuit_structure_and_parameter_round_trip():
    spec = load_spec(ROOT / "circuits/xor.toml")
    params = init_params(spec.meta, np.random.default_rng(3), 1.0)
    params["b_h"] = np.array([0.3, -0.2, 0.0, 1.5])
    circuit = compile_network(spec.meta, params)
    circuit.validate()
    counts = circuit.count()
    # 2x4 forward pairs, 4x1 forward + backward pairs, 5 bias pairs, 5 leaks.
    assert counts["r"] == 2 * 8 + 2 * 2 * 4 + 2 * 5 + 5
    assert counts["c"] == 5 and counts["b"] == 5 * 2
    trainable = [n for n in circuit.elements if circuit.is_trainable(n)]
    # Each weight is a device pair; w1 (h-out) is in two arrays (both directions).
    assert len(trainable) == 2 * 8 + 2 * 2 * 4 + 2 * 5
    back = Chip(circuit).parameters()
    for name, value in params.items():
        np.testing.assert_allclose(back[name], value, rtol=0, atol=1e-12)


def test_conductances_are_physical():
    spec = load_spec(ROOT / "circuits/digits_flow.toml")
    w = init_params(spec.meta, np.random.default_rng(0), 0.5)["w1"]
    g_plus, g_minus = np.moveaxis(encode(w, spec.meta.scaling), -1, 0)
    assert g_plus.min() >= 1e-6 and g_minus.min() >= 1e-6
    assert max(g_plus.max(), g_minus.max()) < 100e-6
    np.testing.assert_allclose((g_plus - g_minus) / 1e-4, w, atol=1e-12)


BASE = {
    "network": {"couplings": [["a", "b"]]},
    "layers": [{"name": "a", "size": 2, "kind": "visible"}, {"name": "b", "size": 3}],
}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"network": {"couplings": []}}, "at least two layers"),
        ({"network": {"couplings": [["a", "z"]]}}, "known layers"),
        ({"network": {"couplings": [["a", "b"]], "law": "magic"}}, "network.law"),
        ({"network": {"couplings": [["a", "b"]], "spring_lambda": -1}}, "spring_lambda"),
        ({"network": {"couplings": [["a", "b"]], "family": "hopfield_net"}}, "network.family must"),
        ({"layers": [{"name": "a", "size": 0}, {"name": "b", "size": 3}]}, "positive integer"),
        ({"layers": [{"name": "A", "size": 2}, {"name": "b", "size": 3}]}, "lower-case"),
        ({"layers": [{"name": "a", "size": 2, "kind": "odd"}, {"name": "b", "size": 3}]}, "kind"),
        (
            {"layers": [{"name": "a", "size": 2, "colour": 1}, {"name": "b", "size": 3}]},
            "unknown key",
        ),
        (
            {"layers": [{"name": "a", "size": 2, "activation": "relu6"}, {"name": "b", "size": 3}]},
            "activation",
        ),
        ({"scaling": {"g_unit": -1}}, "scaling.g_unit must be > 0"),
        ({"scaling": {"volts": 1}}, "unknown key scaling.volts"),
        ({"network": {"couplings": [["a", "b"]], "law": "hopfield"}}, "monotone"),
        ({"network": {"couplings": [["a", "b"]], "spring_lambda": "x"}}, "finite number"),
        ({"network": {"couplings": [["a", "b"]], "nudge": "no"}}, "true or false"),
        ({"init": {"seed": "x"}}, "init.seed"),
        ({"init": {"seed": -1}}, "init.seed"),
        ({"network": {"couplings": [["a", "b"], ["b", "b"]]}}, "couples a layer to itself"),
        ({"graph": {"seed": 1}}, r"\[graph\] needs an oscillator network"),
        (
            {
                "network": {"family": "oscillator", "couplings": [["b", "b"]]},
                "layers": [{"name": "b", "size": 3}],
                "graph": {"edge_probability": 0},
            },
            "graph.edge_probability must be in",
        ),
        (
            {
                "network": {"family": "oscillator", "couplings": [["b", "b"]]},
                "layers": [{"name": "b", "size": 3}],
                "graph": {"nodes": 4},
            },
            "unknown key graph.nodes",
        ),
    ],
)
def test_spec_errors_say_what_is_wrong(patch, message):
    with pytest.raises(SpecError, match=message):
        spec_from_dict({**BASE, **patch})


def test_spec_file_errors(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[network\n")
    with pytest.raises(SpecError, match=r"bad\.toml: not valid TOML"):
        load_spec(bad)
