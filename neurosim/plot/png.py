"""Writing a matplotlib figure to a PNG file atomically (one definition for every plot)."""

from __future__ import annotations

import os


def save_png(figure, path: str | os.PathLike, dpi: int = 100) -> None:
    """Write ``figure`` to the PNG ``path`` atomically, then close it (also on failure)."""
    import matplotlib.pyplot as plt

    from neurosim.io.atomic import atomic_path

    try:
        with atomic_path(path) as tmp:
            figure.savefig(tmp, format="png", dpi=dpi)
    finally:
        plt.close(figure)
