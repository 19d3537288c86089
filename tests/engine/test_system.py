"""The crossbar as a circuit system: its Jacobian, diagonal and energy against its field."""

from dataclasses import replace

import numpy as np
import pytest

from neurosim.engine.crossbar_system import CrossbarSystem
from neurosim.engine.relax import as_system, relax, residual
from neurosim.engine.sources import default_sources
from neurosim.engine.system import System
from neurosim.errors import CircuitError
from tests.networks import random_params, small_network
from tests.oracle import ideal_crossbar


def case(law: str, activation: str, seed: int = 0, mismatch: float = 0.0):
    meta = small_network(law, activation, spring=2.0, topology="deep")
    rng = np.random.default_rng(seed)
    crossbar = ideal_crossbar(meta, random_params(meta, rng, gain=1.2))
    if mismatch:
        noise = 1 + mismatch * rng.standard_normal(crossbar.m_oe.shape)
        crossbar = replace(crossbar, m_oe=crossbar.m_oe * noise)
    sources = default_sources(crossbar, 3)
    sources.inputs[:] = rng.uniform(-1, 1, sources.inputs.shape)
    sources.targets[:] = rng.uniform(-1, 1, sources.targets.shape)
    state = rng.uniform(-1.5, 1.5, (3, crossbar.free))
    return CrossbarSystem(crossbar), sources, state, rng


@pytest.mark.parametrize(
    "law, activation, mismatch",
    [("scellier_bengio", "rho", 0.0), ("hopfield", "tanh", 0.0), ("scellier_bengio", "rho", 0.1)],
)
def test_jvp_and_diagonal_are_the_derivatives_of_the_field(law, activation, mismatch):
    system, sources, state, rng = case(law, activation, mismatch=mismatch)
    direction = rng.standard_normal(state.shape)
    h = 1e-6
    expected = (
        system.field(sources, state + h * direction) - system.field(sources, state - h * direction)
    ) / (2 * h)
    np.testing.assert_allclose(system.jvp(sources, state, direction), expected, atol=1e-7)
    unit = np.zeros_like(state)
    unit[:, 2] = 1.0
    column = system.jvp(sources, state, unit)[:, 2]
    np.testing.assert_allclose(system.diagonal(sources, state)[:, 2], -column, atol=1e-12)


def test_the_field_descends_the_energy_and_relax_takes_the_system():
    system, sources, state, rng = case("scellier_bengio", "rho")
    assert isinstance(system, System) and system.has_energy and system.guide() is None
    direction = rng.standard_normal(state.shape)
    h = 1e-6
    slope = (
        system.energy(sources, state + h * direction)
        - system.energy(sources, state - h * direction)
    ) / (2 * h)
    np.testing.assert_allclose(
        slope, -np.sum(system.field(sources, state) * direction, 1), atol=1e-7
    )
    equilibrium = relax(system, sources, tolerance=1e-10)
    direct = relax(system.crossbar, sources, tolerance=1e-10)
    np.testing.assert_array_equal(equilibrium.state, direct.state)
    assert np.all(residual(system, sources, equilibrium.state) <= 1e-10)
    assert system.stable(sources, equilibrium.state).all()
    assert len(system.labels()) == system.free


def test_a_mismatched_system_has_no_energy_and_is_guided_by_its_reciprocal_part():
    system, sources, state, _ = case("scellier_bengio", "rho", mismatch=0.1)
    assert not system.has_energy
    guide = system.guide()
    assert guide is not None and guide.has_energy
    with pytest.raises(CircuitError, match="no energy"):
        system.energy(sources, state)


def test_as_system_refuses_what_is_not_a_circuit_system():
    with pytest.raises(TypeError, match="not a lowered circuit system"):
        as_system(np.zeros(3))
