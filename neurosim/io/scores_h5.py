"""Landscape scores in HDF5 (schema ``neurosim-scores/1``), written atomically.

Layout::

    /             attrs: schema, netlist, inputs (the files scored)
    /free_energy  float64 (n,): F(x) = E(x, h*) per input row, model units
    /power_w      float64 (n,): power dissipated there [W]
    /converged    bool (n,): whether the hidden units settled to the tolerance
"""

from __future__ import annotations

import os

import numpy as np

from neurosim.io.atomic import atomic_path

SCHEMA = "neurosim-scores/1"
DATASETS = ("free_energy", "power_w", "converged")


def write_scores(
    path: str | os.PathLike, scores: dict[str, np.ndarray], netlist: str, inputs: str
) -> None:
    """Write ``scores`` (:func:`neurosim.api.score`) of ``inputs`` on ``netlist``."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.attrs["schema"] = SCHEMA
        handle.attrs["netlist"], handle.attrs["inputs"] = netlist, inputs
        for name in DATASETS:
            handle.create_dataset(name, data=np.asarray(scores[name]))
