"""Reading NumPy arrays a user points the CLI at."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from neurosim.errors import NeurosimError
from neurosim.memory import require


def load_rows(path: str | os.PathLike) -> np.ndarray:
    """A ``.npy`` array as rows: a 1-d array becomes one row. One-line errors (a
    ``.npz`` archive, a pickle, a header whose shape would not fit in memory)."""
    path = Path(path)
    if path.is_dir():
        raise NeurosimError(f"{path}: is a directory, not a .npy file")
    try:
        with open(path, "rb") as handle:
            if handle.read(4) == b"PK\x03\x04":
                raise NeurosimError(f"{path}: a .npz archive, not a .npy array (save one array)")
            handle.seek(0)
            version = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(handle)
    except FileNotFoundError:
        raise NeurosimError(f"{path}: no such file") from None
    except (ValueError, OSError, SyntaxError, TypeError):
        raise NeurosimError(f"{path}: not a NumPy .npy file") from None
    require(float(np.prod(shape, dtype=float)) * dtype.itemsize, f"{path} (shape {shape})")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError):
        raise NeurosimError(f"{path}: not a NumPy .npy file") from None
    return array[None, :] if array.ndim == 1 else array
