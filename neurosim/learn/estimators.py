"""Gradient estimates a host computes from settled circuits: EP and GradEP (DESIGN §4).

The host sets sources, lets the circuit settle (:func:`neurosim.engine.relax.relax`),
reads the unit voltages and forms each device's local quantity. For both unit laws the
energy's parameter gradient is local: ``∂E/∂W_k = −ρ(s_a)ᵀ ρ(s_b)`` for coupling
``k = (a, b)`` and ``∂E/∂b_L = −ρ(s_L)`` (linear units: ρ(s) = s). Parameters use the
model's names (``w<k>``, ``b_<layer>``); gradients are means over the batch.

Nudged phases are the circuit's nudge elements (a transconductance toward a target
source) and start from the free equilibrium. With symmetric nudging the estimate
``[∂E/∂θ(s^{+β}) − ∂E/∂θ(s^{−β})] / (2β)`` approaches the loss gradient like β².
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from neurosim.engine.readout import activations
from neurosim.engine.relax import Equilibrium, relax
from neurosim.engine.sources import Sources
from neurosim.errors import ConvergenceError
from neurosim.lower.crossbar import Crossbar

MAX_UNSETTLED = 0.01  # a training step may leave out at most this share of its samples


@dataclass(frozen=True)
class Estimate:
    """A gradient estimate: ``gradients`` (parameter name -> array) and the phases used.

    ``settled`` (batch,) bool: both nudged phases of the sample converged; the
    gradients are means over those samples only (a phase that did not settle has no
    meaningful local gradient).
    """

    gradients: dict[str, np.ndarray]
    plus: Equilibrium
    minus: Equilibrium
    settled: np.ndarray


def check_unsettled(left_out: int, batch: int, phase: str, *equilibria: Equilibrium) -> None:
    """Raise :class:`ConvergenceError` if more than ``MAX_UNSETTLED`` of ``batch`` samples
    were left out of a step; the message summarises the first of ``equilibria`` (the
    ``phase`` phases) that did not all settle."""
    if left_out > MAX_UNSETTLED * batch:
        failed = next((eq for eq in equilibria if not eq.ok), equilibria[0])
        raise ConvergenceError(
            f"{left_out} of {batch} samples did not settle ({phase} phase; at most "
            f"{MAX_UNSETTLED:.0%} may be left out of a step): {failed.summary()}"
        )


def energy_gradients(
    crossbar: Crossbar, sources: Sources, state: np.ndarray
) -> dict[str, np.ndarray]:
    """Batch-mean ∂E/∂θ at ``state`` (batch, free), from the units' activations alone."""
    acts = activations(crossbar, sources, state)
    batch = state.shape[0]
    out = {}
    for k, (a, b) in enumerate(crossbar.meta.couplings):
        out[f"w{k}"] = -(acts[a].T @ acts[b]) / batch
    for name in crossbar.free_slices():
        out[f"b_{name}"] = -acts[name].mean(axis=0)
    return out


def nudged(crossbar: Crossbar, sources: Sources, layer: str, targets, strength: float) -> Sources:
    """``sources`` with the nudge elements of ``layer`` pulling toward ``targets``
    (batch, size) with conductance ``strength`` (model units; negative for −β)."""
    where = crossbar.free_slices()[layer]
    nudge = np.zeros(crossbar.free)
    nudge[where] = strength
    nudge_targets = np.array(sources.nudge_targets, copy=True)
    nudge_targets[:, where] = targets
    return replace(sources, nudge=nudge, nudge_targets=nudge_targets)


def symmetric_estimate(
    crossbar: Crossbar,
    sources: Sources,
    free_state: np.ndarray,
    layer: str,
    targets: np.ndarray,
    strength: float,
    beta: float,
    **relax_options,
) -> Estimate:
    """[∂E/∂θ(s⁺) − ∂E/∂θ(s⁻)]/(2β) with phases nudged by ±``strength`` toward
    ``targets`` on ``layer``, each settled from ``free_state``."""
    phases = []
    for sign in (1.0, -1.0):
        pulled = nudged(crossbar, sources, layer, targets, sign * strength)
        phases.append((pulled, relax(crossbar, pulled, start=free_state, **relax_options)))
    (pulled_plus, plus), (pulled_minus, minus) = phases
    settled = plus.converged & minus.converged
    rows = np.flatnonzero(settled)
    if rows.size == 0:
        raise ConvergenceError(f"no sample's nudged phases settled: {plus.summary()}")
    g_plus = energy_gradients(crossbar, pulled_plus.rows(rows), plus.state[rows])
    g_minus = energy_gradients(crossbar, pulled_minus.rows(rows), minus.state[rows])
    gradients = {name: (g_plus[name] - g_minus[name]) / (2.0 * beta) for name in g_plus}
    return Estimate(gradients, plus, minus, settled)


def ep_estimate(
    crossbar: Crossbar,
    sources: Sources,
    free_state: np.ndarray,
    layer: str,
    targets: np.ndarray,
    beta: float,
    **relax_options,
) -> Estimate:
    """EP estimate of ∇θ of the batch-mean cost at the free equilibrium.

    The cost is the nudge element's own energy per unit conductance: ½‖s − t‖² on
    ``layer`` under the Scellier–Bengio law (and for linear units), the activation-space
    pull Σ(Λ(a) − t·a + t²/2) under the Hopfield law (:func:`neurosim.network.model._pull`).
    """
    return symmetric_estimate(
        crossbar, sources, free_state, layer, targets, beta, beta, **relax_options
    )


def gradep_estimate(
    crossbar: Crossbar,
    sources: Sources,
    free_state: np.ndarray,
    velocity_targets: np.ndarray,
    alpha: float,
    beta: float,
    layer: str = "x",
    **relax_options,
) -> Estimate:
    """GradEP estimate of ∇θ of ½‖v − u‖² (batch mean), v = αλ(x* − x_t) (DESIGN §4.2).

    The nudge pulls x toward ``x_t + u/(αλ)`` with conductance ``β(αλ)²`` — a resistor to
    a source in the circuit; ``velocity_targets`` is u (batch, size of ``layer``).
    """
    where = crossbar.free_slices()[layer]
    stiffness = float(crossbar.spring[where][0])
    scale = alpha * stiffness
    targets = sources.targets[:, where] + np.asarray(velocity_targets) / scale
    return symmetric_estimate(
        crossbar, sources, free_state, layer, targets, beta * scale**2, beta, **relax_options
    )


def velocity(
    crossbar: Crossbar, sources: Sources, state: np.ndarray, alpha: float, layer: str = "x"
) -> np.ndarray:
    """The spring readout v = αλ(x* − x_t), (batch, size): the spring current ÷ (vs·g_unit)·α."""
    where = crossbar.free_slices()[layer]
    return alpha * crossbar.spring[where] * (state[:, where] - sources.targets[:, where])
