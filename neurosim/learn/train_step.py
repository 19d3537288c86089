"""One GradEP training step of a flow-matching circuit, as a host beside hardware does it.

Program the devices (ideal devices: the conductance pairs of the current parameters),
set the spring targets x_t, let the circuit settle from x = x_t, h = 0 (DESIGN §4.4),
read the spring currents (the velocity), settle the ±β nudged phases from there, form
each device's local update, clip, and step the optimiser. A free phase that does not
settle (a nearly singular equilibrium can need thousands of passes) is left out of the
update and counted; more than 1% of the batch stops training with the solver's error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.circuit.meta import NetworkMeta
from neurosim.engine.relax import relax
from neurosim.engine.sources import Sources, default_sources
from neurosim.learn.estimators import gradep_estimate, velocity
from neurosim.learn.flow import flow_batch
from neurosim.learn.optim import clip_by_global_norm
from neurosim.lower.crossbar import ideal_crossbar


@dataclass(frozen=True)
class StepReport:
    """``loss``: batch mean of ½‖v − u‖²; ``mse``: per-pixel mean (v − u)²."""

    loss: float
    mse: float
    grad_norm: float
    passes: int
    unsettled: int = 0  # free phases that did not converge and were left out of the step


def flow_step(
    meta: NetworkMeta,
    params: dict[str, np.ndarray],
    optimizer,
    data: np.ndarray,
    rng: np.random.Generator,
    *,
    alpha: float = 2.0,
    beta: float = 1.25e-3,
    clip: float | None = 1.0,
    tolerance: float = 1e-6,
    layer: str = "x",
) -> StepReport:
    """Update ``params`` in place with one GradEP step on the batch ``data`` (n, dim)."""
    batch = flow_batch(data, rng)
    crossbar = ideal_crossbar(meta, params)
    sources = default_sources(crossbar, data.shape[0])
    where = crossbar.free_slices()[layer]
    sources.targets[:, where] = batch.x_t
    start = np.zeros((data.shape[0], crossbar.free))
    start[:, where] = batch.x_t
    free = relax(crossbar, sources, start=start, tolerance=tolerance)
    v = velocity(crossbar, sources, free.state, alpha, layer)
    error = v - batch.u
    settled = np.flatnonzero(free.converged)
    _check_settled(free, settled.size)
    part = _rows(sources, settled)
    estimate = gradep_estimate(
        crossbar,
        part,
        free.state[settled],
        batch.u[settled],
        alpha,
        beta,
        layer,
        tolerance=tolerance,
    )
    grads, norm = clip_by_global_norm(estimate.gradients, clip)
    optimizer.update(params, grads)
    passes = free.total_passes + estimate.plus.total_passes + estimate.minus.total_passes
    return StepReport(
        loss=float(np.mean(0.5 * np.sum(error**2, axis=1))),
        mse=float(np.mean(error**2)),
        grad_norm=norm,
        passes=int(passes),
        unsettled=int(free.state.shape[0] - settled.size),
    )


MAX_UNSETTLED = 0.01  # a step may leave out at most this fraction of unsettled samples


def _check_settled(free, settled: int) -> None:
    """Unsettled free phases are left out of the step, up to ``MAX_UNSETTLED``."""
    if free.state.shape[0] - settled > MAX_UNSETTLED * free.state.shape[0]:
        free.raise_if_failed()


def _rows(sources: Sources, index: np.ndarray) -> Sources:
    return Sources(
        sources.inputs[index], sources.targets[index], sources.nudge_targets[index], sources.nudge
    )
