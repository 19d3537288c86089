"""Gradient estimates a host computes from settled circuits: EP and GradEP (DESIGN §4).

The host sets sources, lets the chip settle (:meth:`neurosim.host.Chip.settle`) and
reads each device pair's local quantity (:meth:`neurosim.host.Chip.local_gradients`:
``∂E/∂W_k = −ρ(s_a)ᵀ ρ(s_b)`` for coupling ``k = (a, b)``, ``∂E/∂b_L = −ρ(s_L)``, seen
through the circuit's drivers and rails). Parameters use the model's names (``w<k>``,
``b_<layer>``); gradients are means over the batch.

Nudged phases are the circuit's nudge elements (a transconductance toward a target
source) and start from the free equilibrium. With symmetric nudging the estimate
``[∂E/∂θ(s^{+β}) − ∂E/∂θ(s^{−β})] / (2β)`` approaches the loss gradient like β².
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from neurosim.errors import ConvergenceError
from neurosim.host import Chip, Equilibrium, Sources


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


def nudged(chip: Chip, sources: Sources, layer: str, targets, strength) -> Sources:
    """``sources`` with the nudge elements of ``layer`` pulling toward ``targets``
    (batch, size) with conductance ``strength`` (model units, a number or one per unit;
    negative for −β)."""
    where = chip.free_slices()[layer]
    nudge = np.zeros(chip.free)
    nudge[where] = strength
    nudge_targets = np.array(sources.nudge_targets, copy=True)
    nudge_targets[:, where] = targets
    return replace(sources, nudge=nudge, nudge_targets=nudge_targets)


def symmetric_estimate(
    chip: Chip,
    sources: Sources,
    free_state: np.ndarray,
    layer: str,
    targets: np.ndarray,
    strength,
    beta: float,
    **settle_options,
) -> Estimate:
    """[∂E/∂θ(s⁺) − ∂E/∂θ(s⁻)]/(2β) with phases nudged by ±``strength`` toward
    ``targets`` on ``layer``, each settled from ``free_state``."""
    phases = []
    for sign in (1.0, -1.0):
        pulled = nudged(chip, sources, layer, targets, sign * strength)
        phases.append((pulled, chip.settle(pulled, start=free_state, **settle_options)))
    (pulled_plus, plus), (pulled_minus, minus) = phases
    settled = plus.converged & minus.converged
    rows = np.flatnonzero(settled)
    if rows.size == 0:
        raise ConvergenceError(f"no sample's nudged phases settled: {plus.summary()}")
    g_plus = chip.local_gradients(pulled_plus.rows(rows), plus.state[rows])
    g_minus = chip.local_gradients(pulled_minus.rows(rows), minus.state[rows])
    gradients = {name: (g_plus[name] - g_minus[name]) / (2.0 * beta) for name in g_plus}
    return Estimate(gradients, plus, minus, settled)


def ep_estimate(
    chip: Chip,
    sources: Sources,
    free_state: np.ndarray,
    layer: str,
    targets: np.ndarray,
    beta: float,
    **settle_options,
) -> Estimate:
    """EP estimate of ∇θ of the batch-mean cost at the free equilibrium.

    The cost is the nudge element's own energy per unit conductance: ½‖s − t‖² on
    ``layer`` under the Scellier–Bengio law (and for linear units), the activation-space
    pull Σ(Λ(a) − t·a + t²/2) under the Hopfield law (:func:`neurosim.network.model._pull`).
    """
    return symmetric_estimate(
        chip, sources, free_state, layer, targets, beta, beta, **settle_options
    )


def gradep_estimate(
    chip: Chip,
    sources: Sources,
    free_state: np.ndarray,
    velocity_targets: np.ndarray,
    alpha: float,
    beta: float,
    layer: str = "x",
    **settle_options,
) -> Estimate:
    """GradEP estimate of ∇θ of ½‖v − u‖² (batch mean), v = αλ(x* − x_t) (DESIGN §4.2).

    The nudge pulls x toward ``x_t + u/(αλ)`` with conductance ``β(αλ)²`` — a resistor to
    a source in the circuit; ``velocity_targets`` is u (batch, size of ``layer``). λ is
    each unit's own spring (an edited netlist may give them different values).
    """
    where = chip.free_slices()[layer]
    scale = alpha * chip.spring(layer)
    targets = sources.targets[:, where] + np.asarray(velocity_targets) / scale
    return symmetric_estimate(
        chip, sources, free_state, layer, targets, beta * scale**2, beta, **settle_options
    )
