"""Training checkpoints in HDF5 (schema ``neurosim-checkpoint/4``), written atomically.

Layout::

    /              attrs: schema, network (JSON), settings (JSON: the objective's name
                   and its training settings, :mod:`neurosim.learn.settings`), config
                   (JSON: the netlist trained and the fingerprint of its fixed
                   elements), rng (JSON: how each epoch's generator is made, and the
                   next epoch's bit_generator state), epoch (epochs done)
    /devices/...   the chip's state training continues from
                   (:meth:`neurosim.host.Chip.device_state`): conductance/<array>, every
                   device's conductance [S]; target/<array>, the host's target of each
                   device pair (model units)
    /params/...    model parameters θ = (G⁺ − G⁻)/g_unit of the forward arrays (the same
                   group as ``neurosim-params/1``), for ``export --params`` and reading
    /optimizer/... optimiser state arrays; attrs: step
    /history/...   one value per finished epoch: seconds, and the objective's
                   metrics (flow: loss, mse, grad_norm, passes, unsettled)

Earlier schemas keep loading: ``/3`` has no ``settings`` attribute (its ``config``
holds the settings and the run's facts in one flat record, which is read as both);
``/2`` also has no devices (its parameters are programmed).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neurosim.circuit.meta import NetworkMeta
from neurosim.errors import NeurosimError
from neurosim.io.atomic import atomic_path

SCHEMA = "neurosim-checkpoint/4"
READABLE = ("neurosim-checkpoint/2", "neurosim-checkpoint/3", SCHEMA)
WITH_DEVICES = ("neurosim-checkpoint/3", SCHEMA)


@dataclass
class Checkpoint:
    """Everything needed to continue training exactly where it stopped."""

    meta: NetworkMeta
    config: dict
    params: dict[str, np.ndarray]
    optimizer: dict
    rng_state: dict
    history: dict[str, list[float]]
    devices: dict[str, np.ndarray] = field(default_factory=dict)  # empty in a /2 file
    settings: dict = field(default_factory=dict)  # the objective and its settings

    @property
    def epoch(self) -> int:
        """Epochs done (every epoch records its ``seconds``)."""
        return len(self.history.get("seconds", []))


def write_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` to ``path`` atomically (a reader sees the old or the new)."""
    import h5py

    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        handle.attrs["schema"] = SCHEMA
        handle.attrs["network"] = json.dumps(checkpoint.meta.to_dict(), sort_keys=True)
        handle.attrs["settings"] = json.dumps(checkpoint.settings, sort_keys=True)
        handle.attrs["config"] = json.dumps(checkpoint.config, sort_keys=True)
        handle.attrs["rng"] = json.dumps(checkpoint.rng_state)
        handle.attrs["epoch"] = checkpoint.epoch
        devices = handle.create_group("devices")
        for name, value in checkpoint.devices.items():
            devices.create_dataset(name, data=np.asarray(value, dtype=np.float64))
        params = handle.create_group("params")
        for name, value in checkpoint.params.items():
            params.create_dataset(name, data=np.asarray(value, dtype=np.float64))
        optimizer = handle.create_group("optimizer")
        optimizer.attrs["step"] = int(checkpoint.optimizer.get("step", 0))
        for name, value in checkpoint.optimizer.items():
            if name != "step":
                optimizer.create_dataset(name, data=np.asarray(value))
        history = handle.create_group("history")
        for name, values in checkpoint.history.items():
            history.create_dataset(name, data=np.asarray(values, dtype=np.float64))


def read_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint; one-line :class:`NeurosimError` if it is not one."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise NeurosimError(f"{path}: no such checkpoint")
    try:
        with h5py.File(path, "r") as handle:
            if handle.attrs.get("schema") not in READABLE:
                raise NeurosimError(f"{path}: not a {SCHEMA} file")
            _require(handle)
            optimizer = {
                "step": int(handle["optimizer"].attrs["step"]),
                **_datasets(handle["optimizer"]),
            }
            config = json.loads(handle.attrs["config"])
            checkpoint = Checkpoint(
                meta=NetworkMeta.from_dict(json.loads(handle.attrs["network"])),
                config=config,
                params={k: np.asarray(v[()]) for k, v in handle["params"].items()},
                optimizer=optimizer,
                rng_state=json.loads(handle.attrs["rng"]),
                history={k: list(np.asarray(v[()])) for k, v in handle["history"].items()},
                devices=_datasets(handle.get("devices")),
                settings=_settings(handle, config),
            )
            _validate(checkpoint, int(handle.attrs["epoch"]), handle.attrs["schema"])
            return checkpoint
    except OSError as exc:
        raise NeurosimError(f"{path}: not a readable HDF5 file ({exc})") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise NeurosimError(f"{path}: damaged checkpoint ({exc})") from None


