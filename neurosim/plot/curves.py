"""Training curves: per-epoch history values against the epoch, as a PNG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def plot_history(
    history: Mapping[str, Sequence[float]],
    names: Sequence[str],
    path: Path,
    *,
    ylabel: str,
    title: str = "training (local rules only)",
) -> None:
    """Plot ``history[name]`` for each of ``names`` against the epoch, leaving out NaN
    entries (log scale when all values are positive and none is an accuracy)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim.plot.png import save_png

    figure, axes = plt.subplots(figsize=(5.5, 3.4))
    positive = True
    for name in names:
        epochs, values = zip(
            *[(e + 1, v) for e, v in enumerate(history[name]) if v == v], strict=True
        )  # NaN: epochs without the value
        style = "-" if len(values) == len(history[name]) else "o-"
        axes.plot(epochs, values, style, label=name.replace("_", " "))
        positive = positive and min(values) > 0
    axes.set(xlabel="epoch", ylabel=ylabel, title=title)
    if positive and all(n not in ("train_accuracy", "test_accuracy") for n in names):
        axes.set_yscale("log")
    if len(names) > 1:
        axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    save_png(figure, path, dpi=120)
