"""Generated samples in HDF5 (schema ``neurosim-samples/1``), written atomically.

Layout::

    /          attrs: schema, settings (JSON: how the samples were made — sampler,
               readout, n, dt, t1, seed, source, ...)
    /samples   float64 (n, dim), model units; digits: (n, 64) in [-1, 1]
    /steps     int64 (n,): each sample's step count (optional: files before it have none)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim.errors import NeurosimError
from neurosim.io.atomic import atomic_path

SCHEMA = "neurosim-samples/1"


@dataclass(frozen=True)
class Samples:
    """``samples`` (n, dim), the ``settings`` that produced them and each sample's
    ``steps`` (n,) (None where the file does not say); ``circuit``: the circuit that
    ran where it is not the source's own (the analog sampler's released circuit; not
    stored in the file)."""

    samples: np.ndarray
    settings: dict
    steps: np.ndarray | None = None
    circuit: object | None = None


def write_samples(
    path: str | os.PathLike, samples: np.ndarray, settings: dict, steps: np.ndarray | None = None
) -> None:
    """Write ``samples`` (n, dim), ``settings`` (JSON-serialisable) and each sample's
    ``steps`` (n,) if given, atomically."""
    import h5py

    array = np.asarray(samples, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"samples must be 2-d (n, dim), not shape {array.shape}")
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.attrs["schema"] = SCHEMA
        handle.attrs["settings"] = json.dumps(settings, sort_keys=True)
        handle.create_dataset("samples", data=array)
        if steps is not None:
            handle.create_dataset("steps", data=np.asarray(steps, dtype=np.int64))


def read_samples(path: str | os.PathLike) -> Samples:
    """Read a samples file; one-line :class:`NeurosimError` if it is not one."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise NeurosimError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as handle:
            if handle.attrs.get("schema") != SCHEMA:
                raise NeurosimError(f"{path}: not a {SCHEMA} file")
            samples = np.asarray(handle["samples"][()], dtype=np.float64)
            settings = json.loads(handle.attrs.get("settings", "{}"))
            steps = handle["steps"][()] if "steps" in handle else None
    except OSError as exc:
        raise NeurosimError(f"{path}: not a readable HDF5 file ({exc})") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise NeurosimError(f"{path}: damaged samples file ({exc})") from None
    if samples.ndim != 2:
        raise NeurosimError(f"{path}: samples have shape {samples.shape}, expected (n, dim)")
    if not np.all(np.isfinite(samples)):
        raise NeurosimError(f"{path}: samples hold NaN or inf")
    if steps is not None and steps.shape != (samples.shape[0],):
        raise NeurosimError(
            f"{path}: steps have shape {steps.shape}, expected ({samples.shape[0]},)"
        )
    return Samples(samples, settings, steps)
