"""Equilibrium Matching's target against the paper's formulas (EqM eqs. 3–6), its
batches, and EqM training through GradEP on the circuit."""

import numpy as np
import pytest

import neurosim
from neurosim.learn.eqm import EqMBatches, EqMTarget, decay
from neurosim.learn.settings import EqMSettings
from tests.learn.test_hardware_aware import ROOT

FLOW = ROOT / "netlists/digits_flow.cir"


def test_the_decays_are_the_papers():
    gamma = np.linspace(0, 1, 101)
    np.testing.assert_allclose(decay(gamma, "linear", 0.8, 1.0, 1.0), 1 - gamma, rtol=1e-15)
    trunc = decay(gamma, "truncated", 0.8, 1.0, 4.0)
    np.testing.assert_allclose(trunc[gamma <= 0.8], 4.0)
    np.testing.assert_allclose(trunc[gamma > 0.8], 4 * (1 - gamma[gamma > 0.8]) / 0.2)
    piece = decay(gamma, "piecewise", 0.5, 3.0, 1.0)
    np.testing.assert_allclose(piece[gamma <= 0.5], 3 - 2 * gamma[gamma <= 0.5] / 0.5)
    np.testing.assert_allclose(piece[gamma > 0.5], (1 - gamma[gamma > 0.5]) / 0.5)
    for kind in ("linear", "truncated", "piecewise"):
        assert decay(np.array(1.0), kind, 0.8, 2.0, 4.0) == 0.0  # c(1) = 0: data is a minimum
    with pytest.raises(ValueError, match="unknown decay"):
        decay(gamma, "cosine", 0.8, 1.0, 1.0)


def test_a_batch_is_the_corruption_and_the_negated_target_gradient():
    data = np.random.default_rng(0).uniform(-1, 1, (50, 4))
    batches = EqMBatches(data, seed=3, target=EqMTarget("truncated", 0.8, 1.0, 4.0))
    batch = batches.get(7)
    g, eps = batch.gamma, batch.noise
    np.testing.assert_allclose(batch.x_t, g * data + (1 - g) * eps, rtol=1e-15)
    target_gradient = (eps - data) * decay(g, "truncated", 0.8, 1.0, 4.0)  # EqM eq. 3
    np.testing.assert_allclose(batch.u, -target_gradient, rtol=1e-15)
    again = EqMBatches(data, seed=3, target=EqMTarget()).get(7)
    np.testing.assert_array_equal(again.x_t, batch.x_t)  # a pure function of (seed, epoch)
    assert not np.array_equal(batches.get(8).noise, eps)


def test_eqm_trains_through_gradep_and_resumes_exactly(tmp_path):
    settings = EqMSettings(epochs=4, eval_every=0, limit=64, lr=3e-3)
    run = neurosim.train(FLOW, "eqm", settings=settings, out=tmp_path / "a")
    mse = run.history["mse"]
    assert mse[-1] < mse[0]  # the readout moves toward the target gradient
    half = EqMSettings(epochs=2, eval_every=0, limit=64, lr=3e-3)
    neurosim.train(FLOW, "eqm", settings=half, out=tmp_path / "b")
    resumed = neurosim.train(FLOW, "eqm", settings=settings, out=tmp_path / "b", resume=True)
    assert resumed.history["mse"] == mse
    with pytest.raises(neurosim.NeurosimError, match="EqMSettings are settings of the 'eqm'"):
        neurosim.train(FLOW, "flow", settings=settings)


def test_ot_pairing_takes_flow_matchings_pairs():
    """pairing "ot": the noise is flow matching's OT-paired draw and γ its t."""
    from neurosim.learn.flow import FlowBatches

    data = np.random.default_rng(1).uniform(-1, 1, (40, 3))
    eqm = EqMBatches(data, 5, EqMTarget("linear", 0.8, 1.0, 1.0), pairing="ot").get(2)
    flow = FlowBatches(data, 5).get(2)
    np.testing.assert_array_equal(eqm.noise, flow.x0)
    np.testing.assert_array_equal(eqm.x_t, flow.x_t)
    np.testing.assert_allclose(eqm.u, flow.u * (1 - flow.t), rtol=1e-15)  # linear decay
