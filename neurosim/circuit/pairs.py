"""Signed values as device pairs: the one encoding (DESIGN §3.1).

A signed model value θ (a weight or a bias) is carried by two devices of conductances
``G± = g_min + max(±θ, 0)·g_unit`` [S] whose difference the column sums:
``θ = (G⁺ − G⁻)/g_unit``. The compiler writes it into netlists, the ideal crossbar of
the tests builds from it, the host's ideal programmer writes targets with it.
"""

from __future__ import annotations

import numpy as np

from neurosim.circuit.meta import Scaling


def pair_values(pairs: np.ndarray, scaling: Scaling) -> np.ndarray:
    """θ = (G⁺ − G⁻)/g_unit of device pairs ``pairs`` (..., 2) [S]."""
    return (pairs[..., 0] - pairs[..., 1]) / scaling.g_unit


def encode(values: np.ndarray, scaling: Scaling) -> np.ndarray:
    """The compiler's pair for each value (..., 2): ``G± = g_min + max(±θ, 0)·g_unit``."""
    values = np.asarray(values, dtype=np.float64)
    pairs = np.empty((*values.shape, 2))
    positive = np.maximum(values, 0.0)
    positive *= scaling.g_unit
    positive += scaling.g_min
    negative = np.minimum(values, 0.0)  # −max(−θ, 0), to the bit
    negative *= -scaling.g_unit
    negative += scaling.g_min
    pairs[..., 0], pairs[..., 1] = positive, negative
    return pairs
