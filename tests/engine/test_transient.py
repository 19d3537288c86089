"""Crossbar transients: against ngspice's .tran, the equilibrium, convergence orders, heat.

The ngspice comparisons run ngspice for real (CI installs it); they are never skipped.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurosim.circuit.drive import Drive
from neurosim.circuit.inputs import input_width
from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.engine.energy import dissipated_power
from neurosim.engine.readout import node_voltages
from neurosim.engine.relax import relax
from neurosim.engine.solvers import Gradient
from neurosim.engine.sources import sources_from_drive, sources_from_settings
from neurosim.engine.transient import transient
from neurosim.lower.crossbar import lower_crossbar
from neurosim.netlist.parse import parse_netlist
from neurosim.netlist.write import netlist_text, write_netlist
from neurosim.network.compile import compile_network
from neurosim.spice.ngspice import transients
from neurosim.verify.crosscheck import settings_for_inputs
from tests.networks import SCALING, random_params, small_network

ROOT = Path(__file__).resolve().parents[2]
TAU = SCALING.tau


def network(law: str, hidden: str, topology: str = "layered") -> NetworkMeta:
    return small_network(law, hidden, spring=1.5, topology=topology)


def case(law: str, hidden: str, seed: int, topology: str = "layered", batch: int = 6):
    """An ideal compiled crossbar, its sources (springs and a nudge) and random starts."""
    meta = network(law, hidden, topology)
    rng = np.random.default_rng(seed)
    params = random_params(meta, rng, gain=0.9)
    drive = Drive(
        inputs={"in": rng.uniform(-1, 1, (batch, 3))},
        targets={"x": rng.uniform(-1, 1, (batch, 4))},
        nudge_targets={"out": rng.uniform(-1, 1, (batch, 2))},
        nudge_strength=0.25,
    )
    crossbar = lower_crossbar(compile_network(meta, params))
    start = rng.normal(0, 0.8, (batch, crossbar.free))
    return crossbar, sources_from_drive(crossbar, drive), start


def random_network(law: str, hidden: str, seed: int) -> NetworkMeta:
    """Random sizes and scaling (as in tests/verify/test_crosscheck.py), τ varied too."""
    rng = np.random.default_rng(seed)
    layers = (
        Layer("in", int(rng.integers(1, 4)), "input", "linear"),
        Layer("x", int(rng.integers(2, 6)), "visible", "linear"),
        Layer("h", int(rng.integers(3, 9)), "hidden", hidden),
        Layer("o", int(rng.integers(1, 4)), "output", "tanh"),
    )
    scaling = Scaling(
        volts_per_unit=float(rng.uniform(0.05, 0.5)),
        g_unit=float(rng.uniform(1e-5, 1e-4)),
        g_min=1e-6,
        tau=float(rng.uniform(0.5e-6, 2e-6)),
    )
    couplings = (("in", "h"), ("x", "h"), ("h", "o"))
    return NetworkMeta("crossbar", law, layers, couplings, scaling, float(rng.uniform(0.5, 3)))


def resistor_power(circuit, volts: dict) -> np.ndarray:
    """Σ (V_a − V_b)²/R over every resistor of ``circuit`` (ground at 0 V)."""
    total = 0.0
    for element in circuit.elements.values():
        if element.kind == "r":
            a, b = (0.0 if node == "0" else volts[node] for node in element.nodes)
            total = total + (a - b) ** 2 / element.value
    return total


# --- against ngspice ---------------------------------------------------------------------

# Per case, the bound on max |ΔV| / volts_per_unit with tmax = τ/100, ~10x the measured
# (two settings each): xor 6.7e-7, xor-ic 3.7e-6, sb-rho 7.4e-6, sb-tanh-ic 1.3e-5,
# hopfield-tanh 1.1e-5, hopfield-tanh-ic 3.6e-5. That is ngspice's trapezoidal step error:
# it falls ~100x with tmax = τ/1000 (see the convergence test below).
NGSPICE_CASES = {
    "xor": ("xor", None, None, False, 7e-6),
    "xor-ic": ("xor", None, None, True, 4e-5),
    "sb-rho": ("scellier_bengio", "rho", 1, False, 8e-5),
    "sb-tanh-ic": ("scellier_bengio", "tanh", 2, True, 1.5e-4),
    "hopfield-tanh": ("hopfield", "tanh", 3, False, 1.2e-4),
    "hopfield-tanh-ic": ("hopfield", "tanh", 4, True, 4e-4),
}


def ngspice_case(tmp_path: Path, name: str):
    """The circuit (through the netlist file, as a user would) and its start state."""
    law, hidden, seed, with_ic, _ = NGSPICE_CASES[name]
    rng = np.random.default_rng(7 if seed is None else 100 + seed)
    if law == "xor":
        circuit = parse_netlist(ROOT / "netlists/xor.cir")
    else:
        meta = random_network(law, hidden, seed)
        params = random_params(meta, rng, gain=0.9)
        compiled = compile_network(meta, params)
        if with_ic:  # non-zero capacitor voltages, written into the netlist file
            vs = meta.scaling.volts_per_unit
            for key, element in list(compiled.elements.items()):
                if key.startswith("cu_"):
                    ic = float(rng.uniform(-1.5, 1.5)) * vs
                    compiled.elements[key] = replace(element, ic=ic)
        circuit = parse_netlist(write_netlist(compiled, tmp_path / "net.cir"))
    meta = circuit.network
    vs = meta.scaling.volts_per_unit
    if law == "xor" and with_ic:
        for key, element in list(circuit.elements.items()):
            if key.startswith("cu_"):
                circuit.elements[key] = replace(element, ic=float(rng.uniform(-1.5, 1.5)) * vs)
    crossbar = lower_crossbar(circuit)
    start = np.array([circuit.elements[f"cu_{u}"].ic or 0.0 for u in crossbar.layout.units]) / vs
    assert np.any(start != 0) == with_ic
    settings = settings_for_inputs(meta, rng.uniform(-1, 1, (2, input_width(meta))))
    return circuit, crossbar, start, settings


@pytest.mark.parametrize("name", list(NGSPICE_CASES))
def test_transient_matches_ngspice(tmp_path, name):
    """Every node voltage at every ngspice time point; the heat against ngspice's voltages."""
    circuit, crossbar, start, settings = ngspice_case(tmp_path, name)
    meta = circuit.network
    vs, tau = meta.scaling.volts_per_unit, meta.scaling.tau
    text = netlist_text(replace(circuit, controls=()))
    runs = transients(text, settings, tstop=8 * tau, tstep=tau / 100, tmax=tau / 100)
    for setting, run in zip(settings, runs, strict=True):
        assert run.time[0] > 0 and run.time[-1] == pytest.approx(8 * tau, rel=1e-9)
        sources = sources_from_settings(crossbar, [setting])
        ours = transient(crossbar, sources, run.time, start=start)
        volts = node_voltages(crossbar, sources, ours.states[:, 0, :])  # time as the batch
        assert set(volts) == set(run.voltages)
        worst = max(float(np.max(np.abs(volts[n] - run.voltages[n]))) for n in volts)
        assert worst <= NGSPICE_CASES[name][4] * vs, (name, worst / vs)
        moved = max(np.ptp(run.voltages[u]) for u in crossbar.layout.units)
        assert moved > 0.05 * vs  # the units really moved: not a comparison of constants
        # power and heat from ngspice's own voltages: Σ ΔV²/R over every resistor
        power = resistor_power(circuit, run.voltages)
        ours_power = dissipated_power(crossbar, sources, ours.states[:, 0, :])
        np.testing.assert_allclose(ours_power, power, rtol=2e-4)  # measured ≤ 1.5e-5
        steps = np.diff(run.time) * (power[1:] + power[:-1]) / 2  # trapezoid
        heat = ours.heat[1:, 0] - ours.heat[0, 0]
        # the trapezoid's own error dominates: measured ≤ 9e-5
        np.testing.assert_allclose(heat, np.cumsum(steps), rtol=1e-3)


