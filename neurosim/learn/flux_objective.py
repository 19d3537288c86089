"""Flux Matching on the chip (:mod:`neurosim.learn.flux`): one step per epoch.

The field is the circuit's: f(x) = αλ(x* − x), the spring currents read with the
visible springs' targets set to x and the circuit settled from x (hidden units at 0),
as flow matching reads it. A step, as a host beside the hardware does it:

1. measure (each a batched settle-and-read): f at the noised data x₀ and at finite-
   difference offsets around x₀ and around the end points of the smoothed data's
   diffusion (the JVPs and gradients of :mod:`neurosim.learn.flux`);
2. compute on the host: the kernel score, the Stein operator, its gradient carried back
   to x₀ (ĝ), the loss;
3. the parameter gradient of the surrogate −2·mean f(x₀)·ĝ: the cotangent 2αλĝ on the
   visible units of each free equilibrium at x₀, its adjoint μ (the transposed
   small-signal system, :mod:`neurosim.engine.adjoint`) and each device's μ_i·g_i·r_j
   (:meth:`neurosim.host.Chip.adjoint_gradients`);
4. clip, step the optimiser, program the devices.

A sample whose equilibrium (any of its measurements) did not settle is left out of the
step and counted (the history's ``unsettled``); more than ``MAX_UNSETTLED_FLUX`` of the
batch stops training. It is five times the other objectives' share: a non-reciprocal
circuit need not have a stable equilibrium at every point (its field can cycle there),
and where it has none the host cannot measure f.

**Noise-annealed** (``sigma_max`` > ``sigma``; the reference's annealed variant): the
circuit has a one-unit ``noise`` input layer (:data:`neurosim.host.view.NOISE_LAYER`)
and learns a field at every noise level σ between σ_min = ``sigma`` and ``sigma_max``.
Each step splits its batch into ``NOISE_GROUPS`` groups, each with its own σ drawn
log-uniformly, and runs the estimator above on each at its σ. The field at σ is

    f(x, σ) = αλ(x* − x)·σ_min/σ,   the noise input clamped at ¼ ln σ,

(σ_min/σ: the smoothed score's own scale, so the circuit's displacement is of one order
at every σ, and at σ_min the readout is the single-σ one). Since s ∝ 1/σ and ∇r ∝ 1/σ³,
a group's surrogate scales as 1/σ⁴: it is weighted by (σ/σ_min)⁴ (the reference learns
this weighting, :class:`LossNormalizer`; here it is the analytic one), which makes
every level's gradient of one order and leaves σ_min's as the single-σ step's.

``loss = "score"`` trains the conservative member of the family instead, by regression
on the kernel score (:func:`neurosim.learn.flux.score_targets`; annealed levels weighted
(σ/σ_min)², the classic σ² of denoising score matching): one measurement per point
rather than the flux estimator's diffusion and second derivatives, whose per-batch
gradient is far noisier (README, Flux Matching).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.host import MAX_UNSETTLED, Chip, check_unsettled, noise_scale
from neurosim.learn.flux import (
    Probes,
    curl,
    directions,
    field_jacobian,
    flux_targets,
    kernel_score,
    score_targets,
    stein_operator,
)
from neurosim.learn.loop import epoch_rng
from neurosim.learn.optim import clip_by_global_norm

NOISE_GROUPS = 4  # noise levels per step of noise-annealed training
MAX_UNSETTLED_FLUX = 5 * MAX_UNSETTLED  # share of a batch a step may leave out
WEIGHT_POWER = {"flux": 4, "score": 2}  # annealed: a level's weight is (σ/σ_min)^power
LEVELS = 6  # noise levels a noise-conditional field is checked at


@dataclass(frozen=True)
class FluxStep:
    """One step's settings: ``alpha`` (output scale of f), ``sigma`` (the data's
    smoothing, model units), ``batch_size``, ``probes`` (Rademacher directions when the
    data has more than :data:`neurosim.learn.flux.AXES_UP_TO` dimensions), the
    finite-difference ``step`` of the JVPs and gradients, ``clip`` (None: off), the
    relaxation ``tolerance`` and ``max_passes``, the visible ``layer``; ``sigma_max`` >
    ``sigma``: noise-annealed over [``sigma``, ``sigma_max``] (module docstring; 0: off);
    ``loss``: "flux", or "score" (:func:`neurosim.learn.flux.score_targets`)."""

    alpha: float = 8.0
    sigma: float = 0.05
    sigma_max: float = 0.0
    loss: str = "flux"
    batch_size: int = 256
    probes: int = 4
    step: float = 2e-3
    clip: float | None = 1.0
    tolerance: float = 1e-9
    max_passes: int = 20000
    layer: str = "x"

    def draw_probes(self, dim: int, rng: np.random.Generator) -> Probes:
        """The directions of a step's derivatives in ``dim`` dimensions (trace, then
        gradient, drawn from ``rng``), at the finite-difference ``step``."""
        trace, gradient = directions(dim, self.probes, rng), directions(dim, self.probes, rng)
        return Probes(trace, gradient, self.step, self.step)

    @classmethod
    def of(cls, settings, layer: str) -> FluxStep:
        """The step of training settings ``settings`` (:class:`neurosim.learn.settings.
        FluxSettings`) on the visible layer ``layer``."""
        return cls(
            alpha=settings.alpha,
            sigma=settings.sigma,
            sigma_max=settings.sigma_max,
            loss=settings.loss,
            batch_size=settings.batch_size,
            probes=settings.probes,
            step=settings.fd_step,
            clip=settings.clip or None,
            tolerance=settings.tol,
            max_passes=settings.max_passes,
            layer=layer,
        )

    @property
    def annealed(self) -> bool:
        """Whether the field is learned over a range of noise levels."""
        return self.sigma_max > self.sigma

    def noise_levels(self, rng: np.random.Generator) -> np.ndarray:
        """A step's noise levels: ``NOISE_GROUPS`` log-uniform draws in [σ_min, σ_max]
        when annealed, else σ alone."""
        if not self.annealed:
            return np.array([self.sigma])
        low, high = np.log(self.sigma), np.log(self.sigma_max)
        return np.exp(rng.uniform(low, high, NOISE_GROUPS))


@dataclass(frozen=True)
class ChipField:
    """The circuit's field at points (n, d): settle with the springs' targets there
    (from x at the targets, hidden at 0), read f = αλ(x* − x); rows that did not settle
    are NaN. On a noise-conditional circuit (:attr:`neurosim.host.Chip.
    noise_conditional`) at the noise level ``sigma`` (None: ``step.sigma``), scaled by
    σ_min/σ (module docstring); ``sigma`` may be a number or one per point."""

    chip: Chip
    step: FluxStep
    sigma: np.ndarray | float | None = None

    def levels(self, n: int) -> np.ndarray | None:
        """The noise level of each of ``n`` points (n,), None for a circuit without a
        noise input."""
        if not self.chip.noise_conditional:
            return None
        sigma = self.step.sigma if self.sigma is None else self.sigma
        return np.broadcast_to(np.asarray(sigma, dtype=np.float64), (n,))

    def scale(self, n: int) -> np.ndarray | float:
        """The readout's scale for ``n`` points: α, or α·σ_min/σ (n, 1) at noise levels."""
        levels = self.levels(n)
        if levels is None:
            return self.step.alpha
        return noise_scale(self.step.alpha, self.step.sigma, levels)[:, None]

    def equilibria(self, points: np.ndarray):
        """The sources and the equilibrium (batch) with the springs' targets at ``points``."""
        layer = self.step.layer
        sources = self.chip.spring_sources(layer, points, self.levels(points.shape[0]))
        settled = self.chip.settle(
            sources,
            start=self.chip.rest_start(layer, points),
            tolerance=self.step.tolerance,
            max_passes=self.step.max_passes,
        )
        return sources, settled

    def __call__(self, points: np.ndarray) -> np.ndarray:
        sources, settled = self.equilibria(points)
        scale = self.scale(points.shape[0])
        f = self.chip.velocity(sources, settled.state, scale, self.step.layer)
        f[~settled.converged] = np.nan
        return f


