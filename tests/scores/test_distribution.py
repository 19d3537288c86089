"""Scores against non-digit data: the baseline is two disjoint halves of the data."""

import numpy as np

from neurosim.data.datasets import Dataset, load_dataset
from neurosim.scores.distribution import evaluate_against


def test_the_baseline_compares_two_disjoint_halves_of_the_data():
    """On a grid of unit spacing, two disjoint halves cannot share a point, so every
    pairing moves each point at least 1 (W2 >= 1); overlapping halves would not."""
    grid = np.stack(np.meshgrid(np.arange(20.0), np.arange(10.0)), axis=-1).reshape(-1, 2)
    labels = (grid[:, 0] >= 10).astype(np.int64)
    scores = evaluate_against(grid[::-1], Dataset("grid", grid, labels))
    baseline = scores["baseline"]
    assert baseline["w2"] >= 1.0 and baseline["energy_distance"] > 0
    assert scores["samples"]["w2"] == 0.0  # the samples are the data
    ring = load_dataset("ring8")
    w2 = evaluate_against(ring.x[:10], ring)["baseline"]["w2"]
    assert 0.06 < w2 < 0.09  # two independent 1,000-point draws of the ring: about 0.07–0.08
