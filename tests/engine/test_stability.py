"""The stability certificate: sound (never passes a state whose Jacobian has an
eigenvalue with Re ≥ 0), exact on reciprocal circuits, and not vacuous, on reciprocal
and mismatched circuits (random states, strong couplings)."""

import numpy as np
import pytest

from neurosim.engine.sources import default_sources
from neurosim.engine.stability import certified
from neurosim.engine.workspace import Tables, Workspace
from neurosim.lower.crossbar import lower_crossbar
from neurosim.network.compile import compile_network
from tests.engine.test_robustness import jacobians
from tests.networks import random_params, small_network


def circuit(law, hidden, gain, spread, seed):
    meta = small_network(law, hidden, spring=2.0)
    params = random_params(meta, np.random.default_rng(seed), gain=gain)
    compiled = compile_network(meta, params)
    rng = np.random.default_rng(seed + 100)
    for name in [n for n in compiled.elements if n.startswith("rw") and "b_" in n]:
        compiled.set_value(name, compiled.elements[name].value * (1 + spread * rng.normal()))
    return lower_crossbar(compiled)


@pytest.mark.parametrize(("law", "hidden"), [("scellier_bengio", "rho"), ("hopfield", "tanh")])
@pytest.mark.parametrize("spread", [0.0, 0.1])
def test_certified_states_are_stable_and_some_states_are_not_certified(law, hidden, spread):
    verdicts = []
    for seed in range(6):
        crossbar = circuit(law, hidden, gain=1.5 + 0.5 * seed, spread=spread, seed=seed)
        sources = default_sources(crossbar, 30)
        state = np.random.default_rng(seed).uniform(-2, 2, (30, crossbar.free))
        work = Workspace(
            crossbar, Tables.build(crossbar, sources.nudge, np.float64), sources, slice(0, 30)
        )
        ok = certified(work, state)
        growth = np.linalg.eigvals(jacobians(crossbar, sources, state)).real.max(axis=1)
        assert np.all(growth[ok] < 0), growth[ok].max()
        if spread == 0.0:  # reciprocal: J is similar to a symmetric matrix, the test is exact
            clear = np.abs(growth) > 1e-9
            np.testing.assert_array_equal(ok[clear], growth[clear] < 0)
        verdicts.append(ok)
    verdicts = np.concatenate(verdicts)
    assert 0 < verdicts.sum() < verdicts.size  # it decides: neither always nor never