def flux_step(chip: Chip, optimizer, data: np.ndarray, epoch: int, seed: int, step: FluxStep):
    """Program ``chip`` with one Flux Matching step on a batch of ``data`` (n, d) drawn
    for ``epoch`` (module docstring); the step's metrics (annealed: each point's in
    units of σ_min's, weighted as the loss)."""
    rng = epoch_rng(seed, epoch)
    rows = rng.choice(data.shape[0], min(step.batch_size, data.shape[0]), replace=False)
    dim = data.shape[1]
    probes = step.draw_probes(dim, rng)
    levels = step.noise_levels(rng)
    groups = np.array_split(rows, levels.size)
    targets = flux_targets if step.loss == "flux" else score_targets
    parts = [
        targets(
            ChipField(chip, step, sigma if step.annealed else None),
            data[group],
            sigma**2,
            rng,
            probes,
            reference=data,
        )
        for group, sigma in zip(groups, levels, strict=True)
    ]
    x0, g, f, s, r = (np.concatenate([getattr(p, k) for p in parts]) for k in "x0 g f s r".split())
    sigma = np.repeat(levels, [group.size for group in groups])
    field = ChipField(chip, step, sigma if step.annealed else None)
    sources, settled = field.equilibria(x0)
    usable = settled.converged & np.all(np.isfinite(g), axis=1)
    usable &= np.all(np.isfinite(f), axis=1) & np.isfinite(r)
    n = rows.size
    left_out = n - int(usable.sum())
    check_unsettled(left_out, n, "flux measurement", settled, share=MAX_UNSETTLED_FLUX)
    keep = np.flatnonzero(usable)
    ratio = sigma[keep] / step.sigma  # σ/σ_min: 1 unless annealed
    weight = ratio ** WEIGHT_POWER[step.loss] if step.annealed else 1.0
    scale = field.scale(n)
    scale = scale[keep] if np.ndim(scale) else scale
    where = chip.free_slices()[step.layer]
    cotangent = np.zeros((keep.size, chip.free))
    cotangent[:, where] = 2.0 * scale * chip.spring(step.layer) * (weight * g[keep].T).T
    part = sources.rows(keep)
    state = settled.state[keep]
    grads = chip.adjoint_gradients(part, state, chip.adjoint(part, state, cotangent))
    grads, norm = clip_by_global_norm(grads, step.clip)
    chip.program(optimizer.step(grads))
    f, s, g, r = f[keep], s[keep], g[keep], r[keep]
    return {
        "loss": float(-2.0 * np.mean(weight * np.sum((f - s) * g, axis=1))),
        "stein": float(np.mean(weight * r**2)),
        "score_mse": float(np.mean(ratio**2 * np.sum((f - s) ** 2, axis=1))),
        "grad_norm": norm,
        "unsettled": float(n - keep.size),
    }


