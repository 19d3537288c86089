"""Lowering a crossbar circuit to the engine's arrays: values, programming, refusals."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurosim.circuit.expr import parse_expr
from neurosim.circuit.ir import Element
from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import lower_crossbar
from neurosim.netlist.parse import parse_netlist
from neurosim.network.compile import compile_network
from neurosim.network.model import init_params
from tests.networks import random_params, small_network
from tests.oracle import ideal_crossbar

ROOT = Path(__file__).resolve().parents[2]
SCALING = Scaling(volts_per_unit=0.2, g_unit=5e-5, g_min=2e-6, tau=3e-6)


def network(law: str = "scellier_bengio", hidden: str = "rho") -> NetworkMeta:
    return small_network(law, hidden, spring=1.5, scaling=SCALING)


def compiled(law: str = "scellier_bengio", hidden: str = "rho", seed: int = 0):
    meta = network(law, hidden)
    params = random_params(meta, np.random.default_rng(seed), gain=0.8)
    return meta, params, compile_network(meta, params)


def block(crossbar, rows: str, cols: str) -> np.ndarray:
    """The effective weights from layer ``rows`` onto layer ``cols``."""
    if rows in crossbar.even.slices:
        return crossbar.m_eo[crossbar.even.slices[rows], crossbar.odd.slices[cols]]
    return crossbar.m_oe[crossbar.odd.slices[rows], crossbar.even.slices[cols]]


@pytest.mark.parametrize(("law", "hidden"), [("scellier_bengio", "rho"), ("hopfield", "tanh")])
def test_ideal_circuit_arrays_are_the_model_parameters(law, hidden):
    meta, params, circuit = compiled(law, hidden)
    crossbar = lower_crossbar(circuit)
    free = crossbar.free_slices()
    for k, (a, b) in enumerate(meta.couplings):
        np.testing.assert_allclose(block(crossbar, a, b), params[f"w{k}"], atol=1e-12)
        if meta.layer(a).kind != "input":
            np.testing.assert_allclose(block(crossbar, b, a), params[f"w{k}"].T, atol=1e-12)
    for name, where in free.items():
        np.testing.assert_allclose(crossbar.bias[where], params[f"b_{name}"], atol=1e-12)
        np.testing.assert_allclose(crossbar.leak[where], 1.0, rtol=1e-14)
        np.testing.assert_allclose(crossbar.tau[where], SCALING.tau, rtol=1e-14)
        spring = meta.spring_lambda if name == "x" else 0.0
        np.testing.assert_allclose(crossbar.spring[where], spring, rtol=1e-14)
        slope = law == "scellier_bengio" and meta.layer(name).activation != "linear"
        assert np.all(crossbar.slope[where] == slope)
    assert crossbar.symmetric()
    # the bipartition: h on one side, everything it couples to on the other
    assert set(crossbar.odd.layers) == {"h"} and set(crossbar.even.layers) == {"x", "out", "in"}


def test_ideal_crossbar_equals_lowering_the_compiled_circuit():
    meta, params, circuit = compiled()
    lowered, ideal = lower_crossbar(circuit), ideal_crossbar(meta, params)
    for field in ("m_eo", "m_oe", "bias", "leak", "spring", "inj_gain", "tau", "slope"):
        np.testing.assert_allclose(getattr(ideal, field), getattr(lowered, field), atol=1e-13)
    np.testing.assert_allclose(ideal.row_conductance_even, lowered.row_conductance_even, rtol=1e-12)
    np.testing.assert_allclose(ideal.row_conductance_odd, lowered.row_conductance_odd, rtol=1e-12)
    assert ideal.bias_power == pytest.approx(lowered.bias_power, rel=1e-12)


def test_programming_devices_refreshes_the_arrays_without_relowering():
    _, params, circuit = compiled()
    crossbar = lower_crossbar(circuit)
    arrays_before = id(crossbar.m_eo), id(crossbar.m_oe)
    old = circuit.elements["rw1f_2_3p"].value  # coupling 1 = x -> h, W[2, 3], G+
    circuit.set_value("rw1f_2_3p", old / 2)  # doubles G+
    circuit.set_value("rl_h_1", 1.0 / (1.25 * SCALING.g_unit))  # a leakier unit
    crossbar.refresh(circuit)
    assert (id(crossbar.m_eo), id(crossbar.m_oe)) == arrays_before
    expected = params["w1"][2, 3] + (1.0 / old) / SCALING.g_unit
    assert block(crossbar, "x", "h")[2, 3] == pytest.approx(expected, rel=1e-12)
    assert block(crossbar, "h", "x")[3, 2] == pytest.approx(params["w1"][2, 3], rel=1e-12)
    assert not crossbar.symmetric()
    assert crossbar.leak[crossbar.free_slices()["h"]][1] == pytest.approx(1.25)


def test_row_driver_gains_scale_the_effective_weights():
    _, _, circuit = compiled()
    circuit.set_value("ep_x_1", 0.9)  # the + row of x_1 at 0.9 x V(x_1)
    circuit.set_value("en_x_1", -1.1)  # the - row at -1.1 x the + row
    crossbar = lower_crossbar(circuit)
    g_p = 1.0 / np.array([circuit.elements[f"rw1f_1_{j}p"].value for j in range(6)])
    g_n = 1.0 / np.array([circuit.elements[f"rw1f_1_{j}n"].value for j in range(6)])
    expected = 0.9 * (g_p - 1.1 * g_n) / SCALING.g_unit
    np.testing.assert_allclose(block(crossbar, "x", "h")[1], expected, rtol=1e-12)


def test_the_shipped_digits_netlist_lowers_to_two_dense_blocks():
    crossbar = lower_crossbar(parse_netlist(ROOT / "netlists/digits_flow.cir"))
    assert crossbar.even.layers == ("x", "h2") and crossbar.odd.layers == ("h1",)
    assert crossbar.m_eo.shape == (192, 128) and crossbar.m_oe.shape == (128, 192)
    assert crossbar.free == 320 and crossbar.input_width == 0


def edited(circuit, name, **changes):
    copy = replace(circuit, elements=dict(circuit.elements))
    copy.elements[name] = replace(copy.elements[name], **changes)
    return copy


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: edited(c, "rw1f_0_0p", nodes=("x_0_p", "h_1_c")), "needs x_0_p h_0_c"),
        (lambda c: edited(c, "fi_x_0", control="vc_x_1"), "controlled by vc_x_1"),
        (
            lambda c: edited(c, "bi_h_0", expr=parse_expr("i(vc_h_0) * 2", {}, {})),
            "not the unit's template",
        ),
        (lambda c: _with_extra_resistor(c), "not part of the crossbar.s structure"),
        (lambda c: _without(c, "rl_h_2"), "lacks 1 elements, e.g. rl_h_2"),
    ],
)
def test_a_circuit_that_is_not_the_compiled_crossbar_is_refused(edit, message):
    _, _, circuit = compiled()
    with pytest.raises(CircuitError, match=message):
        lower_crossbar(edit(circuit))


def _with_extra_resistor(circuit):
    """A resistor between two unit nodes: not folded (one to ground would be, a bleed)."""
    copy = replace(circuit, elements=dict(circuit.elements))
    copy.elements["rextra"] = Element("rextra", ("h_0", "h_1"), 1e6)
    return copy


def _without(circuit, name):
    elements = dict(circuit.elements)
    del elements[name]
    return replace(circuit, elements=elements)


def test_non_bipartite_couplings_are_refused():
    layers = (
        Layer("x", 2, "visible", "linear"),
        Layer("a", 2, "hidden", "tanh"),
        Layer("b", 2, "hidden", "tanh"),
    )
    meta = NetworkMeta(
        "crossbar", "hopfield", layers, (("x", "a"), ("a", "b"), ("x", "b")), SCALING
    )
    circuit = compile_network(meta, init_params(meta, np.random.default_rng(0)))
    with pytest.raises(CircuitError, match="odd cycle"):
        lower_crossbar(circuit)
