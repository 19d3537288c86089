"""Batch equilibria in HDF5 (schema ``neurosim-equilibria/1``).

Layout::

    /                 attrs: schema, network (JSON), netlist, method, dtype, tolerance,
                      amperes_per_unit (residuals × this = amperes), converged, total
    /inputs           (n, width)   the input rows, model units
    /state/<layer>    (n, size)    free layers' unit values, model units
    /voltages/<layer> (n, size)    unit-node voltages [V] of every layer (inputs too)
    /residual         (n,)         max |KCL residual| per row, model units
    /passes           (n,)         solver passes used
    /converged        (n,)         bool
    /energy           (n,)         model units (absent if the circuit has no energy)
    /power_w          (n,)         dissipated power [W] at equilibrium
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

import numpy as np

from neurosim.circuit.meta import NetworkMeta
from neurosim.io.atomic import atomic_path

SCHEMA = "neurosim-equilibria/1"


def write_equilibria(
    path: str | os.PathLike,
    meta: NetworkMeta,
    attrs: Mapping[str, object],
    datasets: Mapping[str, np.ndarray],
    groups: Mapping[str, Mapping[str, np.ndarray]],
) -> None:
    """Write one file atomically: root ``attrs``, top-level ``datasets``, ``groups``."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.attrs["schema"] = SCHEMA
        handle.attrs["network"] = json.dumps(meta.to_dict(), sort_keys=True)
        for key, value in attrs.items():
            handle.attrs[key] = value
        for name, data in datasets.items():
            handle.create_dataset(name, data=np.asarray(data))
        for group_name, members in groups.items():
            group = handle.create_group(group_name)
            for name, data in members.items():
                group.create_dataset(name, data=np.asarray(data))
