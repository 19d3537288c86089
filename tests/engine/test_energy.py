"""The crossbar's energy and dissipated power against independent references.

References: the abstract model's energy (:mod:`neurosim.network.model`), central
differences of E against the engine's force, the circuit's own dynamics, and sums over
the circuit's elements (KCL, Σ ΔV²/R) evaluated at the node voltages the host reads.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurosim.circuit.activations import get_activation
from neurosim.circuit.drive import Drive
from neurosim.circuit.inputs import drive_settings
from neurosim.circuit.meta import NetworkMeta
from neurosim.engine.energy import dissipated_power, energy
from neurosim.engine.readout import node_voltages
from neurosim.engine.solvers import Gradient
from neurosim.engine.sources import sources_from_drive, sources_from_settings
from neurosim.engine.transient import transient
from neurosim.engine.workspace import Tables, Workspace
from neurosim.errors import CircuitError
from neurosim.host import Chip
from neurosim.lower.crossbar import lower_crossbar
from neurosim.network import model
from neurosim.network.compile import compile_network
from tests.networks import SCALING, random_params, small_network

BATCH = 6


def network(law: str, hidden: str, spring: float, topology: str = "layered") -> NetworkMeta:
    return small_network(law, hidden, spring=spring, topology=topology)


def case(law, hidden, spring, nudge, topology="layered", seed=1):
    """Meta, random parameters (biases too), a drive with springs and nudges, an RNG."""
    meta = network(law, hidden, spring, topology)
    rng = np.random.default_rng(seed)
    params = random_params(meta, rng, gain=0.9)
    drive = Drive(
        inputs={"in": rng.uniform(-1, 1, (BATCH, 3))},
        targets={"x": rng.uniform(-1, 1, (BATCH, 4))},
        nudge_targets=(
            {"out": rng.uniform(-1, 1, (BATCH, 2)), "x": rng.uniform(-1, 1, (BATCH, 4))}
            if nudge
            else {}
        ),
        nudge_strength=nudge,
    )
    return meta, params, drive, rng


def state_dict(crossbar, flat: np.ndarray) -> dict:
    """The model's layout of an engine state (batch, free)."""
    return {name: flat[:, where] for name, where in crossbar.free_slices().items()}


def engine_force(crossbar, sources, state: np.ndarray) -> np.ndarray:
    """F(s) = τ ds/dt (model units) from the relaxation's own workspace."""
    tables = Tables.build(crossbar, sources.nudge, np.float64)
    work = Workspace(crossbar, tables, sources, slice(0, state.shape[0]))
    out = np.empty_like(state)
    work.force(np.ascontiguousarray(state), out, np.empty(state.shape[0]))
    return out


def slopes(crossbar, state: np.ndarray) -> np.ndarray:
    """ρ'(s) per free unit."""
    out = np.empty_like(state)
    for name, where in crossbar.free_slices().items():
        activation = get_activation(crossbar.meta.layer(name).activation)
        out[:, where] = activation.drho(state[:, where])
    return out


def resistor_power(circuit, volts: dict) -> np.ndarray:
    """Σ (V_a − V_b)²/R over every resistor of ``circuit`` (ground at 0 V)."""
    total = 0.0
    for element in circuit.elements.values():
        if element.name.startswith("r"):
            a, b = (0.0 if node == "0" else volts[node] for node in element.nodes)
            total = total + (a - b) ** 2 / element.value
    return total


CASES = [
    ("scellier_bengio", "rho", 2.0, 0.3, "layered"),
    ("scellier_bengio", "tanh", 0.5, -0.2, "deep"),
    ("scellier_bengio", "rho", 0.0, 0.0, "deep"),
    ("hopfield", "tanh", 1.5, 0.25, "layered"),
    ("hopfield", "tanh", 0.0, -0.3, "deep"),
]


