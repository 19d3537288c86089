"""What every view of a chip offers a host: its shape, its sources, settling, transients."""

from __future__ import annotations

import numpy as np

from neurosim.circuit.meta import NOISE_LAYER
from neurosim.engine.relax import Equilibrium, relax
from neurosim.engine.sources import Sources, default_sources
from neurosim.engine.timescales import settling_estimate
from neurosim.engine.transient import Trajectory, transient
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import Crossbar


def noise_input(sigma: np.ndarray | float) -> np.ndarray:
    """The value (model units) a noise-conditional circuit's ``noise`` input is clamped
    at for the noise level ``sigma`` (model units): ¼ ln σ (the conditioning of Karras
    et al. 2022), −0.75 at σ = 0.05 and 0.1 at σ = 1.5."""
    return 0.25 * np.log(np.asarray(sigma, dtype=np.float64))


def noise_scale(alpha: float, sigma_min: float, sigma: np.ndarray | float) -> np.ndarray:
    """The readout scale of a noise-conditional field at the noise level ``sigma``:
    f(x, σ) = αλ(x* − x)·σ_min/σ — the smoothed score's own 1/σ, so the circuit's
    displacement is of one order at every level (noise-annealed Flux Matching)."""
    return alpha * sigma_min / np.asarray(sigma, dtype=np.float64)


class CrossbarView:
    """A settleable crossbar circuit, seen from the host (``_crossbar``: its arrays)."""

    _crossbar: Crossbar

    @property
    def free(self) -> int:
        """Number of free unit nodes (the length of a state vector)."""
        return self._crossbar.free

    def time_constants(self) -> np.ndarray:
        """Each free unit's τ = C/g_unit [s], (free,): the time scale of its dynamics."""
        return self._crossbar.tau.copy()

    def free_slices(self) -> dict[str, slice]:
        """Free layer -> its slice of a state vector."""
        return self._crossbar.free_slices()

    def input_slices(self) -> dict[str, slice]:
        """Input layer -> its slice of the input sources."""
        return self._crossbar.input_slices()

    def sources(self, batch: int = 1) -> Sources:
        """The netlist's own source settings, ``batch`` times, to be changed and applied."""
        return default_sources(self._crossbar, batch)

    @property
    def noise_conditional(self) -> bool:
        """Whether the circuit has a ``noise`` input layer of one unit: its field is
        read at a noise level σ (:func:`noise_input`; noise-annealed Flux Matching)."""
        return self._crossbar.meta.noise_conditional

    def spring_sources(
        self, layer: str, points: np.ndarray, sigma: np.ndarray | float | None = None
    ) -> Sources:
        """The netlist's source settings with ``layer``'s spring targets at ``points``
        (batch, size): where the springs' field is read; on a noise-conditional circuit
        at the noise level ``sigma`` (a number or (batch,); None: the netlist's input)."""
        sources = self.sources(points.shape[0])
        sources.targets[:, self.free_slices()[layer]] = points
        if sigma is not None:
            if not self.noise_conditional:
                raise CircuitError(
                    f"a noise level is set on a circuit without a one-unit {NOISE_LAYER!r} "
                    "input layer (a noise-conditional network has one)"
                )
            sources.inputs[:, self.input_slices()[NOISE_LAYER]] = noise_input(sigma).reshape(-1, 1)
        return sources

    def rest_start(self, layer: str, points: np.ndarray) -> np.ndarray:
        """The state (batch, free) a settling at ``points`` starts from without history:
        ``layer`` at ``points``, every other unit at 0 (as training's free phases)."""
        start = np.zeros((points.shape[0], self.free))
        start[:, self.free_slices()[layer]] = points
        return start

    def settle(self, sources: Sources, *, throw: bool = False, **options) -> Equilibrium:
        """Let the circuit settle under ``sources``; ``options`` as
        :func:`neurosim.engine.relax.relax` (``start``, ``tolerance``, ``max_passes``, ...).
        A host decides what to do with samples that did not settle (each has its
        status), so nothing is raised unless ``throw``."""
        return relax(self._crossbar, sources, throw=throw, **options)

    def transient(self, sources: Sources, times, **options) -> Trajectory:
        """The circuit's own dynamics in physical time under ``sources``, states at
        ``times`` [s]; ``options`` as :func:`neurosim.engine.transient.transient`
        (``start``, ``method``, ``rtol``, ...)."""
        return transient(self._crossbar, sources, times, **options)

    def settling_estimate(
        self, sources: Sources, start: np.ndarray, state: np.ndarray, tolerance: float
    ) -> np.ndarray:
        """How long [s] the circuit takes to settle from ``start`` to the equilibrium
        ``state`` (batch, free) within ``tolerance``, per sample (batch,), from its
        slowest time constant there (:func:`neurosim.engine.timescales.settling_estimate`)."""
        return settling_estimate(self._crossbar, sources, start, state, tolerance)


class DerivedView(CrossbarView):
    """A read-only view made from ``chip``'s arrays as they are now (clamped or released
    units): programming the chip afterwards makes it stale, and it then refuses to
    settle or run. Subclasses set ``chip``, ``_version`` (the chip's version when made)
    and name their ``kind``."""

    kind = "derived"
    chip: object
    _version: int

    def settle(self, sources: Sources, **options) -> Equilibrium:
        self._check()
        return super().settle(sources, **options)

    def transient(self, sources: Sources, times, **options) -> Trajectory:
        self._check()
        return super().transient(sources, times, **options)

    def settling_estimate(self, sources, start, state, tolerance) -> np.ndarray:
        self._check()
        return super().settling_estimate(sources, start, state, tolerance)

    def _check(self) -> None:
        if self.chip.version != self._version:
            raise CircuitError(f"the chip was programmed after this {self.kind} view was made")
