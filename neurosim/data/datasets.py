"""Datasets training takes: the shipped digits, two 2-D toy sets, or a user's file.

``load_dataset(source)``:

- ``"digits"``: the 1,797 8×8 digits in [−1, 1] (:mod:`neurosim.data.digits`);
- ``"moons"``: 2,000 points on two interleaved half circles (Gaussian noise σ 0.05 in
  the moons' units), labels 0/1 by moon; ``"ring8"``: 2,000 points from 8 Gaussians
  (σ 0.05) centred on a circle of radius 0.8, labels the mode. Both are scaled into
  [−1, 1] and drawn with a fixed generator (``TOY_SEED``): the same points every time;
- a path to a ``.npy`` (x), ``.npz`` (``x``, optional ``labels``) or HDF5 file
  (datasets ``x``, optional ``labels``).

x is (n, dim) float64, finite; labels (n,) whole numbers ≥ 0. Values are used as they
are, in model units: the visible or input units take them directly, so they should lie
in about [−1, 1]; a dataset with |x| > ``MAX_ABS`` is refused as unscaled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim.errors import NeurosimError

TOY_SETS = ("moons", "ring8")
TOY_SEED, TOY_POINTS, TOY_NOISE = 20261206, 2000, 0.05
RING_RADIUS, RING_MODES = 0.8, 8
MAX_ABS = 10.0


@dataclass(frozen=True)
class Dataset:
    """``x`` (n, dim) float64 and ``labels`` (n,) int64 or None; ``name`` says which."""

    name: str
    x: np.ndarray
    labels: np.ndarray | None

    @property
    def dim(self) -> int:
        return int(self.x.shape[1])


def ring_centres() -> np.ndarray:
    """The 8 modes of ``ring8`` (8, 2)."""
    angles = 2 * np.pi * np.arange(RING_MODES) / RING_MODES
    return RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def load_dataset(source: str) -> Dataset:
    """The dataset ``source`` names (module docstring); one-line errors."""
    if source == "digits":
        from neurosim.data.digits import load_digits

        x, labels = load_digits()
        return Dataset("digits", x, labels)
    rng = np.random.default_rng(TOY_SEED)
    if source == "moons":
        labels = rng.integers(0, 2, TOY_POINTS)
        angle = rng.uniform(0, np.pi, TOY_POINTS)
        x = np.where(
            labels[:, None] == 0,
            np.stack([np.cos(angle), np.sin(angle)], axis=1),
            np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], axis=1),
        )
        x = x + TOY_NOISE * rng.standard_normal(x.shape)
        x = (x - x.mean(axis=0)) / np.abs(x - x.mean(axis=0)).max()  # into [-1, 1]
        return Dataset("moons", x, labels.astype(np.int64))
    if source == "ring8":
        labels = rng.integers(0, RING_MODES, TOY_POINTS)
        x = ring_centres()[labels] + TOY_NOISE * rng.standard_normal((TOY_POINTS, 2))
        return Dataset("ring8", x, labels.astype(np.int64))
    return _from_file(Path(source))


def _from_file(path: Path) -> Dataset:
    if not path.is_file():
        known = ", ".join(("digits", *TOY_SETS))
        raise NeurosimError(f"--data {path}: no such file (or one of {known})")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            x, labels = np.load(path, allow_pickle=False), None
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                if "x" not in archive:
                    raise NeurosimError(f"{path}: a .npz dataset needs an array named 'x'")
                x = archive["x"]
                labels = archive["labels"] if "labels" in archive else None
        elif suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as handle:
                if "x" not in handle:
                    raise NeurosimError(f"{path}: an HDF5 dataset needs a dataset named 'x'")
                x = handle["x"][()]
                labels = handle["labels"][()] if "labels" in handle else None
        else:
            raise NeurosimError(f"{path}: a dataset is a .npy, .npz or HDF5 (.h5) file")
    except (ValueError, OSError) as exc:
        raise NeurosimError(f"{path}: not a readable dataset ({exc})") from None
    return Dataset(str(path), *_checked(path, x, labels))


def _checked(path: Path, x, labels) -> tuple[np.ndarray, np.ndarray | None]:
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise NeurosimError(f"{path}: x must be real numbers, not {x.dtype}")
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise NeurosimError(f"{path}: x must be (n, dim) with n >= 2, not shape {x.shape}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise NeurosimError(f"{path}: x holds NaN or inf")
    if np.abs(x).max() > MAX_ABS:
        raise NeurosimError(
            f"{path}: x reaches {np.abs(x).max():g}; the units take the values as they are "
            f"(model units, about [-1, 1]): scale the data first"
        )
    if labels is None:
        return x, None
    labels = np.asarray(labels)
    if labels.shape != (x.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise NeurosimError(f"{path}: labels must be {x.shape[0]} whole numbers")
    if labels.size and labels.min() < 0:
        raise NeurosimError(f"{path}: labels must be >= 0")
    return x, labels.astype(np.int64)