@pytest.mark.parametrize(("law", "hidden", "spring", "nudge", "topology"), CASES)
def test_energy_is_the_model_energy(law, hidden, spring, nudge, topology):
    """On the ideal compiled circuit, at random states, springs and nudges included."""
    meta, params, drive, rng = case(law, hidden, spring, nudge, topology)
    crossbar = lower_crossbar(compile_network(meta, params))
    sources = sources_from_drive(crossbar, drive)
    state = rng.normal(0, 0.8, (BATCH, crossbar.free))
    expected = model.energy(meta, params, state_dict(crossbar, state), drive)
    got = energy(crossbar, sources, state)
    assert got.shape == (BATCH,)
    # measured ≤ 9.2e-16 relative
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13 * np.max(np.abs(expected)))
    assert np.ptp(got) > 0.1  # the states really differ


@pytest.mark.parametrize(("law", "hidden", "spring", "nudge", "topology"), CASES)
def test_force_is_minus_the_energy_gradient(law, hidden, spring, nudge, topology):
    """Scellier–Bengio: −∂E/∂s = F. Hopfield: −∂E/∂a = F, i.e. −∂E/∂s = ρ'(s)·F."""
    meta, params, drive, rng = case(law, hidden, spring, nudge, topology)
    crossbar = lower_crossbar(compile_network(meta, params))
    sources = sources_from_drive(crossbar, drive)
    state = rng.normal(0, 0.8, (BATCH, crossbar.free))
    h = 1e-5
    gradient = np.empty_like(state)
    for k in range(crossbar.free):
        step = np.zeros(crossbar.free)
        step[k] = h
        e_plus = energy(crossbar, sources, state + step)
        e_minus = energy(crossbar, sources, state - step)
        gradient[:, k] = (e_plus - e_minus) / (2 * h)
    force = engine_force(crossbar, sources, state)
    expected = force if law == "scellier_bengio" else slopes(crossbar, state) * force
    # measured ≤ 1.1e-8 relative per component (≤ 5e-11 of max |F|)
    np.testing.assert_allclose(-gradient, expected, rtol=1e-6, atol=1e-9 * np.abs(expected).max())


@pytest.mark.parametrize("method", ["rk45", "euler"])
@pytest.mark.parametrize(
    ("law", "hidden", "spring", "nudge", "topology"), [CASES[0], CASES[1], CASES[3], CASES[4]]
)
def test_energy_never_increases_along_the_circuit_dynamics(
    law, hidden, spring, nudge, topology, method
):
    meta, params, drive, rng = case(law, hidden, spring, nudge, topology)
    crossbar = lower_crossbar(compile_network(meta, params))
    sources = sources_from_drive(crossbar, drive)
    start = rng.normal(0, 1.0, (BATCH, crossbar.free))
    tau = SCALING.tau
    times = np.linspace(0.0, 20 * tau, 201)
    dt = 0.1 * tau if method == "euler" else None
    trajectory = transient(crossbar, sources, times, start=start, method=method, dt=dt)
    energies = np.array([energy(crossbar, sources, s) for s in trajectory.states])
    rises = np.diff(energies, axis=0) / np.abs(energies[:-1])
    # measured: the largest relative step up is 5.5e-16 (round-off at a flat end)
    assert np.max(rises) <= 1e-12
    assert np.all(energies[-1] < energies[0] - 1.0)  # it really descended


def test_a_mismatched_circuit_has_no_energy():
    meta, params, drive, rng = case("scellier_bengio", "rho", 2.0, 0.3)
    circuit = compile_network(meta, params)
    ideal = lower_crossbar(circuit)
    sources = sources_from_drive(ideal, drive)
    state = rng.normal(0, 0.8, (BATCH, ideal.free))
    assert ideal.symmetric()
    assert np.all(np.isfinite(energy(ideal, sources, state)))

    mismatched = replace(circuit, elements=dict(circuit.elements))
    mismatched.set_value("rw1b_0_0p", circuit.elements["rw1b_0_0p"].value * 1.01)
    crossbar = lower_crossbar(mismatched)
    assert not crossbar.symmetric()
    with pytest.raises(CircuitError, match="no energy function"):
        energy(crossbar, sources, state)

    gain = replace(circuit, elements=dict(circuit.elements))
    gain.set_value("fi_x_0", 1.05)  # a linear unit's CCCS
    crossbar = lower_crossbar(gain)
    assert crossbar.symmetric()
    with pytest.raises(CircuitError, match="injection gain"):
        energy(crossbar, sources, state)
    assert lower_crossbar(circuit).symmetric()  # the edits went to copies


