"""Datasets training takes: the shipped digits, four 2-D toy sets, or a user's file.

``load_dataset(source)``:

- ``"digits"``: the 1,797 8×8 digits in [−1, 1] (:mod:`neurosim.data.digits`);
- the 2-D toy sets, 2,000 points each, drawn with a fixed generator (``TOY_SEED``):
  the same points every time. ``"moons"``: two interleaved half circles (Gaussian
  noise σ 0.05 in the moons' units) scaled into [−1, 1], labels 0/1 by moon;
  ``"ring8"``: 8 isotropic Gaussians of standard deviation 0.1 centred on the circle
  of radius 0.75 at angles kπ/4, labels the mode; ``"checkerboard"``: uniform over the
  8 dark squares of a 4×4 board on [−1, 1]² (a square dark when its row and column
  indices have an even sum), labels the square; ``"mix3"``: a mixture of 3 isotropic
  Gaussians (σ 0.15, equal weights) centred at radius 0.6 on angles π/2, 7π/6 and
  11π/6, labels the component;
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

TOY_SETS = ("moons", "ring8", "checkerboard", "mix3")
TOY_SEED, TOY_POINTS, MOONS_NOISE = 20261206, 2000, 0.05
RING_RADIUS, RING_MODES, RING_STD = 0.75, 8, 0.1
MIX_RADIUS, MIX_ANGLES, MIX_STD = 0.6, np.pi * np.array([1 / 2, 7 / 6, 11 / 6]), 0.15
BOARD = 4  # squares per side of the checkerboard
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


def mix_centres() -> np.ndarray:
    """The 3 components' centres of ``mix3`` (3, 2)."""
    return MIX_RADIUS * np.stack([np.cos(MIX_ANGLES), np.sin(MIX_ANGLES)], axis=1)


def dark_squares() -> np.ndarray:
    """The lower-left corners (8, 2) of the checkerboard's dark squares."""
    side = 2.0 / BOARD
    corners = [(i, j) for i in range(BOARD) for j in range(BOARD) if (i + j) % 2 == 0]
    return -1.0 + side * np.array(corners, dtype=float)


def load_dataset(source: str) -> Dataset:
    """The dataset ``source`` names (module docstring); one-line errors."""
    if source == "digits":
        from neurosim.data.digits import load_digits

        x, labels = load_digits()
        return Dataset("digits", x, labels)
    if source in TOY_SETS:
        return toy_points(source, TOY_POINTS, np.random.default_rng(TOY_SEED))
    return _from_file(Path(source))


def toy_points(name: str, n: int, rng: np.random.Generator) -> Dataset:
    """``n`` points of toy set ``name`` (one of TOY_SETS) drawn from ``rng``: the shipped
    set is ``n`` = TOY_POINTS from the generator seeded TOY_SEED; other draws are
    independent samples of the same law (for a baseline of two draws)."""
    if name == "moons":
        labels = rng.integers(0, 2, n)
        angle = rng.uniform(0, np.pi, n)
        x = np.where(
            labels[:, None] == 0,
            np.stack([np.cos(angle), np.sin(angle)], axis=1),
            np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], axis=1),
        )
        x = x + MOONS_NOISE * rng.standard_normal(x.shape)
        x = (x - x.mean(axis=0)) / np.abs(x - x.mean(axis=0)).max()  # into [-1, 1]
    elif name == "ring8":
        labels = rng.integers(0, RING_MODES, n)
        x = ring_centres()[labels] + RING_STD * rng.standard_normal((n, 2))
    elif name == "checkerboard":
        corners = dark_squares()
        labels = rng.integers(0, len(corners), n)
        x = corners[labels] + (2.0 / BOARD) * rng.uniform(size=(n, 2))
    elif name == "mix3":
        labels = rng.integers(0, len(MIX_ANGLES), n)
        x = mix_centres()[labels] + MIX_STD * rng.standard_normal((n, 2))
    else:
        raise NeurosimError(f"unknown toy set {name!r} (one of {', '.join(TOY_SETS)})")
    return Dataset(name, x, labels.astype(np.int64))


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
