import numpy as np
import pytest

from neurosim.circuit.activations import ACTIVATIONS
from neurosim.circuit.expr import derivative, evaluate

U = np.linspace(-6.0, 6.0, 41)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_numpy_and_spice_forms_agree(name):
    act = ACTIVATIONS[name]
    leaf = ("v", "u")
    for u in U:
        at = {leaf: float(u)}
        assert evaluate(act.spice_of(leaf), at) == pytest.approx(act.rho(np.array(u)), abs=1e-14)
        slope = evaluate(act.spice_derivative_of(leaf), at)
        assert slope == pytest.approx(act.drho(np.array(u)), abs=1e-14)
        symbolic = evaluate(derivative(act.spice_of(leaf), leaf), at)
        assert slope == pytest.approx(symbolic, abs=1e-13)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_finite_differences(name):
    act, h = ACTIVATIONS[name], 1e-6
    numeric = (act.rho(U + h) - act.rho(U - h)) / (2 * h)
    np.testing.assert_allclose(act.drho(U), numeric, rtol=1e-7, atol=1e-8)


def test_reference_rho_is_not_monotone_and_tanh_is():
    assert ACTIVATIONS["rho"].drho(np.array(-1.5)) < 0 and not ACTIVATIONS["rho"].monotone
    assert np.all(ACTIVATIONS["tanh"].drho(U) > 0) and ACTIVATIONS["tanh"].monotone


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_spice_slopes_stay_finite_where_ngspice_newton_goes(name):
    """ngspice's Newton from 0 V visits unit values of several hundred on trained
    networks; the old (1 + e^−x)^2 form overflowed there ("out of range for ^") and the
    trained digits netlist had no operating point. No ^ on exp terms, finite slopes."""
    act = ACTIVATIONS[name]
    leaf = ("v", "u")
    for u in (-700.0, -456.0, -50.0, 50.0, 456.0, 700.0):
        slope = evaluate(act.spice_derivative_of(leaf), {leaf: u})
        assert np.isfinite(slope)
        assert slope == pytest.approx(act.drho(np.array(u)), abs=1e-12)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_curvature_matches_finite_differences(name):
    act, h = ACTIVATIONS[name], 1e-6
    numeric = (act.drho(U + h) - act.drho(U - h)) / (2 * h)
    np.testing.assert_allclose(act.d2rho(U), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("hidden", ["rho", "tanh"])
def test_the_kernels_evaluate_these_laws(hidden):
    """The engine's Numba kernels (a vectorisable exp) give the NumPy forms' ρ and ρ′."""
    from neurosim.engine.sources import default_sources
    from neurosim.engine.workspace import Tables, Workspace
    from neurosim.lower.crossbar import ACTIVATION_CODES
    from tests.networks import random_params, small_network
    from tests.oracle import ideal_crossbar

    meta = small_network("scellier_bengio", hidden, spring=1.0)
    crossbar = ideal_crossbar(meta, random_params(meta, np.random.default_rng(0), 0.9))
    sources = default_sources(crossbar, 50)
    work = Workspace(
        crossbar, Tables.build(crossbar, sources.nudge, np.float64), sources, slice(0, 50)
    )
    s = np.random.default_rng(1).uniform(-8, 8, (50, crossbar.free))
    work.activate(s)
    rho = np.concatenate(
        [work.act_e[:, : crossbar.even.free], work.act_o[:, : crossbar.odd.free]], axis=1
    )
    for name, code in ACTIVATION_CODES.items():
        units = crossbar.act_code == code
        if units.any():
            act = ACTIVATIONS[name]
            np.testing.assert_allclose(rho[:, units], act.rho(s[:, units]), rtol=1e-13, atol=1e-14)
            slope = work.slope_of[:, units]
            np.testing.assert_allclose(slope, act.drho(s[:, units]), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_hopfield_term_is_the_integral_of_the_inverse(name):
    """Λ′(a) = ρ⁻¹(a): at a = ρ(u) the derivative of Λ is u (monotone activations; the
    reference ρ, which dips, has no Λ)."""
    act = ACTIVATIONS[name]
    if not act.monotone:
        assert act.lam is None
        return
    u = np.linspace(-2.5, 2.5, 21)
    a, h = act.rho(u), 1e-7
    np.testing.assert_allclose((act.lam(a + h) - act.lam(a - h)) / (2 * h), u, atol=1e-6)
    assert act.lam(np.array(0.0)) == 0.0
