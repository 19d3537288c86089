"""How many steps each sample took (adaptive compute), as a histogram PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_steps(steps: np.ndarray, path: Path, budget: int) -> None:
    """A histogram of ``steps`` (n,) out of at most ``budget`` steps per sample."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim.plot.png import save_png

    steps = np.asarray(steps)
    figure, axes = plt.subplots(figsize=(5.5, 3.4))
    edges = np.arange(0, budget + 2) - 0.5 if budget <= 60 else 40
    axes.hist(steps, bins=edges, color="tab:blue")
    saved = 1 - steps.sum() / (budget * steps.size)
    axes.set(
        xlabel="steps taken",
        ylabel="samples",
        title=f"adaptive compute: mean {steps.mean():.1f} of {budget} steps ({saved:.0%} saved)",
    )
    axes.grid(alpha=0.3)
    figure.tight_layout()
    save_png(figure, path, dpi=120)
