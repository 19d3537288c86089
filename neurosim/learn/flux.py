"""Flux Matching (Pao-Huang, Qiu & Ermon 2026): the host-side part of its estimator.

A field f has the data law p as a stationary law of dx = f dt + √2 dW exactly when the
probability current p·(f − ∇log p) is divergence-free, i.e. when the Langevin–Stein
operator of u = f − ∇log p vanishes:

    r(z) = ∇·u(z) + u(z)·∇log p(z)  (= ∇·(p u)/p).

Score matching asks for u = 0; Flux Matching only for r = 0, which every rotational
part u = A∇log p (A a constant antisymmetric matrix) also satisfies. Here p is the data
smoothed at noise σ², known through a batch of data points x_m (the kernel form):

    s(z) = ∇log p(z) = (Σ_m w_m(z) x_m − z)/σ²,   w = softmax_m(−|z − x_m|²/(2σ²)),
    ∇·s(z) = (tr Cov_w(x)/σ² − d)/σ²,

so r(z) = ∇·f − ∇·s + f·s − |s|² needs of the circuit only f and ∇·f. ∇·f is
Hutchinson's trace of finite-difference Jacobian–vector products, f(z ± hε)
(exact per axis when d ≤ ``AXES_UP_TO``, else Rademacher probes), and ∇r central
differences of r along directions (the same rule) with the same probes in every
evaluation. Each evaluation of f is a measurement: the spring targets set to the point,
the circuit settled, the spring currents read.

The training signal is the reference implementation's (``src/loss.py``, read and
rewritten): from x₀ = x + σε the smoothed data's own Langevin diffusion runs a time
t ~ U(0, T) in exact Ornstein–Uhlenbeck steps, ∇r is measured at its end points x_t and
carried back to each x₀ by the reverse kernel's softmax weights W (normalised over the
starting points), ĝ = (e^{−t}/q(t))·W·∇r(x_t), q = 1/T; the loss is the surrogate
L = −2·mean_i (f(x₀ᵢ) − s(x₀ᵢ))·ĝᵢ with ĝ held fixed, whose parameter gradient is
−2·mean_i ĝᵢ·∂f(x₀ᵢ)/∂θ — what the chip's adjoint gives (:meth:`neurosim.host.Chip.
adjoint_gradients`). Its value is not a distance; :func:`stein_residual` is the number
to watch (mean r² over data: 0 when the data is stationary under f — the mean of r
itself is 0 for every f by Stein's identity).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

AXES_UP_TO = 8  # dimensions up to which derivatives are taken along every axis
HORIZON, SIMULATION_STEPS = 4.0, 4  # diffusion time range T and its steps (the reference's)

Field = Callable[[np.ndarray], np.ndarray]  # points (n, d) -> f (n, d), model units


def kernel_score(z: np.ndarray, data: np.ndarray, sigma2: float) -> tuple[np.ndarray, np.ndarray]:
    """The score s (n, d) of ``data`` (m, d) smoothed at noise ``sigma2`` at ``z`` (n, d),
    and its divergence (n,) (module docstring)."""
    z = np.asarray(z, dtype=np.float64)
    logits = -_sqdist(z, data) / (2.0 * sigma2)
    logits -= logits.max(axis=1, keepdims=True)
    w = np.exp(logits)
    w /= w.sum(axis=1, keepdims=True)
    mean = w @ data
    spread = w @ np.sum(data**2, axis=1) - np.sum(mean**2, axis=1)  # tr Cov_w
    return (mean - z) / sigma2, (spread / sigma2 - z.shape[1]) / sigma2


@dataclass(frozen=True)
class Directions:
    """Probe ``vectors`` (k, d) and the ``weight`` of each in a trace or gradient
    estimate Σ_k weight·(ε_kᵀ J ε_k): every axis with weight 1 (exact), or Rademacher
    vectors with weight 1/k (unbiased: E[εεᵀ] = I)."""

    vectors: np.ndarray
    weight: float


def directions(dim: int, count: int, rng: np.random.Generator) -> Directions:
    """Every axis when ``dim`` ≤ AXES_UP_TO, else ``count`` Rademacher vectors."""
    if dim <= AXES_UP_TO:
        return Directions(np.eye(dim), 1.0)
    return Directions(rng.choice([-1.0, 1.0], size=(count, dim)), 1.0 / count)


@dataclass(frozen=True)
class Probes:
    """How derivatives of the field are measured: ``trace`` directions of the
    divergence, ``gradient`` directions of ∇r, finite-difference steps ``h`` (of f's
    JVPs) and ``c`` (of r), model units; with axes the estimates are exact up to O(h²)
    and O(c²)."""

    trace: Directions
    gradient: Directions
    h: float = 1e-3
    c: float = 1e-3


def stein_operator(
    field: Field, z: np.ndarray, score: Callable, probes: Probes
) -> tuple[np.ndarray, np.ndarray]:
    """r(z) (n,) and f(z) (n, d) at the points ``z`` (n, d); ``score`` maps points to
    (s, ∇·s) (:func:`kernel_score` with its data bound). One batched call of ``field``
    at n·(1 + 2k) points."""
    n, d = z.shape
    eps, h = probes.trace.vectors, probes.h
    shifted = z[:, None, :] + h * np.concatenate([eps, -eps])[None, :, :]
    values = field(np.concatenate([z, shifted.reshape(-1, d)]))
    f, around = values[:n], values[n:].reshape(n, 2, eps.shape[0], d)
    jvp = (around[:, 0] - around[:, 1]) / (2.0 * h)  # (n, k, d): J_f ε
    div_f = probes.trace.weight * np.einsum("nkd,kd->n", jvp, eps)
    s, div_s = score(z)
    return div_f - div_s + np.sum(f * s, axis=1) - np.sum(s * s, axis=1), f


def stein_gradient(field: Field, z: np.ndarray, score: Callable, probes: Probes) -> np.ndarray:
    """∇r (n, d) at ``z`` (n, d): central differences of :func:`stein_operator` along
    ``probes.gradient`` (one batched call of ``field``)."""
    n, d = z.shape
    delta, c = probes.gradient.vectors, probes.c
    moved = z[:, None, :] + c * np.concatenate([delta, -delta])[None, :, :]
    r, _ = stein_operator(field, moved.reshape(-1, d), score, probes)
    r = r.reshape(n, 2, delta.shape[0])
    slopes = (r[:, 0] - r[:, 1]) / (2.0 * c)  # (n, m): ∇r·δ
    return probes.gradient.weight * (slopes @ delta)


def diffuse(
    x0: np.ndarray, score: Callable, sigma2: float, t: float, rng: np.random.Generator
) -> np.ndarray:
    """The smoothed data's Langevin diffusion from ``x0`` (n, d) for time ``t``, in
    SIMULATION_STEPS exact Ornstein–Uhlenbeck steps about the kernel score."""
    z = np.array(x0, dtype=np.float64)
    rho = np.exp(-t / SIMULATION_STEPS)
    spread = np.sqrt(sigma2 * max(1.0 - rho**2, 0.0))
    for _ in range(SIMULATION_STEPS):
        z = z + (1.0 - rho) * sigma2 * score(z)[0] + spread * rng.standard_normal(z.shape)
    return z


def carried_back(
    x0: np.ndarray, xt: np.ndarray, grad_r: np.ndarray, score: Callable, sigma2: float, t: float
) -> np.ndarray:
    """ĝ (n, d): ∇r at the diffused points ``xt`` carried back to each start ``x0`` by
    the reverse kernel's weights (module docstring), importance-weighted by e^{−t}/q(t);
    end points whose ∇r is NaN (not measured) are left out."""
    rho = np.exp(-t)
    mean = x0 + (1.0 - rho) * sigma2 * score(x0)[0]
    logits = -0.5 * _sqdist(mean, xt) / (sigma2 * (1.0 - rho**2))
    logits -= logits.max(axis=0, keepdims=True)
    w = np.exp(logits)
    w /= w.sum(axis=0, keepdims=True)  # over the starting points, as the reference
    measured = np.all(np.isfinite(grad_r), axis=1)  # an end point not measured: left out
    return (rho * HORIZON) * (w[:, measured] @ grad_r[measured])


@dataclass(frozen=True)
class FluxTargets:
    """One batch's signal: ``x0`` (n, d) the noised data, ``g`` (n, d) ĝ, ``f`` (n, d)
    the field at x0, ``s`` (n, d) the kernel score there, ``r`` (n,) the Stein operator
    at x0 and ``t`` the diffusion time."""

    x0: np.ndarray
    g: np.ndarray
    f: np.ndarray
    s: np.ndarray
    r: np.ndarray
    t: float

    @property
    def surrogate(self) -> float:
        """The loss −2·mean (f − s)·ĝ (its value; its gradient is the training's)."""
        return float(-2.0 * np.mean(np.sum((self.f - self.s) * self.g, axis=1)))


def flux_targets(
    field: Field,
    data: np.ndarray,
    sigma2: float,
    rng: np.random.Generator,
    probes: Probes,
    reference: np.ndarray | None = None,
) -> FluxTargets:
    """Everything a Flux Matching step needs from one batch ``data`` (n, d) (module
    docstring): draws x₀, t and the diffusion from ``rng``, measures the field. The
    smoothed law's kernel sits on ``reference`` (m, d) (None: on the batch, as the
    reference implementation; the whole data set gives a better estimate of it)."""
    x0, score = _noised(data, sigma2, rng, reference)
    t = float(rng.uniform(0.0, HORIZON))
    xt = diffuse(x0, score, sigma2, t, rng)
    g = carried_back(x0, xt, stein_gradient(field, xt, score, probes), score, sigma2, t)
    r, f = stein_operator(field, x0, score, probes)
    return FluxTargets(x0, g, f, score(x0)[0], r, t)


def score_targets(
    field: Field,
    data: np.ndarray,
    sigma2: float,
    rng: np.random.Generator,
    probes: Probes,
    reference: np.ndarray | None = None,
) -> FluxTargets:
    """The conservative member of Flux Matching's family, as :func:`flux_targets` gives
    a step's signal: regression of f on the kernel score, |f − s|² at x₀ = x + σε, whose
    gradient is the surrogate's −2·mean ĝ·∂f/∂θ with ĝ = s − f (held fixed). One
    diffusion-free measurement per point (and the Stein operator, for the record):
    far lower variance than the flux estimator, and no rotation learned on purpose."""
    x0, score = _noised(data, sigma2, rng, reference)
    r, f = stein_operator(field, x0, score, probes)
    s = score(x0)[0]
    return FluxTargets(x0, s - f, f, s, r, 0.0)


def _noised(data, sigma2: float, rng: np.random.Generator, reference) -> tuple:
    """x₀ = x + σε (n, d) of a batch ``data`` and the kernel score of the smoothed law
    on ``reference`` (None: on the batch)."""
    x = np.asarray(data, dtype=np.float64)
    centres = x if reference is None else np.asarray(reference, dtype=np.float64)

    def score(z):
        return kernel_score(z, centres, sigma2)

    return x + np.sqrt(sigma2) * rng.standard_normal(x.shape), score


def _sqdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a_i − b_j|² (len(a), len(b))."""
    return np.maximum(
        np.sum(a * a, axis=1)[:, None] + np.sum(b * b, axis=1)[None, :] - 2.0 * a @ b.T, 0.0
    )


def field_jacobian(field: Field, z: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """∂f/∂z (n, d, d) at ``z`` (n, d) by central differences along every axis (one
    batched call of ``field`` at 2·n·d points); entry [i, a, b] = ∂f_a/∂z_b."""
    n, d = z.shape
    moved = z[:, None, :] + h * np.concatenate([np.eye(d), -np.eye(d)])[None, :, :]
    f = field(moved.reshape(-1, d)).reshape(n, 2, d, d)
    return np.swapaxes((f[:, 0] - f[:, 1]) / (2.0 * h), 1, 2)


def curl(jacobian: np.ndarray) -> np.ndarray:
    """The rotation of a field at each point (n,): ‖(J − Jᵀ)/2‖_F·√2 from Jacobians
    (n, d, d) — in 2-D |∂f₂/∂z₁ − ∂f₁/∂z₂|, 0 for a gradient field."""
    antisymmetric = 0.5 * (jacobian - np.swapaxes(jacobian, 1, 2))
    return np.sqrt(2.0) * np.linalg.norm(antisymmetric, axis=(1, 2))
