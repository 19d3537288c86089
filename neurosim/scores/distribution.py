"""Sample quality against any dataset: energy distance and coverage of its classes.

For data that are not the digits (the toy sets, a user's file) there is no fixed
classifier; samples are compared with the data directly:

- ``energy_distance``: 2·E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖ between samples X and data Y
  (Székely & Rizzo; 0 iff the distributions are equal), on at most ``MAX_POINTS`` of each
  (seeded subsample);
- ``w2``: the 2-Wasserstein distance between equal numbers of samples and data points
  (the smaller count, at most ``MAX_POINTS``, seeded subsamples), by an exact
  assignment (:func:`wasserstein2`);
- ``coverage``: classes of the data (its labels; for ring8 its 8 modes) holding at
  least ``COVERAGE_SHARE`` of the samples, each sample given its nearest data point's
  label; ``class_fractions`` each class's share.

``baseline`` holds the same scores for a seeded half of the data against the other half
(two disjoint draws of the data: what samples of the data's own law score).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from neurosim.data.datasets import Dataset

MAX_POINTS = 2000
COVERAGE_SHARE = 0.05
SEED = 0


def energy_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Energy distance between point sets ``x`` (n, d) and ``y`` (m, d)."""
    from scipy.spatial.distance import cdist

    return float(2 * cdist(x, y).mean() - cdist(x, x).mean() - cdist(y, y).mean())


def wasserstein2(x: np.ndarray, y: np.ndarray) -> float:
    """W2 between the equal-size point sets ``x`` and ``y`` (n, d): the square root of
    the least mean squared distance over one-to-one pairings (an exact assignment,
    ``scipy.optimize.linear_sum_assignment``)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    if x.shape != y.shape:
        raise ValueError(f"W2 needs equal-size sets, not {x.shape} and {y.shape}")
    cost = cdist(x, y, "sqeuclidean")
    rows, cols = linear_sum_assignment(cost)
    return float(np.sqrt(cost[rows, cols].mean()))


def _subsample(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if points.shape[0] <= MAX_POINTS:
        return points
    return points[np.sort(rng.choice(points.shape[0], MAX_POINTS, replace=False))]


def _scores(samples: np.ndarray, data: Dataset, rng: np.random.Generator) -> dict:
    from scipy.spatial.distance import cdist

    ours, theirs = _subsample(samples, rng), _subsample(data.x, rng)
    scores = {"energy_distance": energy_distance(ours, theirs)}
    size = min(len(ours), len(theirs))
    pick = rng.permutation(len(ours))[:size], rng.permutation(len(theirs))[:size]
    scores["w2"] = wasserstein2(ours[pick[0]], theirs[pick[1]])
    if data.labels is not None:
        classes = int(data.labels.max()) + 1
        nearest = np.concatenate(
            [
                cdist(samples[k : k + 1024], data.x).argmin(axis=1)
                for k in range(0, len(samples), 1024)
            ]
        )
        fractions = np.bincount(data.labels[nearest], minlength=classes) / len(samples)
        scores["class_fractions"] = [float(f) for f in fractions]
        scores["coverage"] = int(np.count_nonzero(fractions >= COVERAGE_SHARE))
        scores["classes"] = classes
    return scores


def evaluate_against(samples: np.ndarray, data: Dataset) -> dict:
    """Scores of ``samples`` (n, dim) against ``data`` and the baseline (module
    docstring), JSON-ready."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != data.dim or samples.shape[0] < 2:
        from neurosim.errors import NeurosimError

        raise NeurosimError(
            f"samples of shape {samples.shape}; the data {data.name} are (n, {data.dim}), n >= 2"
        )
    order = np.random.default_rng(SEED).permutation(data.x.shape[0])
    half, rest = order[: data.x.shape[0] // 2], order[data.x.shape[0] // 2 :]
    labels = None if data.labels is None else data.labels[rest]
    other_half = replace(data, x=data.x[rest], labels=labels)
    return {
        "data": data.name,
        "n_samples": int(samples.shape[0]),
        "samples": _scores(samples, data, np.random.default_rng(SEED)),
        "baseline": _scores(data.x[half], other_half, np.random.default_rng(SEED)),
    }
