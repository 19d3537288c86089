"""Reading NumPy arrays a user points the CLI at."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from neurosim.errors import NeurosimError


def load_rows(path: str | os.PathLike) -> np.ndarray:
    """A ``.npy`` array as rows: a 1-d array becomes one row. One-line errors."""
    path = Path(path)
    if path.is_dir():
        raise NeurosimError(f"{path}: is a directory, not a .npy file")
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise NeurosimError(f"{path}: no such file") from None
    except (ValueError, OSError):
        raise NeurosimError(f"{path}: not a NumPy .npy file") from None
    return array[None, :] if array.ndim == 1 else array
