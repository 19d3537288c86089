import numpy as np
import pytest

from neurosim.circuit.expr import derivative, evaluate
from neurosim.network.activations import ACTIVATIONS

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