def test_ngspice_converges_to_the_engine_as_its_steps_shrink(tmp_path):
    """The remaining difference is ngspice's step error: second order in tmax."""
    circuit, crossbar, start, settings = ngspice_case(tmp_path, "xor-ic")
    meta = circuit.network
    vs, tau = meta.scaling.volts_per_unit, meta.scaling.tau
    text = netlist_text(replace(circuit, controls=()))
    sources = sources_from_settings(crossbar, settings[:1])
    worst = []
    for tmax in (tau / 100, tau / 1000):
        (run,) = transients(text, settings[:1], tstop=4 * tau, tstep=tau / 100, tmax=tmax)
        ours = transient(crossbar, sources, run.time, start=start)
        volts = node_voltages(crossbar, sources, ours.states[:, 0, :])
        worst.append(max(float(np.max(np.abs(volts[n] - run.voltages[n]))) for n in volts))
    # measured 3.7e-6 and 3.2e-8 of vs (ratio 114)
    assert worst[1] <= 3e-7 * vs
    assert worst[0] / worst[1] > 30


# --- against the engine's own references -----------------------------------------------

LONG_CASES = [
    ("scellier_bengio", "rho", "layered"),
    ("scellier_bengio", "tanh", "deep"),
    ("hopfield", "tanh", "layered"),
    ("hopfield", "tanh", "deep"),
]


