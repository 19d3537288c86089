"""The ideal compiled circuit's equilibrium equals the abstract model's fixed point."""

import numpy as np
import pytest

from neurosim.circuit.drive import Drive
from neurosim.circuit.inputs import drive_settings
from neurosim.circuit.meta import NetworkMeta
from neurosim.engine.dc import solve_dc
from neurosim.lower.mna import lower_dc
from neurosim.network.compile import compile_network
from neurosim.network.model import energy, force
from tests.naive import model_fixed_point, unflatten
from tests.networks import random_params, small_network


def network(law: str, hidden: str, spring: float) -> NetworkMeta:
    return small_network(law, hidden, spring=spring)


def random_case(meta: NetworkMeta, seed: int, nudge: float):
    rng = np.random.default_rng(seed)
    params = random_params(meta, rng, gain=0.5)
    drive = Drive(
        inputs={"in": rng.uniform(-1, 1, (1, 3))},
        targets={"x": rng.uniform(-1, 1, (1, 4))},
        nudge_targets={"out": rng.uniform(-1, 1, (1, 2)), "x": rng.uniform(-1, 1, (1, 4))},
        nudge_strength=nudge,
    )
    return params, drive


def energy_gradient(meta, params, flat, drive, h=1e-6):
    """Central finite differences of the energy over the flattened free state."""
    numeric = np.empty_like(flat)
    for k in range(flat.size):
        step = np.zeros_like(flat)
        step[k] = h
        e_plus = energy(meta, params, unflatten(meta, flat + step), drive)[0]
        e_minus = energy(meta, params, unflatten(meta, flat - step), drive)[0]
        numeric[k] = (e_plus - e_minus) / (2 * h)
    return numeric


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("law", "hidden", "spring", "nudge"),
    [
        ("scellier_bengio", "rho", 2.0, 0.0),
        ("scellier_bengio", "rho", 2.0, 0.3),
        ("scellier_bengio", "tanh", 0.5, -0.2),
        ("hopfield", "tanh", 1.5, 0.25),
        ("hopfield", "linear", 0.0, 0.0),
    ],
)
def test_circuit_equilibrium_equals_model_fixed_point(seed, law, hidden, spring, nudge):
    meta = network(law, hidden, spring)
    params, drive = random_case(meta, seed, nudge)
    expected = model_fixed_point(meta, params, drive)
    assert expected is not None  # these cases have one equilibrium; hybrd finds it

    circuit = compile_network(meta, params)
    for name, value in drive_settings(meta, drive)[0].items():
        if name in circuit.elements:
            circuit.set_value(name, value)
    point = solve_dc(lower_dc(circuit))
    got = state_from_voltages(meta, point.voltages)
    for name, value in expected.items():
        np.testing.assert_allclose(got[name], value, rtol=1e-9, atol=1e-9 * np.max(np.abs(value)))


def test_scellier_bengio_force_is_minus_energy_gradient():
    meta = network("scellier_bengio", "rho", 2.0)
    params, drive = random_case(meta, 7, 0.4)
    rng = np.random.default_rng(8)
    flat = rng.normal(0, 1, 12)
    f = force(meta, params, unflatten(meta, flat), drive)
    analytic = np.concatenate([f[n][0] for n in ("x", "h", "out")])
    numeric = -energy_gradient(meta, params, flat, drive)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("nudge", [0.0, 0.25, -0.2])
def test_hopfield_energy_gradient_is_minus_slope_times_force(nudge):
    """Hopfield law: dE/du = −ρ'(u) ⊙ force(u), so E is stationary at the circuit's fixed
    points, nudges and springs included."""
    meta = network("hopfield", "tanh", 1.5)
    params, drive = random_case(meta, 11, nudge)
    rng = np.random.default_rng(12)
    flat = rng.normal(0, 0.8, 12)
    state = unflatten(meta, flat)
    f = force(meta, params, state, drive)
    slopes = {"x": np.ones(4), "h": 1 - np.tanh(state["h"][0]) ** 2}
    slopes["out"] = 1 - np.tanh(state["out"][0]) ** 2
    expected = np.concatenate([-slopes[n] * f[n][0] for n in ("x", "h", "out")])
    numeric = energy_gradient(meta, params, flat, drive)
    np.testing.assert_allclose(numeric, expected, rtol=1e-6, atol=1e-7)


def state_from_voltages(meta: NetworkMeta, voltages: dict) -> dict[str, np.ndarray]:
    """Model state (free layers, shape (size,)) from unit-node voltages."""
    vs = meta.scaling.volts_per_unit
    return {
        layer.name: np.array([voltages[f"{layer.name}_{i}"] for i in range(layer.size)]) / vs
        for layer in meta.layers
        if layer.kind != "input"
    }
