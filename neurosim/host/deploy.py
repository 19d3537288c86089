"""A chip programmed onto devices: the circuit with each device as a device model made it.

Every device of the crossbar's arrays (the conductance pairs of the weights and biases)
is programmed to the conductance the netlist gives it, through a device model
(:mod:`neurosim.devices`), and optionally aged to a time after programming. What comes
out is written into the circuit — each device's element value — so ngspice sees the
same chip, and a ``*@neurosim programmed`` record says which model, settings, seed and
time made it. The host's targets stay the netlist's values (what the host asked for).

Draws come from one generator seeded by ``seed``, array by array in name order: the
same seed gives the same chip. A device at 0 S (an open cell) is written as
``OPEN_CONDUCTANCE``: a resistor cannot be infinite in a netlist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from neurosim.circuit.ir import Circuit
from neurosim.devices.presets import model_record
from neurosim.host.chip import Chip
from neurosim.netlist.write import netlist_text

OPEN_CONDUCTANCE = 1e-12  # S: ngspice's gmin; a 0 S device is written as 1e12 Ω


@dataclass(frozen=True)
class Deployment:
    """The programmed ``circuit``, its ``record`` (also its last ``programmed`` entry),
    the number of ``devices`` programmed, how many targets were ``out_of_range`` (the
    device could not take them), and the mean relative deviation |G − G_T|/G_T."""

    circuit: Circuit
    record: dict
    devices: int
    out_of_range: int
    mean_deviation: float


def deploy(circuit: Circuit, model, *, seconds: float | None = None, seed: int = 0) -> Deployment:
    """``circuit``'s devices programmed onto ``model`` (a device model), aged
    ``seconds`` after programming (None: right after programming)."""
    chip = Chip(circuit)
    state = chip.device_state()
    rng = np.random.default_rng(seed)
    count = out_of_range = 0
    deviation = 0.0
    for key in sorted(k for k in state if k.startswith("conductance/")):
        target = state[key]
        programmed = model.program(target, rng)
        g = programmed.g if seconds is None else model.at_time(programmed, seconds, rng)
        g = np.maximum(g, OPEN_CONDUCTANCE)
        state[key] = g
        count += target.size
        out_of_range += int(np.count_nonzero(programmed.target != target))
        reached = target > 0
        deviation += float(np.sum(np.abs(g[reached] - target[reached]) / target[reached]))
    chip.load_device_state(state)
    record = {
        **model_record(model),
        "seed": int(seed),
        "seconds": seconds,
        "source_sha256": hashlib.sha256(netlist_text(circuit).encode()).hexdigest(),
    }
    programmed = chip.circuit()
    programmed = replace(programmed, programmed=(*circuit.programmed, record))
    return Deployment(programmed, record, count, out_of_range, deviation / max(count, 1))
