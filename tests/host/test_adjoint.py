"""The adjoint of a settled crossbar (engine/adjoint.py): the engine's dense Jacobian
agrees with its Jacobian–vector product, and the adjoint gradient of a readout of the
equilibrium agrees with central differences of that readout over circuits compiled
afresh — reciprocal and non-reciprocal, where EP's estimate is exact only for the
first."""

import numpy as np
import pytest

from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.engine.crossbar_system import CrossbarSystem
from neurosim.host import Chip
from neurosim.lower.crossbar import lower_crossbar
from neurosim.network.compile import compile_network
from neurosim.network.model import init_params

TOL = 1e-13
ALPHA = 1.0


def network(reciprocal: bool, law: str = "scellier_bengio") -> NetworkMeta:
    layers = (
        Layer("x", 2, "visible", "linear"),
        Layer("h", 4, "hidden", "tanh"),
        Layer("g", 3, "hidden", "tanh"),
    )
    return NetworkMeta(
        "crossbar",
        law,
        layers,
        (("x", "h"), ("h", "g")),
        Scaling(),
        spring_lambda=15.0,
        reciprocal=reciprocal,
    )


def params_of(meta: NetworkMeta) -> dict:
    params = init_params(meta, np.random.default_rng(7), gain=0.8)
    rng = np.random.default_rng(8)
    return params | {k: rng.normal(0, 0.1, v.shape) for k, v in params.items() if k[0] == "b"}


def readout(meta, params, points, weights) -> float:
    """mean_i c_i·f(x_i), f = αλ(x* − x) the spring-current readout."""
    chip = Chip(compile_network(meta, params))
    sources = chip.sources(len(points))
    sources.targets[:, chip.free_slices()["x"]] = points
    settled = chip.settle(sources, tolerance=TOL, throw=True)
    f = chip.velocity(sources, settled.state, ALPHA, "x")
    return float(np.mean(np.sum(weights * f, axis=1)))


def test_the_dense_jacobian_is_the_jvp():
    chip = Chip(compile_network(network(False), params_of(network(False))))
    sources = chip.sources(3)
    sources.targets[:, :2] = np.random.default_rng(0).uniform(-1, 1, (3, 2))
    state = chip.settle(sources, tolerance=TOL, throw=True).state
    system = CrossbarSystem(lower_crossbar(chip.circuit()))
    v = np.random.default_rng(1).normal(size=state.shape)
    np.testing.assert_allclose(
        np.einsum("bij,bj->bi", system.jacobian(sources, state), v),
        system.jvp(sources, state, v),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("reciprocal", [True, False])
def test_the_adjoint_gradient_is_the_exact_gradient(reciprocal):
    meta = network(reciprocal)
    params = params_of(meta)
    rng = np.random.default_rng(2)
    points, weights = rng.uniform(-0.8, 0.8, (4, 2)), rng.normal(size=(4, 2))
    chip = Chip(compile_network(meta, params))
    sources = chip.sources(4)
    where = chip.free_slices()["x"]
    sources.targets[:, where] = points
    state = chip.settle(sources, tolerance=TOL, throw=True).state
    cotangent = np.zeros_like(state)
    cotangent[:, where] = -ALPHA * chip.spring("x") * weights  # −∂(c·f)/∂x*
    grads = chip.adjoint_gradients(sources, state, chip.adjoint(sources, state, cotangent))
    assert set(grads) == set(params)
    step = 1e-5
    for name, value in params.items():
        exact = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            moved = [value.copy(), value.copy()]
            moved[0][index] += step
            moved[1][index] -= step
            up, down = (readout(meta, params | {name: m}, points, weights) for m in moved)
            exact[index] = (up - down) / (2 * step)
        got = grads[name]
        cosine = np.sum(got * exact) / (np.linalg.norm(got) * np.linalg.norm(exact))
        assert cosine > 0.9999, (name, cosine)
        np.testing.assert_allclose(got, exact, rtol=1e-4, atol=1e-7 * np.abs(exact).max())


def test_the_adjoint_gradient_of_a_noise_conditional_field_is_exact():
    """A noise input layer feeding h (noise-annealed Flux Matching): the readout at
    per-point noise levels, scaled by σ_min/σ, and its gradient through the input's
    coupling too."""
    from neurosim.host import noise_scale

    meta = network(False)
    layers = (Layer("noise", 1, "input", "linear"), *meta.layers)
    meta = NetworkMeta(
        "crossbar",
        meta.law,
        layers,
        (("noise", "h"), *meta.couplings),
        Scaling(),
        spring_lambda=15.0,
        reciprocal=False,
    )
    params = params_of(meta)
    rng = np.random.default_rng(3)
    points, weights = rng.uniform(-0.8, 0.8, (4, 2)), rng.normal(size=(4, 2))
    sigma = np.array([0.05, 0.2, 0.7, 1.5])

    def conditional(params) -> tuple:
        chip = Chip(compile_network(meta, params))
        sources = chip.spring_sources("x", points, sigma)
        state = chip.settle(sources, tolerance=TOL, throw=True).state
        return chip, sources, state

    scale = noise_scale(ALPHA, 0.05, sigma)[:, None]

    def value(params) -> float:
        chip, sources, state = conditional(params)
        return float(np.mean(np.sum(weights * chip.velocity(sources, state, scale, "x"), axis=1)))

    chip, sources, state = conditional(params)
    assert not np.allclose(sources.inputs[:, 0], sources.inputs[0, 0])  # one level per row
    cotangent = np.zeros_like(state)
    cotangent[:, chip.free_slices()["x"]] = -scale * chip.spring("x") * weights
    grads = chip.adjoint_gradients(sources, state, chip.adjoint(sources, state, cotangent))
    step = 1e-5
    for name in ("w0", "w1_back", "b_h"):
        exact = np.zeros_like(params[name])
        for index in np.ndindex(exact.shape):
            moved = [params[name].copy(), params[name].copy()]
            moved[0][index] += step
            moved[1][index] -= step
            up, down = (value(params | {name: m}) for m in moved)
            exact[index] = (up - down) / (2 * step)
        np.testing.assert_allclose(grads[name], exact, rtol=1e-4, atol=1e-7 * np.abs(exact).max())