def read_checkpoint_settings(path: str | os.PathLike) -> dict:
    """Only the training settings of a checkpoint (what ``sample`` needs of a run: α);
    one-line :class:`NeurosimError` if the file has none."""
    import h5py

    path = Path(path)
    try:
        with h5py.File(path, "r") as handle:
            if handle.attrs.get("schema") not in READABLE:
                raise NeurosimError(f"{path}: not a {SCHEMA} file")
            settings = _settings(handle, json.loads(handle.attrs["config"]))
    except OSError as exc:
        raise NeurosimError(f"{path}: not a readable HDF5 file ({exc})") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise NeurosimError(f"{path}: damaged checkpoint settings ({exc})") from None
    return settings


def _settings(handle, config: dict) -> dict:
    """The settings record: the ``settings`` attribute, or (before ``/4``) the config."""
    if not isinstance(config, dict):
        raise ValueError("the config is not a JSON object")
    if handle.attrs["schema"] != SCHEMA:
        return dict(config)
    settings = json.loads(handle.attrs["settings"])
    if not isinstance(settings, dict):
        raise ValueError("the settings are not a JSON object")
    return settings


def _require(handle) -> None:
    """Raise ``ValueError`` naming the first attribute or group a checkpoint lacks."""
    import h5py

    required = ("network", "config", "rng", "epoch")
    for name in required + (("settings",) if handle.attrs["schema"] == SCHEMA else ()):
        if name not in handle.attrs:
            raise ValueError(f"the {name!r} attribute is missing")
    for name in ("params", "optimizer", "history"):
        if not isinstance(handle.get(name), h5py.Group):
            raise ValueError(f"the {name!r} group is missing")
    if "step" not in handle["optimizer"].attrs:
        raise ValueError("the optimizer's 'step' attribute is missing")


def _validate(checkpoint: Checkpoint, epoch: int, schema: str) -> None:
    """Raise ``ValueError`` naming what is inconsistent in a checkpoint just read: the
    history (one finite ``seconds`` per epoch, every series as long), the parameters
    (the network's finite arrays), the device state, the optimiser arrays and the
    generator state (the next epoch's)."""
    from neurosim.circuit.meta import check_params

    history = checkpoint.history
    if "seconds" not in history:
        raise ValueError("history/seconds is missing")
    if epoch < 1 or len(history["seconds"]) != epoch:
        raise ValueError(
            f"history/seconds has {len(history['seconds'])} epochs, the file says {epoch}"
        )
    for name, values in history.items():
        if len(values) != epoch:
            raise ValueError(f"history/{name} has {len(values)} values for {epoch} epochs")
    if not all(np.isfinite(v) and v >= 0 for v in history["seconds"]):
        raise ValueError("history/seconds holds negative, NaN or inf values")
    check_params(checkpoint.meta, checkpoint.params)
    if schema in WITH_DEVICES and not checkpoint.devices:
        raise ValueError("the devices group is missing or empty")
    for group, arrays in (("devices", checkpoint.devices), ("optimizer", checkpoint.optimizer)):
        for name, value in arrays.items():
            if name != "step" and not np.all(np.isfinite(value)):
                raise ValueError(f"{group}/{name} holds NaN or inf")
    if checkpoint.rng_state.get("next_epoch") != epoch:
        raise ValueError(f"the generator state is not the one for epoch {epoch}")


def _datasets(group) -> dict[str, np.ndarray]:
    """Every dataset under ``group`` (None: none), by its path inside it."""
    import h5py

    found: dict[str, np.ndarray] = {}
    if group is not None:
        group.visititems(
            lambda name, obj: (
                found.__setitem__(name, np.asarray(obj[()]))
                if isinstance(obj, h5py.Dataset)
                else None
            )
        )
    return found
