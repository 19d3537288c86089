"""EP and GradEP estimates against the exact gradient of the loss at the free equilibrium.

The exact gradient comes from central finite differences of the loss over every
parameter, each loss from a free phase settled to 1e-13 (the equilibrium is
differentiable, so this is the implicit-differentiation gradient to ~1e-7).
"""

import numpy as np
import pytest

from neurosim.circuit.drive import Drive
from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.engine.relax import relax
from neurosim.engine.sources import default_sources
from neurosim.learn.estimators import ep_estimate, gradep_estimate
from neurosim.network.model import energy, init_params
from tests.networks import chip_of, flow_net
from tests.oracle import ideal_crossbar

TOL = 1e-13
ALPHA = 2.0


def random_params(meta, seed):
    rng = np.random.default_rng(seed)
    params = init_params(meta, rng, gain=0.8)
    for name in params:
        if name.startswith("b_"):
            params[name] = rng.normal(0, 0.3, params[name].shape)
    return params


def classifier(law: str) -> NetworkMeta:
    hidden = "rho" if law == "scellier_bengio" else "tanh"
    layers = (
        Layer("in", 3, "input", "linear"),
        Layer("h", 5, "hidden", hidden),
        Layer("out", 2, "output", "tanh"),
    )
    return NetworkMeta("crossbar", law, layers, (("in", "h"), ("h", "out")), Scaling())


def exact_gradient(meta, params, loss, h=1e-6):
    """Central differences of ``loss(params)`` over every parameter entry."""
    grads = {}
    for name, value in params.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[name][index] = value[index] + h
            up = loss(shifted)
            shifted[name][index] = value[index] - h
            grad[index] = (up - loss(shifted)) / (2 * h)
        grads[name] = grad
    return grads


def flat(grads):
    return np.concatenate([grads[k].ravel() for k in sorted(grads)])


def compare(estimate, exact):
    a, b = flat(estimate), flat(exact)
    cosine = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    return cosine, np.linalg.norm(a - b) / np.linalg.norm(b)


def test_local_energy_gradients_are_the_model_energy_gradient():
    meta = classifier("scellier_bengio")
    params = random_params(meta, 0)
    chip = chip_of(meta, params)
    rng = np.random.default_rng(1)
    sources = chip.sources(4)
    sources.inputs[:] = rng.uniform(-1, 1, (4, 3))
    state = rng.normal(0, 0.7, (4, chip.free))
    drive = Drive(inputs={"in": sources.inputs})
    layers = {n: state[:, w] for n, w in chip.free_slices().items()}

    def mean_energy(p):
        return float(np.mean(energy(meta, p, layers, drive)))

    expected = exact_gradient(meta, params, mean_energy)
    got = chip.local_gradients(sources, state)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], atol=1e-8)


def classify_case(law, seed=3, batch=8):
    meta = classifier(law)
    params = random_params(meta, seed)
    rng = np.random.default_rng(seed + 1)
    inputs = rng.uniform(-1, 1, (batch, 3))
    targets = rng.uniform(-0.8, 0.8, (batch, 2))

    def settle(p):
        crossbar = ideal_crossbar(meta, p)
        sources = default_sources(crossbar, batch)
        sources.inputs[:] = inputs
        return crossbar, sources, relax(crossbar, sources, tolerance=TOL).raise_if_failed()

    return meta, params, targets, settle


def output_cost(crossbar, law, state, targets):
    """The nudge element's energy per unit conductance (the cost EP differentiates)."""
    s = state[:, crossbar.free_slices()["out"]]
    if law == "scellier_bengio":
        return 0.5 * np.sum((s - targets) ** 2, axis=1)
    a = np.tanh(s)
    lam = s * a - np.log(np.cosh(s))
    return np.sum(lam - targets * a + 0.5 * targets**2, axis=1)


@pytest.mark.parametrize("law", ["scellier_bengio", "hopfield"])
def test_ep_estimate_matches_the_exact_gradient(law):
    meta, params, targets, settle = classify_case(law)

    def loss(p):
        crossbar, _, eq = settle(p)
        return float(np.mean(output_cost(crossbar, law, eq.state, targets)))

    exact = exact_gradient(meta, params, loss)
    _, sources, free = settle(params)
    chip = chip_of(meta, params)
    errors = []
    for beta in (1e-2, 5e-3):
        est = ep_estimate(chip, sources, free.state, "out", targets, beta, tolerance=TOL)
        cosine, relative = compare(est.gradients, exact)
        assert cosine >= 0.999 and relative <= 1e-2, (beta, cosine, relative)
        errors.append(relative)
    assert 3.0 <= errors[0] / errors[1] <= 5.0  # symmetric nudging: error ~ beta^2


def test_gradep_estimate_matches_the_exact_velocity_loss_gradient():
    meta = flow_net()
    params = random_params(meta, 5)
    rng = np.random.default_rng(6)
    batch = 8
    x_t = rng.uniform(-1, 1, (batch, 4))
    u = rng.normal(0, 1, (batch, 4))

    def settle(p):
        crossbar = ideal_crossbar(meta, p)
        sources = default_sources(crossbar, batch)
        sources.targets[:, crossbar.free_slices()["x"]] = x_t
        return crossbar, sources, relax(crossbar, sources, tolerance=TOL).raise_if_failed()

    def loss(p):
        crossbar, _, eq = settle(p)
        where = crossbar.free_slices()["x"]
        v = ALPHA * crossbar.spring[where] * (eq.state[:, where] - x_t)  # v = αλ(x* − x_t)
        return float(np.mean(0.5 * np.sum((v - u) ** 2, axis=1)))

    exact = exact_gradient(meta, params, loss)
    _, sources, free = settle(params)
    chip = chip_of(meta, params)
    errors = []
    for beta in (1e-3, 5e-4):  # the nudge conductance is beta·(alpha·lambda)^2 = 900 beta
        est = gradep_estimate(chip, sources, free.state, u, ALPHA, beta, tolerance=TOL)
        cosine, relative = compare(est.gradients, exact)
        assert cosine >= 0.999 and relative <= 1e-2, (beta, cosine, relative)
        errors.append(relative)
    assert 3.0 <= errors[0] / errors[1] <= 5.0


def test_a_sample_whose_nudged_phase_does_not_settle_is_left_out():
    meta = flow_net()
    params = random_params(meta, 5)
    rng = np.random.default_rng(6)
    chip = chip_of(meta, params)
    sources = chip.sources(4)
    sources.targets[:, chip.free_slices()["x"]] = rng.uniform(-1, 1, (4, 4))
    free = chip.settle(sources, tolerance=TOL).raise_if_failed()
    u = rng.normal(0, 1, (4, 4))
    start = free.state.copy()
    start[3] += 3.0  # far from its equilibrium: it cannot settle in the pass budget
    options = dict(tolerance=1e-10, max_passes=12)
    est = gradep_estimate(chip, sources, start, u, ALPHA, 1e-3, **options)
    np.testing.assert_array_equal(est.settled, [True, True, True, False])
    three = chip.sources(3)
    three.targets[:] = sources.targets[:3]
    alone = gradep_estimate(chip, three, start[:3], u[:3], ALPHA, 1e-3, **options)
    for name, value in alone.gradients.items():
        np.testing.assert_allclose(est.gradients[name], value, rtol=1e-12, atol=1e-14)
