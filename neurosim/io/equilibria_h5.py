"""Batch equilibria in HDF5 (schema ``neurosim-equilibria/2``; ``/1`` files still read).

Layout::

    /                 attrs: schema, network (JSON), netlist, method, dtype, tolerance,
                      amperes_per_unit (residuals × this = amperes), converged, total,
                      status_names (what each /status code means; /2)
    /inputs           (n, width)   the input rows, model units
    /state/<layer>    (n, size)    free layers' unit values, model units
    /voltages/<layer> (n, size)    unit-node voltages [V] of every layer (inputs too)
    /residual         (n,)         max |KCL residual| per row, model units
    /passes           (n,)         solver passes used
    /converged        (n,)         bool
    /status           (n,)         int8: how each row stopped (status_names; /2)
    /energy           (n,)         model units (absent if the circuit has no energy)
    /power_w          (n,)         dissipated power [W] at equilibrium

A circuit of another family than the crossbar (:mod:`neurosim.engine.systems`) has no
``network`` attribute but ``family`` and ``sources`` (the names of the input columns:
its independent sources, volts and amperes); its ``/state`` and ``/voltages`` hold one
(n,) dataset per node [V], its residuals are in the system's units, and it has no
``amperes_per_unit`` or ``/power_w``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

import numpy as np

from neurosim.circuit.meta import NetworkMeta
from neurosim.io.atomic import atomic_path

SCHEMA = "neurosim-equilibria/2"
READABLE = ("neurosim-equilibria/1", SCHEMA)


def write_equilibria(
    path: str | os.PathLike,
    meta: NetworkMeta | None,
    attrs: Mapping[str, object],
    datasets: Mapping[str, np.ndarray],
    groups: Mapping[str, Mapping[str, np.ndarray]],
) -> None:
    """Write one file atomically: root ``attrs``, top-level ``datasets``, ``groups``;
    ``meta`` None for a circuit that is not a neurosim network."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.attrs["schema"] = SCHEMA
        if meta is not None:
            handle.attrs["network"] = json.dumps(meta.to_dict(), sort_keys=True)
        for key, value in attrs.items():
            handle.attrs[key] = value
        for name, data in datasets.items():
            handle.create_dataset(name, data=np.asarray(data))
        for group_name, members in groups.items():
            group = handle.create_group(group_name)
            for name, data in members.items():
                group.create_dataset(name, data=np.asarray(data))


def read_statuses(path: str | os.PathLike) -> np.ndarray:
    """Each row's :class:`neurosim.status.Status`, (n,): from ``/status`` (``/2``),
    or for a ``/1`` file from ``/converged`` and ``/residual`` (a row that did not
    converge either broke down — a non-finite residual — or ran out of passes)."""
    import h5py

    from neurosim.status import sample_status, statuses_from_codes

    with h5py.File(path, "r") as handle:
        schema = handle.attrs.get("schema")
        if schema not in READABLE:
            raise ValueError(f"{path}: not a neurosim equilibria file (schema {schema!r})")
        if "status" in handle:
            return statuses_from_codes(handle["status"][()], handle.attrs["status_names"])
        residual = np.where(handle["converged"][()], 0.0, handle["residual"][()])
        return sample_status(residual, 0.0)