@pytest.mark.parametrize(("law", "hidden", "topology"), LONG_CASES)
def test_long_time_limit_is_the_equilibrium(law, hidden, topology):
    """From 0, the transient settles where relax lands.

    The Hopfield networks have several minima, and Anderson from 0 may land in another
    one than the dynamics (measured: sample 1 of the deep case, 6.0 away, E = −1.488 there
    against −1.510 where the circuit settles), so the references are relax along the circuit's
    own dynamics from the same start (``gradient``, Euler at 0.1 τ) and Anderson started
    from the transient at 10 τ (basin decided, far from settled). Sample 1 of the
    Scellier–Bengio deep case settles slowly (residual 2e-7 at 400 τ), hence 2000 τ.
    """
    crossbar, sources, _ = case(law, hidden, 1, topology)
    times = np.array([10.0, 2000.0]) * TAU
    trajectory = transient(crossbar, sources, times, rtol=1e-10, atol=1e-12)
    settled = trajectory.states[-1]
    dynamics = relax(crossbar, sources, solver=Gradient(), tolerance=1e-12, max_passes=20000)
    warm = relax(crossbar, sources, start=trajectory.states[0], tolerance=1e-13)
    # measured: ≤ 4.4e-11 (dynamics), ≤ 3.8e-11 (warm)
    assert np.max(np.abs(settled - dynamics.raise_if_failed().state)) <= 1e-8
    assert np.max(np.abs(settled - warm.raise_if_failed().state)) <= 1e-8
    assert np.max(np.abs(trajectory.states[0] - settled)) > 1e-3


@pytest.mark.parametrize(
    ("method", "steps", "order"),
    [("rk4", (1 / 16, 1 / 32), 16.0), ("euler", (1 / 100, 1 / 200), 2.0)],
)
@pytest.mark.parametrize(("law", "hidden"), [("scellier_bengio", "rho"), ("hopfield", "tanh")])
def test_fixed_step_methods_converge_to_rk45_with_their_order(law, hidden, method, steps, order):
    crossbar, sources, start = case(law, hidden, 2)
    times = np.arange(1, 9) * 0.5 * TAU  # multiples of every step
    reference = transient(crossbar, sources, times, start=start, rtol=1e-12, atol=1e-14)
    errors = []
    for dt in steps:
        fixed = transient(crossbar, sources, times, start=start, method=method, dt=dt * TAU)
        assert np.all(fixed.steps == round(times[-1] / (dt * TAU)))
        errors.append(np.max(np.abs(fixed.states - reference.states)))
    ratio = errors[0] / errors[1]
    # measured: rk4 3.9e-6 -> 2.3e-7 (ratio 17.3, Hopfield 5.7e-6 -> 3.2e-7, 17.4);
    # euler 5.7e-3 -> 2.9e-3 (2.009, Hopfield 6.3e-3 -> 3.2e-3, 2.008)
    assert 0.65 * order <= ratio <= 1.35 * order, (errors, ratio)
    assert errors[1] < (1e-6 if method == "rk4" else 1e-2)


