"""A sweep's plot: the metric against the first axis, one line per value of the others."""

from __future__ import annotations

from pathlib import Path

import numpy as np

LABELS = {"time": "time after programming [s]"}  # axes whose unit the key does not say


def plot_sweep(summary: list[dict], keys: list[str], metric: str, path: Path, title: str) -> None:
    """Plot each point's mean ± std of ``metric`` (``summary``:
    :func:`neurosim.sweeps.table.point_summary`) against the first of ``keys``, one line
    per combination of the other keys' values (log x-scale when the first axis is
    positive and spans more than a factor 100)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim.plot.png import save_png

    figure, axes = plt.subplots(figsize=(6, 3.8))
    first, rest = (keys[0], keys[1:]) if keys else (None, [])
    lines: dict[tuple, list[dict]] = {}
    for row in summary:
        lines.setdefault(tuple(row[k] for k in rest), []).append(row)
    x_values = [row[first] for row in summary] if first else [0]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in x_values)
    labels = sorted({str(v) for v in x_values}, key=[str(v) for v in x_values].index)
    for combo, rows in lines.items():
        xs = (
            [row[first] if numeric else labels.index(str(row[first])) for row in rows]
            if first
            else [0]
        )
        mean = np.array([row["mean"] for row in rows])
        std = np.array([row["std"] for row in rows])
        label = ", ".join(f"{k}={v}" for k, v in zip(rest, combo, strict=True)) or None
        axes.errorbar(xs, mean, yerr=std, marker="o", capsize=3, label=label)
    if first:
        axes.set_xlabel(LABELS.get(first, first))
        if numeric and min(x_values) > 0 and max(x_values) > 100 * min(x_values):
            axes.set_xscale("log")
        if not numeric:
            axes.set_xticks(range(len(labels)), labels)
    axes.set(ylabel=f"{metric} (mean ± std over repeats)", title=title)
    if rest:
        axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    save_png(figure, path, dpi=120)
