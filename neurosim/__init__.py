"""neurosim: neuromorphic analog-circuit simulator with a learning-rule backend.

The library's functions and classes are importable from here (loaded on first use, so
``import neurosim`` and the CLI start fast); see :mod:`neurosim.api`.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load_netlist": "neurosim.api",
    "write_netlist": "neurosim.api",
    "export": "neurosim.api",
    "relax": "neurosim.api",
    "check": "neurosim.api",
    "train": "neurosim.api",
    "sample": "neurosim.api",
    "metrics": "neurosim.api",
    "program": "neurosim.api",
    "evaluate": "neurosim.api",
    "sweep": "neurosim.api",
    "score": "neurosim.api",
    "released": "neurosim.api",
    "compose": "neurosim.api",
    "SweepConfig": "neurosim.sweeps.config",
    "SweepResults": "neurosim.io.sweep_h5",
    "Drive": "neurosim.devices.periphery",
    "Chip": "neurosim.host",
    "Circuit": "neurosim.circuit.ir",
    "TrainResult": "neurosim.learn.run",
    "Progress": "neurosim.learn.run",
    "FlowSettings": "neurosim.learn.settings",
    "ClassifySettings": "neurosim.learn.settings",
    "EulerSampling": "neurosim.samplers.settings",
    "DescentSampling": "neurosim.samplers.settings",
    "NesterovSampling": "neurosim.samplers.settings",
    "AdaptiveSampling": "neurosim.samplers.settings",
    "AnalogSampling": "neurosim.samplers.settings",
    "EqMSettings": "neurosim.learn.settings",
    "FluxSettings": "neurosim.learn.settings",
    "LangevinSampling": "neurosim.samplers.settings",
    "Readout": "neurosim.devices.periphery",
    "Samples": "neurosim.io.samples_h5",
    "QualityReport": "neurosim.scores.quality",
    "NeurosimError": "neurosim.errors",
    "SettingsError": "neurosim.validation",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'neurosim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
