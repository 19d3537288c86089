"""Settle a crossbar netlist for rows of user inputs and collect what to save."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neurosim.circuit.inputs import drive_from_inputs
from neurosim.circuit.ir import Circuit
from neurosim.engine.energy import dissipated_power, energy
from neurosim.engine.readout import node_voltages
from neurosim.engine.relax import Equilibrium, relax
from neurosim.engine.sources import Sources, sources_from_drive
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import Crossbar, lower_crossbar
from neurosim.status import status_codes


@dataclass(frozen=True)
class InputEquilibria:
    """Equilibria of one netlist for rows of inputs (``inputs`` (n, width), model units)."""

    crossbar: Crossbar
    inputs: np.ndarray
    sources: Sources
    equilibrium: Equilibrium
    dtype: str

    def layer_states(self) -> dict[str, np.ndarray]:
        """Free layer -> (n, size) model units."""
        state = self.equilibrium.state.astype(np.float64)
        return {name: state[:, where] for name, where in self.crossbar.free_slices().items()}

    def layer_voltages(self) -> dict[str, np.ndarray]:
        """Every layer -> unit-node voltages (n, size) [V]."""
        volts = node_voltages(self.crossbar, self.sources, self.equilibrium.state)
        return {
            layer.name: np.stack([volts[f"{layer.name}_{i}"] for i in range(layer.size)], 1)
            for layer in self.crossbar.meta.layers
        }

    def record(self, *, netlist: str) -> dict:
        """What ``relax`` saves, as :func:`neurosim.io.equilibria_h5.write_equilibria`'s
        ``attrs``, ``datasets`` and ``groups`` (the engine writes no files)."""
        eq, cb = self.equilibrium, self.crossbar
        scaling = cb.meta.scaling
        state = eq.state.astype(np.float64)
        datasets = {
            "inputs": self.inputs,
            "residual": eq.residual,
            "passes": eq.passes,
            "converged": eq.converged,
            "status": status_codes(eq.status)[0],
            "power_w": dissipated_power(cb, self.sources, state),
        }
        try:
            datasets["energy"] = energy(cb, self.sources, state)
        except CircuitError:
            pass  # a mismatched circuit has no energy function; the file says so by omission
        attrs = {
            "netlist": netlist,
            "method": eq.method,
            "dtype": self.dtype,
            "tolerance": eq.tolerance,
            "amperes_per_unit": scaling.volts_per_unit * scaling.g_unit,
            "converged": int(eq.converged.sum()),
            "total": int(eq.converged.size),
            "status_names": list(status_codes(eq.status)[1]),
        }
        groups = {"state": self.layer_states(), "voltages": self.layer_voltages()}
        return {"attrs": attrs, "datasets": datasets, "groups": groups}


@dataclass(frozen=True)
class InputBatch:
    """A lowered crossbar and the sources of each input row, ready to settle."""

    crossbar: Crossbar
    inputs: np.ndarray
    sources: Sources

    def settle(
        self,
        *,
        progress: Callable[[int, int], None] | None = None,
        dtype: str = "float64",
        **options,
    ) -> InputEquilibria:
        """Relax the batch; ``options`` go to :func:`neurosim.engine.relax.relax`."""
        equilibrium = relax(
            self.crossbar,
            self.sources,
            dtype=np.dtype(dtype),
            progress=progress,
            throw=False,  # the file records every row's status
            **options,
        )
        return InputEquilibria(self.crossbar, self.inputs, self.sources, equilibrium, dtype)


def prepare_inputs(circuit: Circuit, inputs: np.ndarray) -> InputBatch:
    """Lower ``circuit`` and build the sources of each row of ``inputs`` (checked)."""
    if circuit.network is None:
        raise CircuitError("relax needs a neurosim network netlist (its *@neurosim metadata)")
    crossbar = lower_crossbar(circuit)
    rows = np.asarray(inputs)
    drive = drive_from_inputs(circuit.network, rows)
    sources = sources_from_drive(crossbar, drive, batch=rows.shape[0])
    return InputBatch(crossbar, rows.astype(np.float64), sources)
