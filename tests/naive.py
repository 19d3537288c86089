"""Slow, obviously correct references the tests compare the package against."""

from __future__ import annotations

import numpy as np
from scipy.optimize import root

from neurosim.circuit.drive import Drive
from neurosim.circuit.meta import NetworkMeta
from neurosim.network.model import force


def free_layers(meta: NetworkMeta) -> list:
    return [layer for layer in meta.layers if layer.kind != "input"]


def unflatten(meta: NetworkMeta, flat: np.ndarray) -> dict:
    state, start = {}, 0
    for layer in free_layers(meta):
        state[layer.name] = flat[start : start + layer.size][None, :]
        start += layer.size
    return state


def model_fixed_point(meta: NetworkMeta, params: dict, drive: Drive) -> dict | None:
    """Zero of the model force for one sample (batch 1), found by MINPACK's hybrd from 0.

    None when hybrd does not converge (it can stall on networks with several equilibria).
    """
    size = sum(layer.size for layer in free_layers(meta))

    def residual(flat):
        f = force(meta, params, unflatten(meta, flat), drive)
        return np.concatenate([f[layer.name][0] for layer in free_layers(meta)])

    solution = root(residual, np.zeros(size), method="hybr", tol=1e-15)
    if np.max(np.abs(residual(solution.x))) >= 1e-12:
        return None
    return {name: value[0] for name, value in unflatten(meta, solution.x).items()}
