"""The training path before the hardware host, as a stand-in with the host's methods.

The host keeps the parameters itself and, after every update, rebuilds the ideal
crossbar from them (:func:`neurosim.lower.crossbar.ideal_crossbar`, now a test oracle):
what ``neurosim train`` did until the host existed. Benchmarks run the same objectives
on it and on :class:`neurosim.host.Chip` side by side, so the difference is the host's.
"""

from __future__ import annotations

import numpy as np

from neurosim.engine.readout import activations
from neurosim.engine.relax import relax
from neurosim.engine.sources import default_sources
from tests.oracle import ideal_crossbar


class IdealCopy:
    """Parameters ``params`` (model units) of network ``meta``, held by the host."""

    def __init__(self, meta, params) -> None:
        self.meta = meta
        self.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        self.trained = tuple(self.params)
        self.version = 0
        self._crossbar = ideal_crossbar(meta, self.params)

    @property
    def free(self) -> int:
        return self._crossbar.free

    def free_slices(self):
        return self._crossbar.free_slices()

    def input_slices(self):
        return self._crossbar.input_slices()

    def spring(self, layer):
        return self._crossbar.spring[self.free_slices()[layer]].copy()

    def sources(self, batch=1):
        return default_sources(self._crossbar, batch)

    def settle(self, sources, **options):
        return relax(self._crossbar, sources, throw=False, **options)

    def spring_current(self, sources, state, layer):
        where = self.free_slices()[layer]
        return self._crossbar.spring[where] * (sources.targets[:, where] - state[:, where])

    def velocity(self, sources, state, alpha, layer):
        return -alpha * self.spring_current(sources, state, layer)

    def local_gradients(self, sources, state):
        acts = activations(self._crossbar, sources, state)
        batch = state.shape[0]
        out = {
            f"w{k}": -(acts[a].T @ acts[b]) / batch for k, (a, b) in enumerate(self.meta.couplings)
        }
        out.update({f"b_{name}": -acts[name].mean(axis=0) for name in self.free_slices()})
        return out

    def program(self, deltas) -> None:
        for name, delta in deltas.items():
            self.params[name] += delta
        self._crossbar = ideal_crossbar(self.meta, self.params)
        self.version += 1

    def parameters(self):
        return {k: v.copy() for k, v in self.params.items()}