def test_a_symmetric_edit_keeps_an_energy_of_the_edited_parameters():
    """Program one weight's forward and backward devices alike, and a bias: E is the
    model energy of the parameters read back from the edited circuit."""
    meta, params, drive, rng = case("hopfield", "tanh", 1.5, 0.25)
    circuit = compile_network(meta, params)
    for forward in ("rw1f_2_3p", "rw1f_0_5n", "rw2f_4_1p"):
        value = circuit.elements[forward].value * float(rng.uniform(0.5, 0.9))
        circuit.set_value(forward, value)
        circuit.set_value(forward.replace("f_", "b_"), value)
    circuit.set_value("rb_h_2_n", circuit.elements["rb_h_2_n"].value * 0.7)
    edited = Chip(circuit).parameters()
    assert not np.allclose(edited["w1"], params["w1"])
    crossbar = lower_crossbar(circuit)
    assert crossbar.symmetric()
    sources = sources_from_drive(crossbar, drive)
    state = rng.normal(0, 0.8, (BATCH, crossbar.free))
    expected = model.energy(meta, edited, state_dict(crossbar, state), drive)
    np.testing.assert_allclose(energy(crossbar, sources, state), expected, rtol=1e-12)
    original = model.energy(meta, params, state_dict(crossbar, state), drive)
    assert np.max(np.abs(original - expected)) > 1e-3


def test_co_content_is_the_energy_in_watts():
    """Φ = E·vs²·g_unit, and −∂Φ/∂V at each unit node is the net current KCL gives there
    (Scellier–Bengio law), summed element by element over the circuit."""
    meta, params, drive, rng = case("scellier_bengio", "rho", 2.0, 0.3, seed=4)
    vs, g_unit = SCALING.volts_per_unit, SCALING.g_unit
    circuit = compile_network(meta, params)
    settings = drive_settings(meta, drive)
    for name, value in settings[0].items():
        if name.startswith("gn_"):  # the same in every setting: program it into the circuit
            circuit.set_value(name, value)
    crossbar = lower_crossbar(circuit)
    sources = sources_from_settings(crossbar, settings)
    state = rng.normal(0, 0.8, (BATCH, crossbar.free))
    e = energy(crossbar, sources, state)
    np.testing.assert_array_equal(co_content_watts(crossbar, e), e * vs**2 * g_unit)

    volts = node_voltages(crossbar, sources, state)
    volts["0"] = np.zeros(BATCH)
    column = {}  # i(vc_u): what the devices push into each 0 V column
    for element in circuit.elements.values():
        if element.kind == "r" and element.nodes[1].endswith("_c"):
            a, c = element.nodes
            column[c] = column.get(c, 0.0) + (volts[a] - volts[c]) / element.value
    net = {u: np.zeros(BATCH) for u in crossbar.layout.units}
    for element in circuit.elements.values():
        kind, nodes = element.kind, element.nodes
        if kind == "r":
            a, b = nodes
            for here, there in ((a, b), (b, a)):
                if here in net:
                    net[here] = net[here] + (volts[there] - volts[here]) / element.value
        elif kind == "f":  # CCCS 0 -> u: gain · i(vc_u) into u
            net[nodes[1]] = net[nodes[1]] + element.value * column[f"{nodes[1]}_c"]
        elif kind == "b" and element.output == "i":  # ρ'(V/vs) · i(vc_u) into u
            u = nodes[1]
            slope = get_activation(meta.layer(u.rsplit("_", 1)[0]).activation).drho
            net[u] = net[u] + slope(volts[u] / vs) * column[f"{u}_c"]
        elif kind == "g":  # VCCS 0 -> u: g · (V(u_nt) − V(u)) into u
            net[nodes[1]] = net[nodes[1]] + element.value * (volts[nodes[2]] - volts[nodes[3]])
    assert any(np.any(column[c] != 0) for c in column)
    dv = 1e-6 * vs
    for i, u in enumerate(crossbar.layout.units):
        step = np.zeros(crossbar.free)
        step[i] = dv / vs
        phi_plus = co_content_watts(crossbar, energy(crossbar, sources, state + step))
        phi_minus = co_content_watts(crossbar, energy(crossbar, sources, state - step))
        current = -(phi_plus - phi_minus) / (2 * dv)
        # measured ≤ 2.6e-8 relative per node
        np.testing.assert_allclose(current, net[u], rtol=1e-6, atol=1e-9 * np.abs(net[u]).max())