class FluxObjective:
    """Flux Matching on ``data`` (n, d): one step per epoch on a batch drawn by the
    epoch's generator."""

    def __init__(self, data: np.ndarray, seed: int, step: FluxStep) -> None:
        self.data, self.seed, self.step = np.asarray(data, dtype=np.float64), seed, step

    def run_epoch(self, chip: Chip, optimizer, epoch: int) -> dict[str, float]:
        """One step on epoch ``epoch``'s batch; its metrics."""
        return flux_step(chip, optimizer, self.data, epoch, self.seed, self.step)


def field_diagnostics(
    chip: Chip, data: np.ndarray, step: FluxStep, points: int = 500, seed: int = 0
) -> dict[str, float]:
    """What a user needs to trust a learned field, over ``points`` data points (every
    k-th row): ``curl`` the mean rotation |J − Jᵀ| (:func:`neurosim.learn.flux.curl`; 0
    for a reciprocal circuit) and ``curl_median`` its median (robust: where the circuit
    has several equilibria, a reading and its neighbour can settle on different
    branches, and the finite difference across that jump is no derivative), ``stein``
    the mean r² (0 when the data smoothed at ``step.sigma`` is stationary),
    ``score_mse`` the mean |f − s|² (0 only for the score itself) and ``unsettled`` the
    points where a reading did not settle (left out).
    Jacobians and divergences by central differences of settled readings. A noise-
    conditional circuit is measured at σ_min, and ``levels`` holds, at each of
    ``LEVELS`` noise levels from σ_min to σ_max (``step.sigma_max``, else 30·σ_min),
    the relative error |f − s|²/|s|² of its field at the data noised to that level."""
    data = np.asarray(data, dtype=np.float64)
    probe = data[:: max(1, data.shape[0] // points)][:points]
    field = ChipField(chip, step)
    rng = np.random.default_rng(seed)
    dim = data.shape[1]
    probes = step.draw_probes(dim, rng)
    rotation = curl(field_jacobian(field, probe, step.step))
    r, f = stein_operator(field, probe, lambda z: kernel_score(z, data, step.sigma**2), probes)
    s = kernel_score(probe, data, step.sigma**2)[0]
    ok = np.isfinite(rotation) & np.isfinite(r) & np.all(np.isfinite(f), axis=1)
    out = {
        "curl": float(np.mean(rotation[ok])),
        "curl_median": float(np.median(rotation[ok])),
        "stein": float(np.mean(r[ok] ** 2)),
        "score_mse": float(np.mean(np.sum((f[ok] - s[ok]) ** 2, axis=1))),
        "points": float(ok.sum()),
        "unsettled": float((~ok).sum()),
    }
    if chip.noise_conditional:
        out["levels"] = level_errors(chip, probe, data, step, rng)
    return out


def level_errors(chip: Chip, probe: np.ndarray, data: np.ndarray, step: FluxStep, rng):
    """σ -> |f − s|²/|s|² (mean over the points ``probe`` noised to σ, the readings that
    settled) at ``LEVELS`` noise levels from σ_min to σ_max, spaced in log σ."""
    high = step.sigma_max if step.annealed else 30.0 * step.sigma
    errors = {}
    for sigma in np.geomspace(step.sigma, high, LEVELS):
        z = probe + sigma * rng.standard_normal(probe.shape)
        f = ChipField(chip, step, float(sigma))(z)
        s = kernel_score(z, data, sigma**2)[0]
        ok = np.all(np.isfinite(f), axis=1)
        error = np.sum((f[ok] - s[ok]) ** 2) / np.sum(s[ok] ** 2)
        errors[f"{sigma:.3g}"] = float(error)
    return errors
