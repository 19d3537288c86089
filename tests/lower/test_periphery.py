"""Parametrised periphery: row drivers with gain, offset and output limits, injection
amplifiers with a gain — lowered, not refused, and settled as ngspice settles them.

ngspice runs for real here (CI installs it).
"""

import math
from dataclasses import replace

import numpy as np
import pytest

from neurosim.circuit.activations import get_activation
from neurosim.circuit.inputs import input_width
from neurosim.circuit.templates import (
    Driver,
    driver_expression,
    driver_parameters,
    injection_expression,
    injection_gain,
)
from neurosim.engine.solvers import Gradient
from neurosim.errors import CircuitError
from neurosim.host import Chip
from neurosim.lower.crossbar import lower_crossbar
from neurosim.netlist.parse import parse_netlist_text
from neurosim.netlist.write import netlist_text
from neurosim.network.compile import compile_network
from neurosim.verify.crosscheck import cross_check, settings_for_inputs
from tests.networks import random_params, small_classifier

VS = 0.1


def network():
    return small_classifier((3, 6, 2), "tanh")


def with_periphery(circuit, drivers: dict, gains: dict | None = None):
    """``circuit`` with the row drivers of units ``drivers`` (unit -> Driver) and the
    injections of ``gains`` (unit -> gain) rewritten with those parameters."""
    out = replace(circuit, elements=dict(circuit.elements))
    meta = circuit.network
    for unit, driver in drivers.items():
        activation = get_activation(meta.layer(unit.rsplit("_", 1)[0]).activation)
        name = f"bp_{unit}"
        out.elements[name] = replace(
            out.elements[name], expr=driver_expression(activation, unit, VS, driver)
        )
    for unit, gain in (gains or {}).items():
        activation = get_activation(meta.layer(unit.rsplit("_", 1)[0]).activation)
        name = f"bi_{unit}"
        expr = injection_expression(activation, unit, f"vc_{unit}", VS, gain)
        out.elements[name] = replace(out.elements[name], expr=expr)
    return parse_netlist_text(netlist_text(out))  # through the netlist, as a user would


def compiled(seed=0):
    meta = network()
    return compile_network(meta, random_params(meta, np.random.default_rng(seed), 1.2))


def test_templates_read_back_their_parameters():
    activation = get_activation("rho")
    for driver in (
        Driver(),
        Driver(gain=1.07),
        Driver(offset=-0.004),
        Driver(gain=0.9, offset=0.002, low=-0.35, high=0.4),
        Driver(high=0.2),
    ):
        tree = (
            parse_netlist_text(netlist_text(with_periphery(compiled(), {"h_0": driver})))
            .elements["bp_h_0"]
            .expr
        )
        assert driver_parameters(tree, activation, "h_0", VS) == driver
    tree = injection_expression(activation, "h_0", "vc_h_0", VS, 0.93)
    assert injection_gain(tree, activation, "h_0", "vc_h_0", VS) == 0.93
    assert driver_parameters(tree, activation, "h_0", VS) is None
    with pytest.raises(ValueError, match="low must be < high"):
        driver_expression(activation, "h_0", VS, Driver(low=0.3, high=0.1))


def test_drivers_with_gain_offset_and_limits_and_amplifier_gains_match_ngspice():
    rng = np.random.default_rng(3)
    drivers = {
        f"h_{i}": Driver(
            gain=float(rng.uniform(0.9, 1.1)),
            offset=float(rng.uniform(-0.01, 0.01)),
            low=-0.015 if i % 2 else -math.inf,
            high=0.015,
        )
        for i in range(6)
    }
    drivers["out_0"] = Driver(gain=1.05, offset=0.003)
    gains = {f"h_{i}": float(rng.uniform(0.9, 1.1)) for i in range(6)}
    circuit = with_periphery(compiled(), drivers, gains)
    crossbar = lower_crossbar(circuit)
    assert crossbar.transforms_rows()
    np.testing.assert_allclose(crossbar.inj_gain[crossbar.free_slices()["h"]], list(gains.values()))
    inputs = np.random.default_rng(4).uniform(-1, 1, (4, input_width(circuit.network)))
    report = cross_check(circuit, settings_for_inputs(circuit.network, inputs))
    assert report.solver.startswith("crossbar engine"), report.solver
    assert report.ok and report.max_abs_diff_v <= 1e-6 * VS, report
    # the limits bind: some hidden row line sits at its limit
    chip = Chip(circuit)
    sources = chip.sources(4)
    sources.inputs[:] = inputs
    eq = chip.settle(sources, tolerance=1e-12)
    assert eq.method == "anderson" and eq.ok and not eq.followed.any()  # certified stable
    own = chip.settle(sources, tolerance=1e-12, solver=Gradient())  # its own dynamics
    np.testing.assert_allclose(eq.state, own.state, rtol=0, atol=1e-9)
    volts = chip.voltages(sources, eq.state)
    lines = np.array([volts[f"h_{i}_p"] for i in range(6)])
    assert np.sum(np.isclose(np.abs(lines), 0.015, rtol=0, atol=1e-15)) >= 2


def test_a_driver_that_is_not_the_template_or_has_a_negative_gain_with_limits_is_refused():
    circuit = with_periphery(compiled(), {"h_1": Driver(gain=-1.0, high=0.1)})
    with pytest.raises(CircuitError, match="positive gain"):
        lower_crossbar(circuit)
    other = compiled()
    element = other.elements["bp_h_2"]
    other.elements["bp_h_2"] = replace(element, expr=("bin", "+", element.expr, ("v", "h_1")))
    with pytest.raises(CircuitError, match="not the unit's template"):
        lower_crossbar(other)
