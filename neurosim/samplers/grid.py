"""A PNG grid of generated images: the first (up to) 100 samples, 10 per row, grey."""

from __future__ import annotations

import math
import os

import numpy as np

from neurosim.plot.png import save_png

COLUMNS = 10
MAX_IMAGES = 100


def mosaic(samples: np.ndarray, gap: int = 1) -> np.ndarray:
    """The first up to 100 rows of ``samples`` (n, side²) tiled 10 per row as one image
    (rows·(side+gap) − gap, 10·(side+gap) − gap); gaps and empty cells are NaN."""
    samples = np.asarray(samples, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[0] < 1:
        raise ValueError(f"samples must be (n ≥ 1, dim), not shape {samples.shape}")
    side = math.isqrt(samples.shape[1])
    if side * side != samples.shape[1]:
        raise ValueError(f"samples of {samples.shape[1]} pixels are not square images")
    images = samples[:MAX_IMAGES]
    rows = math.ceil(len(images) / COLUMNS)
    cell = side + gap
    out = np.full((rows * cell - gap, COLUMNS * cell - gap), np.nan)
    for k, image in enumerate(images):
        r, c = divmod(k, COLUMNS)
        out[r * cell : r * cell + side, c * cell : c * cell + side] = image.reshape(side, side)
    return out


def save_grid(samples: np.ndarray, path: str | os.PathLike, title: str | None = None) -> None:
    """Write the :func:`mosaic` of ``samples`` (n, side²), values in [−1, 1] (−1 black,
    +1 white), to the PNG ``path`` atomically (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    image = mosaic(samples)
    height, width = image.shape
    figure, axes = plt.subplots(figsize=(6.0, 6.0 * height / width + (0.4 if title else 0.0)))
    colours = plt.get_cmap("gray").with_extremes(bad="#4a6fa5")
    axes.imshow(image, cmap=colours, vmin=-1.0, vmax=1.0, interpolation="nearest")
    axes.set_axis_off()
    if title:
        axes.set_title(title)
    figure.tight_layout()
    save_png(figure, path)