@pytest.mark.parametrize("edited", [False, True], ids=["ideal", "non-ideal"])
@pytest.mark.parametrize(("law", "hidden"), [("scellier_bengio", "rho"), ("hopfield", "tanh")])
def test_dissipated_power_is_the_sum_over_resistors(law, hidden, edited):
    meta, params, drive, rng = case(law, hidden, 2.0, 0.3, seed=3)
    circuit = compile_network(meta, params)
    if edited:
        names = sorted(n for n in circuit.elements if n.startswith(("rw", "rb", "rl", "rs")))
        for name in rng.choice(names, 12, replace=False):
            circuit.set_value(name, circuit.elements[name].value * rng.uniform(0.7, 1.4))
        for name, gain in (("en_h_2", -0.93), ("ep_x_1", 1.07), ("en_in_0", -1.1)):
            circuit.set_value(name, gain)
        circuit.set_value("ep_in_2", 0.9)
        circuit.set_value("vbias_p", 0.21)
    crossbar = lower_crossbar(circuit)
    assert crossbar.symmetric() != edited
    sources = sources_from_settings(crossbar, drive_settings(meta, drive))
    state = rng.normal(0, 0.8, (BATCH, crossbar.free))
    expected = resistor_power(circuit, node_voltages(crossbar, sources, state))
    # measured ≤ 2e-15 relative
    np.testing.assert_allclose(dissipated_power(crossbar, sources, state), expected, rtol=1e-12)
    assert np.ptp(expected) > 0.1 * np.min(expected)  # depends on the state


def test_a_gain_shared_by_every_injection_keeps_an_energy():
    """Drift compensation writes one gain α on every injection: the circuit of αW, αb,
    which the accelerated solver may descend; it must end where the circuit's own
    dynamics (plain steps) end."""
    import neurosim
    from neurosim.engine.batch import prepare_inputs
    from neurosim.engine.energy import has_energy
    from neurosim.engine.workspace import uniform_gain
    from neurosim.lower.crossbar import lower_crossbar

    netlist = Path(__file__).resolve().parents[2] / "netlists/digits_classify.cir"
    # one drift exponent for every device: both arrays of a coupling stay equal
    made = neurosim.program(netlist, "generic", {"nu": 0.06}, seconds=86400.0, compensate=True)
    crossbar = lower_crossbar(made.circuit)
    assert uniform_gain(crossbar) == pytest.approx(made.compensation) and made.compensation > 1.2
    assert has_energy(crossbar)
    inputs = np.random.default_rng(0).uniform(-1, 1, (8, 64))
    batch = prepare_inputs(made.circuit, inputs)
    fast = batch.settle(tolerance=1e-10)
    own = batch.settle(tolerance=1e-10, solver=Gradient(), max_passes=100_000)
    assert fast.equilibrium.ok and own.equilibrium.ok
    np.testing.assert_allclose(fast.equilibrium.state, own.equilibrium.state, atol=1e-8)


def co_content_watts(crossbar, energy_model_units: np.ndarray) -> np.ndarray:
    """The circuit's co-content Φ [W] for energies in model units."""
    scaling = crossbar.meta.scaling
    return np.asarray(energy_model_units) * scaling.volts_per_unit**2 * scaling.g_unit
