"""Precision and recall of generated samples (Kynkäänniemi et al., NeurIPS 2019).

Each set of features is a union of balls: a point's ball reaches its ``k``-th nearest
neighbour within its own set (k = 3, the paper's default). Precision is the share of
generated points inside the real set's manifold (any real point's ball); recall the
share of real points inside the generated set's manifold. Distances are Euclidean,
in the feature space given (the fixed digits classifier's hidden features here).
"""

from __future__ import annotations

import numpy as np

K_NEAREST = 3
_CHUNK = 1024


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = K_NEAREST) -> tuple[float, float]:
    """(precision, recall) of ``fake`` (m, d) against ``real`` (n, d) features; each set
    needs more than ``k`` points."""
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    for name, points in (("real", real), ("generated", fake)):
        if points.shape[0] <= k:
            raise ValueError(f"{name} features: {points.shape[0]} points, need more than {k}")
    real_radius, fake_radius = _kth_radius(real, k), _kth_radius(fake, k)
    return _inside(fake, real, real_radius), _inside(real, fake, fake_radius)


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = np.sum(a * a, axis=1)[:, None] - 2.0 * a @ b.T + np.sum(b * b, axis=1)[None, :]
    return np.maximum(d, 0.0)


def _kth_radius(points: np.ndarray, k: int) -> np.ndarray:
    """Each point's squared distance to its k-th nearest other point of the set."""
    radius = np.empty(points.shape[0])
    for start in range(0, points.shape[0], _CHUNK):
        d = _squared_distances(points[start : start + _CHUNK], points)
        radius[start : start + _CHUNK] = np.partition(d, k, axis=1)[:, k]  # [:, 0]: itself
    return radius


def _inside(queries: np.ndarray, centres: np.ndarray, radius: np.ndarray) -> float:
    """Share of ``queries`` within any centre's ball (squared ``radius``)."""
    hits = 0
    for start in range(0, queries.shape[0], _CHUNK):
        d = _squared_distances(queries[start : start + _CHUNK], centres)
        hits += int(np.count_nonzero(np.any(d <= radius[None, :], axis=1)))
    return hits / queries.shape[0]
