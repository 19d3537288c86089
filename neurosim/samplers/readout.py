"""The velocity a host reads off a flow-matching crossbar at a point x (DESIGN §4.2, §4.4).

Both readouts are a current measured at the visible unit nodes: with ``i`` the current
[A] a source drives into each visible node, ``v = −α·i/(vs·g_unit)`` (model units).

- ``"spring"``: the spring targets are set to x and the whole circuit settles (visible
  and hidden units move); the spring current gives v = αλ(x* − x)
  (:meth:`neurosim.host.Chip.velocity`).
- ``"energy"``: the visible nodes are held at x by voltage sources in place of the
  springs — the visible layer becomes a clamped input layer of the crossbar
  (:meth:`neurosim.host.Chip.clamp`) — and only the hidden units settle; the clamp
  current gives v = −α ∂E/∂x at (x, h*), E the network's energy without the springs.
  It is the visible units' net current F_x of the unclamped circuit at (x, h*)
  (:meth:`neurosim.host.Chip.net_current`).

On a noise-conditional circuit (a one-unit ``noise`` input layer: noise-annealed Flux
Matching) the field is read at a noise level σ (:attr:`Readout.sigma`, at first the
smallest, ``sigma_min``): the noise input clamped at ¼ ln σ and v scaled by σ_min/σ
(:func:`neurosim.host.noise_scale`).

Relaxations start from ``start`` when given (the circuit still sits at its previous
equilibrium: a warm start), else from rest as a training free phase does (x on the
visible units for the spring readout, 0 elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.errors import CircuitError
from neurosim.host import Chip, Equilibrium, Sources, noise_scale

READOUTS = ("spring", "energy")


@dataclass(frozen=True)
class Reading:
    """One reading of a batch: ``velocity`` (batch, dim), model units per unit time, and
    the ``equilibrium`` of the circuit that settled (the whole crossbar for ``"spring"``,
    its clamped form for ``"energy"``); its ``state`` warm-starts the next reading."""

    velocity: np.ndarray
    equilibrium: Equilibrium


class Readout:
    """The ``kind`` readout (:data:`READOUTS`) of ``chip``'s visible layer, scale α.

    ``tolerance`` (model units of residual current) and ``max_passes`` go to
    :meth:`neurosim.host.Chip.settle`. ``sigma_min``: the smallest noise level of a
    noise-conditional circuit (required for one, refused otherwise).
    """

    def __init__(
        self,
        chip: Chip,
        kind: str,
        alpha: float,
        *,
        tolerance: float = 1e-6,
        max_passes: int = 5000,
        sigma_min: float | None = None,
    ) -> None:
        if kind not in READOUTS:
            raise ValueError(f"readout must be one of {', '.join(READOUTS)}, not {kind!r}")
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be positive and finite, not {alpha!r}")
        conditional = getattr(chip, "noise_conditional", False)
        if conditional and sigma_min is None:
            raise CircuitError(
                "the circuit is noise-conditional (a 'noise' input layer): its field is read "
                "at a noise level; sample its run directory, or give --sigma-min"
            )
        if conditional and kind != "spring":
            raise CircuitError("a noise-conditional circuit is read by its springs only")
        if sigma_min is not None and not conditional:
            raise CircuitError(
                "a noise level is given for a circuit without a one-unit 'noise' input layer"
            )
        self.chip, self.kind, self.alpha = chip, kind, float(alpha)
        self.sigma_min = self.sigma = sigma_min
        self.options = {"tolerance": tolerance, "max_passes": max_passes}
        self.layer = sampled_layer(chip)
        self.where = chip.free_slices()[self.layer]
        self.dim = self.where.stop - self.where.start
        self.clamped = chip.clamp(self.layer) if kind == "energy" else None

    def cold_start(self, x: np.ndarray) -> np.ndarray:
        """The state a relaxation at ``x`` (batch, dim) starts from without history."""
        if self.kind == "energy":
            return np.zeros((x.shape[0], self.clamped.free))
        return self.chip.rest_start(self.layer, x)

    def read(self, x: np.ndarray, start: np.ndarray | None = None) -> Reading:
        """v(x) for a batch of points ``x`` (batch, dim), relaxing from ``start``
        (a previous :attr:`Reading.equilibrium` state) or from :meth:`cold_start`."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x has shape {x.shape}, expected (batch, {self.dim})")
        start = self.cold_start(x) if start is None else start
        if self.kind == "spring":
            sources = self._spring_sources(x)
            eq = self.chip.settle(sources, start=start, **self.options)
            return Reading(self.chip.velocity(sources, eq.state, self.scale, self.layer), eq)
        state, eq = self._clamped_state(x, start)
        # springs at rest (targets = x) carry no current: the clamp supplies −F_x
        net = self.chip.net_current(self._spring_sources(x), state)
        return Reading(self.alpha * net[:, self.where], eq)

    def landscape(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, Equilibrium]:
        """With the visible nodes held at ``x`` (batch, dim) and the hidden units settled
        from rest: the free energy F(x) = E(x, h*) (model units; the springs at rest add
        nothing), the power [W] the circuit dissipates there, each (batch,), and the
        hidden units' equilibrium. −∇F is what the energy readout reads (÷ α)."""
        x = np.asarray(x, dtype=np.float64)
        state, eq = self._clamped_state(x, None)
        sources = self._spring_sources(x)
        return self.chip.energy(sources, state), self.chip.power(sources, state), eq

    def costs(
        self, x: np.ndarray, start: np.ndarray | None, settled: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """What readings at ``x`` (batch, dim) cost the hardware, each (batch,): the
        settling time [s] from ``start`` (as :meth:`read`'s) to the equilibrium state
        ``settled`` (the :class:`Reading`'s), from the circuit's slowest time constant
        there (:func:`neurosim.engine.timescales.settling_estimate`), and the energy [J]:
        the power dissipated at the equilibrium, held for that time."""
        x = np.asarray(x, dtype=np.float64)
        start = self.cold_start(x) if start is None else start
        tolerance = self.options["tolerance"]
        if self.kind == "spring":
            sources = self._spring_sources(x)
            seconds = self.chip.settling_estimate(sources, start, settled, tolerance)
            return seconds, seconds * self.chip.power(sources, settled)
        clamped = self._clamped_sources(x)
        seconds = self.clamped.settling_estimate(clamped, start, settled, tolerance)
        whole = self._whole_state(x, settled)
        return seconds, seconds * self.chip.power(self._spring_sources(x), whole)

    def _clamped_state(self, x: np.ndarray, start: np.ndarray | None):
        """The whole circuit's state with the visible nodes held at ``x`` and the hidden
        units settled (from ``start``, or from rest), and that equilibrium."""
        clamped = self._clamped_sources(x)
        start = np.zeros((x.shape[0], self.clamped.free)) if start is None else start
        eq = self.clamped.settle(clamped, start=start, **self.options)
        return self._whole_state(x, eq.state), eq

    def _clamped_sources(self, x: np.ndarray) -> Sources:
        """The clamped view's sources with the visible nodes held at ``x``."""
        if self.clamped is None:
            self.clamped = self.chip.clamp(self.layer)
        clamped = self.clamped.sources(x.shape[0])
        clamped.inputs[:, self.clamped.input_slices()[self.layer]] = x
        return clamped

    def _whole_state(self, x: np.ndarray, hidden: np.ndarray) -> np.ndarray:
        """The chip's state (batch, free) from ``x`` and the clamped view's ``hidden``."""
        state = np.empty((x.shape[0], self.chip.free))
        state[:, self.where] = x
        state[:, self.clamped.index] = hidden
        return state

    @property
    def scale(self) -> float:
        """The spring readout's scale: α, or α·σ_min/σ at the noise level σ."""
        if self.sigma is None:
            return self.alpha
        return float(noise_scale(self.alpha, self.sigma_min, self.sigma))

    def _spring_sources(self, x: np.ndarray) -> Sources:
        return self.chip.spring_sources(self.layer, x, self.sigma)


def sampled_layer(chip: Chip) -> str:
    """The visible layer a flow sampler integrates; :class:`CircuitError` unless there is
    exactly one and every unit of it has a spring."""
    visible = [n for n in chip.free_slices() if chip.meta.layer(n).kind == "visible"]
    if len(visible) != 1:
        raise CircuitError(
            f"sampling needs exactly one visible layer, the network has {len(visible)}"
        )
    layer = visible[0]
    if not np.all(chip.spring(layer) > 0):
        raise CircuitError(
            f"visible layer {layer} has no springs: only a flow-matching network (springs "
            "on its visible units, spring_lambda > 0) has a velocity readout to sample"
        )
    return layer
