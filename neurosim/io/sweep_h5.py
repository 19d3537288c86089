"""Sweep results in HDF5 (schema ``neurosim-sweep/1``), written atomically.

Layout (P points × R repeats)::

    /            attrs: schema, sweep (JSON: the sweep's record), netlist_sha256,
                 axes (JSON: [{key, values}], the grid's axes, first slowest)
    /seed        (P, R) int64: each repeat's seed
    /status      (P, R) int8: 0 not run yet, 1 done, 2 failed
    /reason      (P, R) strings: why a repeat failed ("" otherwise)
    /seconds     (P, R) float64: wall time of each repeat
    /metrics/... (P, R) float64 per metric; NaN where not measured
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosim.errors import NeurosimError
from neurosim.io.atomic import atomic_path

SCHEMA = "neurosim-sweep/1"


@dataclass
class SweepResults:
    """A sweep's results so far (module docstring); arrays (points, repeats)."""

    sweep: dict
    netlist_sha256: str
    seed: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    seconds: np.ndarray
    metrics: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls, sweep: dict, netlist_sha256: str, seeds: np.ndarray) -> SweepResults:
        """Results of a sweep with nothing run yet (``seeds``: (points, repeats))."""
        shape = seeds.shape
        return cls(
            sweep,
            netlist_sha256,
            np.asarray(seeds, dtype=np.int64),
            np.zeros(shape, dtype=np.int8),
            np.full(shape, "", dtype=object),
            np.full(shape, np.nan),
        )

    def record(
        self, point: int, repeat: int, metrics: dict, status: int, reason: str, seconds: float
    ) -> None:
        """Store one repeat's outcome."""
        for name, value in metrics.items():
            if name not in self.metrics:
                self.metrics[name] = np.full(self.seed.shape, np.nan)
            self.metrics[name][point, repeat] = value
        self.status[point, repeat] = status
        self.reason[point, repeat] = reason
        self.seconds[point, repeat] = seconds


def write_sweep(results: SweepResults, path: str | Path) -> None:
    """Write ``results`` to ``path`` atomically."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.attrs["schema"] = SCHEMA
        handle.attrs["sweep"] = json.dumps(results.sweep)
        handle.attrs["axes"] = json.dumps(results.sweep.get("axes", []))
        handle.attrs["netlist_sha256"] = results.netlist_sha256
        handle.create_dataset("seed", data=results.seed)
        handle.create_dataset("status", data=results.status)
        strings = h5py.string_dtype()
        handle.create_dataset("reason", data=results.reason.astype(object), dtype=strings)
        handle.create_dataset("seconds", data=results.seconds)
        group = handle.create_group("metrics")
        for name, values in results.metrics.items():
            group.create_dataset(name, data=values)


def read_sweep(path: str | Path) -> SweepResults:
    """The sweep results at ``path``; a one-line error for a file that is not one."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            schema = handle.attrs.get("schema")
            if schema != SCHEMA:
                raise NeurosimError(f"{path}: not a neurosim sweep file (schema {schema!r})")
            results = SweepResults(
                json.loads(handle.attrs["sweep"]),
                str(handle.attrs["netlist_sha256"]),
                handle["seed"][()],
                handle["status"][()],
                _strings(handle["reason"][()]),
                handle["seconds"][()],
                {name: ds[()] for name, ds in handle["metrics"].items()},
            )
    except (OSError, KeyError, ValueError) as exc:
        raise NeurosimError(f"{path}: cannot read the sweep results: {exc}") from None
    shape = results.seed.shape
    for name, values in (
        ("status", results.status),
        ("seconds", results.seconds),
        *results.metrics.items(),
    ):
        if values.shape != shape:
            raise NeurosimError(f"{path}: damaged sweep file ({name} has shape {values.shape})")
    return results


def _strings(values: np.ndarray) -> np.ndarray:
    """An HDF5 string dataset as an object array of str."""
    flat = [v.decode() if isinstance(v, bytes) else str(v) for v in values.ravel()]
    return np.array(flat, dtype=object).reshape(values.shape)
