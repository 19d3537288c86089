"""A PNG scatter plot of 2-D samples over their data, for the toy sets."""

from __future__ import annotations

import os

import numpy as np

from neurosim.plot.png import save_png


def save_scatter(
    samples: np.ndarray,
    path: str | os.PathLike,
    data: np.ndarray | None = None,
    title: str | None = None,
) -> None:
    """Write ``samples`` (n, 2) as points (over ``data`` (m, 2) in grey, if given) to the
    PNG ``path`` atomically (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != 2:
        raise ValueError(f"a scatter plot needs (n, 2) samples, not shape {samples.shape}")
    figure, axes = plt.subplots(figsize=(5.0, 5.0))
    if data is not None:
        axes.scatter(data[:, 0], data[:, 1], s=2, c="0.75", label="data")
    axes.scatter(samples[:, 0], samples[:, 1], s=3, c="#c0392b", label="samples")
    axes.set_aspect("equal")
    axes.legend(loc="upper right", fontsize=8)
    if title:
        axes.set_title(title)
    figure.tight_layout()
    save_png(figure, path)
