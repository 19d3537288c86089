import math

import numpy as np
import pytest
from scipy.optimize import brentq

from neurosim.circuit.expr import parse_expr
from neurosim.circuit.ir import Circuit, Element, Model
from neurosim.circuit.junction import GMIN, THERMAL_VOLTAGE
from neurosim.engine.dc import solve_dc
from neurosim.errors import CircuitError, ConvergenceError
from neurosim.lower.mna import lower_dc
from neurosim.status import Status


def build(*elements, models=()) -> Circuit:
    circuit = Circuit()
    for model in models:
        circuit.add_model(model)
    for element in elements:
        circuit.add(element)
    return circuit


def solve(circuit):
    return solve_dc(lower_dc(circuit))


def test_divider_and_source_current_sign():
    point = solve(
        build(
            Element("v1", ("a", "0"), 2.0),
            Element("r1", ("a", "b"), 3e3),
            Element("r2", ("b", "0"), 1e3),
        )
    )
    assert point.voltages["b"] == pytest.approx(0.5, rel=1e-15)
    # ngspice's sign: the source delivers current, so its branch current is negative.
    assert point.currents["v1"] == pytest.approx(-2.0 / 4e3, rel=1e-15)


def test_current_source_and_set_sources():
    system = lower_dc(build(Element("i1", ("0", "a"), 1e-3), Element("r1", ("a", "0"), 2e3)))
    assert solve_dc(system).voltages["a"] == pytest.approx(2.0)
    system.set_sources({"i1": -3e-3})
    assert solve_dc(system).voltages["a"] == pytest.approx(-6.0)
    with pytest.raises(KeyError):
        system.set_sources({"r1": 1.0})


def test_controlled_sources():
    circuit = build(
        Element("v1", ("a", "0"), 0.5),
        Element("vs", ("a", "s"), 0.0),  # ammeter
        Element("r1", ("s", "0"), 1e3),  # 0.5 mA through vs
        Element("e1", ("e", "0", "a", "0"), 3.0),
        Element("re", ("e", "0"), 1.0),
        Element("g1", ("0", "g", "a", "0"), 2e-3),
        Element("rg", ("g", "0"), 1e3),
        Element("f1", ("0", "f"), 4.0, control="vs"),
        Element("rf", ("f", "0"), 1e3),
        Element("h1", ("h", "0"), 2e3, control="vs"),
        Element("rh", ("h", "0"), 1.0),
    )
    v = solve(circuit).voltages
    assert v["e"] == pytest.approx(1.5)
    assert v["g"] == pytest.approx(2e-3 * 0.5 * 1e3)
    assert v["f"] == pytest.approx(4.0 * 0.5e-3 * 1e3)
    assert v["h"] == pytest.approx(2e3 * 0.5e-3)


def test_behavioural_sources_with_current_probe():
    circuit = build(
        Element("v1", ("a", "0"), 0.3),
        Element("r1", ("a", "c"), 1e4),
        Element("vc", ("c", "0"), 0.0),
        Element("b1", ("0", "u"), expr=parse_expr("(1 - tanh(v(u)) ^ 2) * i(vc)"), output="i"),
        Element("rl", ("u", "0"), 1e4),
        Element("b2", ("p", "0"), expr=parse_expr("0.1 * tanh(v(u) / 0.1)"), output="v"),
        Element("rp", ("p", "0"), 1e3),
    )
    v = solve(circuit).voltages
    u = brentq(lambda u: u / 1e4 - (1 - math.tanh(u) ** 2) * 3e-5, 0, 1, xtol=1e-16)
    assert v["u"] == pytest.approx(u, rel=1e-12)
    assert v["p"] == pytest.approx(0.1 * math.tanh(u / 0.1), rel=1e-12)


@pytest.mark.parametrize("rs", [0.0, 50.0])
@pytest.mark.parametrize("vin", [2.0, 0.2, -5.0])
def test_diode_matches_ngspice_level1_equations(rs, vin):
    model = Model("dm", "d", (("is", 1e-14), ("n", 1.5), ("rs", rs)))
    circuit = build(
        Element("v1", ("a", "0"), vin),
        Element("r1", ("a", "k"), 1e3),
        Element("d1", ("k", "0"), 2.0, model="dm"),
        models=[model],
    )
    point = solve(circuit)
    vte, isat = 1.5 * THERMAL_VOLTAGE, 2e-14

    def diode(vd):
        if vd >= -3 * vte:
            return isat * (math.exp(vd / vte) - 1) + GMIN * vd
        return -isat * (1 + (3 * vte / (vd * math.e)) ** 3) + GMIN * vd

    # Series: (vin - vk)/R = I(vd), vk = vd + I*rs/area.
    def mismatch(vd):
        current = diode(vd)
        return (vin - (vd + current * rs / 2.0)) / 1e3 - current

    vd = brentq(mismatch, -10, 2, xtol=1e-16, rtol=1e-15)
    assert point.voltages["k"] == pytest.approx(vd + diode(vd) * rs / 2.0, rel=1e-10, abs=1e-15)


def test_breakdown_is_rejected_clearly():
    model = Model("dz", "d", (("bv", 5.0),))
    circuit = build(
        Element("v1", ("a", "0"), 1.0),
        Element("r1", ("a", "k"), 1e3),
        Element("d1", ("k", "0"), 1.0, model="dz"),
        models=[model],
    )
    with pytest.raises(CircuitError, match="breakdown"):
        lower_dc(circuit)


def test_a_floating_node_and_a_loop_of_voltage_sources_are_refused_by_name():
    floating = build(
        Element("v1", ("a", "0"), 1.0),
        Element("c1", ("a", "f"), 1e-9),
        Element("c2", ("f", "0"), 1e-9),
    )
    with pytest.raises(CircuitError, match="node 'f' has no DC path to ground"):
        lower_dc(floating)
    loop = build(Element("v1", ("a", "0"), 1.0), Element("l1", ("a", "0"), 1e-6))
    with pytest.raises(CircuitError, match="l1: closes a loop of voltage sources"):
        lower_dc(loop)


def test_a_numerically_singular_circuit_is_reported_singular():
    """A resistor cancelled by a negative conductance (G): no topology shows it."""
    circuit = build(
        Element("i1", ("0", "a"), 1e-3),
        Element("r1", ("a", "0"), 1e3),
        Element("g1", ("a", "0", "a", "0"), -1e-3),
    )
    point = solve_dc(lower_dc(circuit), throw=False)
    assert point.status is Status.SINGULAR and not point.status.ok
    with pytest.raises(ConvergenceError, match="singular"):
        solve_dc(lower_dc(circuit))


def test_inductor_is_a_short_at_dc():
    point = solve(
        build(
            Element("v1", ("a", "0"), 1.0),
            Element("l1", ("a", "b"), 1e-3),
            Element("r1", ("b", "0"), 100.0),
        )
    )
    assert point.voltages["b"] == pytest.approx(1.0)
    assert point.currents["l1"] == pytest.approx(0.01)
    assert np.isfinite(point.residual) and point.status.ok


def test_undefined_derivative_is_reported_not_raised():
    """sqrt at 0 has an infinite slope: a status (and ConvergenceError), no traceback."""
    circuit = build(
        Element("v1", ("a", "0"), -1.0),
        Element("b1", ("0", "a"), expr=parse_expr("sqrt(v(a)) * 1e-3"), output="i"),
        Element("r1", ("a", "0"), 1e3),
    )
    point = solve_dc(lower_dc(circuit), throw=False)
    assert not point.status.ok
    with pytest.raises(ConvergenceError):
        solve_dc(lower_dc(circuit))