def test_fixed_steps_land_on_every_requested_time():
    """Output times that are not multiples of dt: the last step before each is shortened."""
    crossbar, sources, start = case("hopfield", "tanh", 5)
    times = np.array([0.33, 0.33, 1.01, 2.5]) * TAU
    reference = transient(crossbar, sources, times, start=start, rtol=1e-12, atol=1e-14)
    fixed = transient(crossbar, sources, times, start=start, method="rk4", dt=TAU / 40)
    assert np.all(fixed.steps == 14 + 28 + 60)  # ceil(0.33/0.025), ceil(0.68/0.025), ...
    # measured 1.8e-7; a step overshooting a time by up to dt would be off by ~1e-2
    assert np.max(np.abs(fixed.states - reference.states)) <= 2e-6


def test_default_rk45_is_accurate():
    crossbar, sources, start = case("scellier_bengio", "rho", 2)
    times = np.arange(1, 9) * 0.5 * TAU
    reference = transient(crossbar, sources, times, start=start, rtol=1e-12, atol=1e-14)
    default = transient(crossbar, sources, times, start=start)
    # measured 3.8e-10 (states), 7.5e-11 relative (heat)
    assert np.max(np.abs(default.states - reference.states)) <= 3e-9
    np.testing.assert_allclose(default.heat, reference.heat, rtol=1e-9)


@pytest.mark.parametrize(("law", "hidden"), [("scellier_bengio", "rho"), ("hopfield", "tanh")])
def test_heat_is_the_integral_of_the_dissipated_power(law, hidden):
    crossbar, sources, start = case(law, hidden, 3)
    delta = 1e-3 * TAU
    centres = np.array([0.3, 2.0, 6.0]) * TAU
    times = np.sort(np.concatenate([centres - delta, centres, centres + delta]))
    trajectory = transient(crossbar, sources, times, start=start, rtol=1e-11, atol=1e-13)
    heat = trajectory.heat
    assert np.all(heat > 0) and np.all(np.diff(heat, axis=0) > 0)
    for k in range(len(centres)):
        rate = (heat[3 * k + 2] - heat[3 * k]) / (2 * delta)
        power = dissipated_power(crossbar, sources, trajectory.states[3 * k + 1])
        # measured ≤ 1.9e-6 relative (the central difference's own truncation error)
        np.testing.assert_allclose(rate, power, rtol=3e-5)
    # over a long run the heat keeps growing at least at the bias devices' constant rate
    assert np.all(heat[-1] >= crossbar.bias_power * times[-1])


def test_zero_length_and_repeated_times_return_the_start():
    crossbar, sources, start = case("scellier_bengio", "rho", 4)
    trajectory = transient(crossbar, sources, np.array([0.0, 0.0, 1e-7, 1e-7]), start=start)
    np.testing.assert_array_equal(trajectory.states[0], start)
    np.testing.assert_array_equal(trajectory.states[1], start)
    np.testing.assert_array_equal(trajectory.heat[:2], 0.0)
    np.testing.assert_array_equal(trajectory.states[2], trajectory.states[3])


def test_bad_arguments_raise_value_error():
    crossbar, sources, start = case("scellier_bengio", "rho", 0)
    times = np.array([1e-7, 2e-7])
    with pytest.raises(ValueError, match="increasing"):
        transient(crossbar, sources, np.array([2e-7, 1e-7]))
    with pytest.raises(ValueError, match="non-negative"):
        transient(crossbar, sources, np.array([-1e-7, 1e-7]))
    with pytest.raises(ValueError, match="finite"):
        transient(crossbar, sources, np.array([1e-7, np.nan]))
    with pytest.raises(ValueError, match="finite"):
        transient(crossbar, sources, np.array([1e-7, np.inf]))
    with pytest.raises(ValueError, match="non-empty"):
        transient(crossbar, sources, np.array([]))
    with pytest.raises(ValueError, match="method must be one of"):
        transient(crossbar, sources, times, method="rk23")
    with pytest.raises(ValueError, match="needs a positive step"):
        transient(crossbar, sources, times, method="rk4")
    with pytest.raises(ValueError, match="needs a positive step"):
        transient(crossbar, sources, times, method="euler", dt=-1e-8)
    with pytest.raises(ValueError, match="needs a positive step"):
        transient(crossbar, sources, times, method="euler", dt=np.nan)
    nan_start = start.copy()
    nan_start[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        transient(crossbar, sources, times, start=nan_start)
