"""The 1,797 8x8 handwritten digits shipped in ``data/`` (provenance: data/README.md)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from neurosim.errors import NeurosimError

DIGITS_FILE = "digits_8x8.npz"
N_DIGITS, N_PIXELS = 1797, 64


def data_dir() -> Path:
    """The dataset folder: ``$NEUROSIM_DATA`` if set, else the repository's ``data/``."""
    override = os.environ.get("NEUROSIM_DATA")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "data"


def load_digits(path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, labels)``: x float64 (1797, 64) in [-1, 1]; labels int64 (1797,) in 0..9.

    Pixels (0..16) are scaled as ``x = 2 * p / 16 - 1``.
    """
    path = Path(path) if path is not None else data_dir() / DIGITS_FILE
    try:
        with np.load(path) as archive:
            images, labels = archive["images"], archive["labels"]
    except FileNotFoundError:
        raise NeurosimError(f"digits data not found at {path} (set NEUROSIM_DATA)") from None
    except (KeyError, ValueError, OSError) as exc:
        raise NeurosimError(f"{path}: not a neurosim digits file ({exc})") from None
    if images.shape != (N_DIGITS, N_PIXELS) or labels.shape != (N_DIGITS,):
        raise NeurosimError(f"{path}: expected images (1797, 64) and labels (1797,)")
    x = images.astype(np.float64) / 16.0 * 2.0 - 1.0
    return x, labels.astype(np.int64)
