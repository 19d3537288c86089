"""Model parameters in HDF5: a ``params`` group of arrays plus the network metadata.

Layout (schema ``neurosim-params/1``; training checkpoints use the same ``params``
group and ``network`` attribute, so they can be read here too)::

    /            attrs: schema, network (JSON of NetworkMeta)
    /params/w0   float64 (size_a, size_b)   ...   /params/b_<layer>  float64 (size,)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from neurosim.circuit.meta import NetworkMeta
from neurosim.errors import NeurosimError
from neurosim.io.atomic import atomic_path

SCHEMA = "neurosim-params/1"


def write_params(path: str | os.PathLike, meta: NetworkMeta, params: dict) -> None:
    """Write ``params`` (model units) and ``meta`` to ``path`` atomically."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.attrs["schema"] = SCHEMA
        handle.attrs["network"] = json.dumps(meta.to_dict(), sort_keys=True)
        group = handle.create_group("params")
        for name, value in params.items():
            group.create_dataset(name, data=np.asarray(value, dtype=np.float64))


def read_params(path: str | os.PathLike) -> tuple[NetworkMeta, dict[str, np.ndarray]]:
    """Read ``(meta, params)`` from a params file or a training checkpoint."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise NeurosimError(f"{path}: no such file")
    try:
        with h5py.File(path, "r") as handle:
            if "params" not in handle or "network" not in handle.attrs:
                raise NeurosimError(f"{path}: no 'params' group or 'network' attribute")
            meta = NetworkMeta.from_dict(json.loads(handle.attrs["network"]))
            params = {name: np.asarray(data[()]) for name, data in handle["params"].items()}
    except OSError as exc:
        raise NeurosimError(f"{path}: not a readable HDF5 file ({exc})") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise NeurosimError(f"{path}: bad network metadata ({exc})") from None
    return meta, params
