"""A chip programmed onto devices: the circuit with each device as a device model made it.

Every device of the crossbar's arrays (the conductance pairs of the weights and biases),
or of a deep resistive network (each resistor), is programmed to the conductance the
netlist gives it, through a device model (:mod:`neurosim.devices`), and optionally aged
to a time after programming. What comes out is written into the circuit — each device's
element value — so ngspice sees the same chip, and a ``*@neurosim programmed`` record
says which model, settings, seed and time made it. The host's targets stay the netlist's
values (what the host asked for).

Global drift compensation (aihwkit's default, ``GlobalDriftCompensation``): right after
programming the host reads every weight array with one-hot rows, and again at the time
asked for; α = reference/now of the mean |column reading| scales the readout. Here the
readings are Σ|G⁺ − G⁻| over each array's pairs (what one-hot reads give, without read
noise: the readout path has none yet), and the scaling is written into the circuit as a
gain α on every unit's injection amplifier (the column current it feeds into the unit),
so ngspice sees it too. A gain ≠ 1 makes the circuit one without an energy function for
the engine (it settles it along its own dynamics).

Draws come from one generator seeded by ``seed``, array by array in name order: the same
seed gives the same chip. An oscillator network has no device to program (its couplings,
fields and locking strengths are behavioural sources), and a resistive one no amplifier
(its inputs are sources, its units bare nodes): both are refused by name, as is drift
compensation, which scales the crossbar's injection amplifiers. A device at 0 S (an open
cell) is written as ``OPEN_CONDUCTANCE``: a resistor cannot be infinite in a netlist.

The amplifiers' errors (:mod:`neurosim.devices.amplifiers`), when given, are written
into the drivers' and injections' elements too, and named in the record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from neurosim.circuit.activations import get_activation
from neurosim.circuit.ir import Circuit
from neurosim.circuit.templates import (
    Driver,
    driver_expression,
    driver_parameters,
    scaled_injection,
)
from neurosim.devices.amplifiers import AmplifierErrors, Amplifiers
from neurosim.devices.presets import model_record
from neurosim.errors import CircuitError
from neurosim.host import chip_for
from neurosim.host.chip import Chip
from neurosim.host.oscillator import NO_DEVICES
from neurosim.host.programming import OPEN_CONDUCTANCE
from neurosim.host.resistive import ResistiveChip
from neurosim.netlist.write import netlist_text
from neurosim.validation import SettingsError

AMPLIFIER_STREAM = 2  # the amplifiers' draws: generator [seed, 2], apart from the devices'


@dataclass(frozen=True)
class Deployment:
    """The programmed ``circuit``, its ``record`` (also its last ``programmed`` entry),
    the number of ``devices`` programmed, how many targets were ``out_of_range`` (the
    device could not take them), the mean relative deviation |G − G_T|/G_T, and the
    drift ``compensation`` gain α written into the injection amplifiers (None: none)."""

    circuit: Circuit
    record: dict
    devices: int
    out_of_range: int
    mean_deviation: float
    compensation: float | None = None


@dataclass(frozen=True)
class Placement:
    """What programming a chip's devices did: ``devices`` programmed, targets
    ``out_of_range``, the mean relative deviation |G − G_T|/G_T, and the global drift
    ``compensation`` α the weight arrays' one-hot readings give (None if they read 0)."""

    devices: int
    out_of_range: int
    mean_deviation: float
    compensation: float | None


def program_devices(
    chip: Chip | ResistiveChip, model, *, seconds: float | None = None, seed: int = 0
) -> Placement:
    """Program every device of ``chip`` (in place) onto ``model``, toward the conductance
    it holds now, aged ``seconds`` after programming (None: right after); the host's
    targets are left as they are. Draws: one generator seeded by ``seed``, array by array
    in name order."""
    if not hasattr(model, "at_time"):
        raise SettingsError(
            "device",
            f"{model.name!r} is a pulsed-update device: it is for training "
            "(`train --device`); a trained netlist is programmed onto ideal, pcm or generic",
        )
    paired = isinstance(chip, Chip)  # a crossbar's weight arrays: pairs (G⁺, G⁻)
    state = chip.device_state()
    rng = np.random.default_rng(seed)
    count = out_of_range = 0
    deviation = reference = now = 0.0
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
        if paired and key.startswith("conductance/w"):  # the weight arrays' one-hot readings
            reference += float(np.sum(np.abs(programmed.g[..., 0] - programmed.g[..., 1])))
            now += float(np.sum(np.abs(g[..., 0] - g[..., 1])))
    chip.load_device_state(state)
    return Placement(
        count, out_of_range, deviation / max(count, 1), reference / now if now else None
    )


def deploy(
    circuit: Circuit,
    model,
    *,
    seconds: float | None = None,
    seed: int = 0,
    compensate: bool = False,
    amplifiers: Amplifiers | None = None,
) -> Deployment:
    """``circuit``'s devices programmed onto ``model`` (a device model), aged
    ``seconds`` after programming (None: right after programming); with ``compensate``,
    global drift compensation (module docstring); with ``amplifiers``, each amplifier
    made with its own errors (:mod:`neurosim.devices.amplifiers`; drawn from ``seed``
    apart from the devices' draws, so the devices are the same with or without)."""
    chip = chip_for(circuit)
    if not isinstance(chip, Chip | ResistiveChip):
        raise CircuitError(NO_DEVICES)
    if isinstance(chip, ResistiveChip):
        if compensate:
            raise CircuitError(
                "drift compensation scales a crossbar's injection amplifiers; a resistive "
                "network has none"
            )
        if amplifiers is not None and not amplifiers.ideal():
            raise CircuitError(
                "a resistive network has no amplifiers (its inputs are voltage sources, its "
                "units bare nodes): --amplifier errors do not apply"
            )
    placed = program_devices(chip, model, seconds=seconds, seed=seed)
    alpha = placed.compensation if compensate else None
    record = {
        **model_record(model),
        "seed": int(seed),
        "seconds": seconds,
        "compensation": alpha,
        "source_sha256": hashlib.sha256(netlist_text(circuit).encode()).hexdigest(),
    }
    programmed = chip.circuit()
    if isinstance(chip, ResistiveChip):
        programmed = replace(programmed, programmed=(*circuit.programmed, record))
        return Deployment(
            programmed, record, placed.devices, placed.out_of_range, placed.mean_deviation
        )
    elements = dict(programmed.elements)
    injection = np.full(len(chip.injection_elements()), 1.0 if alpha is None else alpha)
    if amplifiers is not None and not amplifiers.ideal():
        record["amplifiers"] = model_record(amplifiers)["settings"]
        rng = np.random.default_rng([seed, AMPLIFIER_STREAM])
        errors = amplifiers.draw(len(chip.driver_elements()), injection.size, rng)
        _make_drivers(elements, chip, errors, amplifiers.driver_swing)
        injection = injection * errors.injection_gain
    for name, gain in zip(chip.injection_elements(), injection, strict=True):
        if gain != 1.0:
            element = elements[name]
            if element.kind == "f":
                elements[name] = replace(element, value=element.value * gain)
            else:
                elements[name] = replace(element, expr=scaled_injection(element.expr, gain))
    programmed = replace(programmed, elements=elements, programmed=(*circuit.programmed, record))
    return Deployment(
        programmed, record, placed.devices, placed.out_of_range, placed.mean_deviation, alpha
    )


def _make_drivers(elements: dict, chip: Chip, errors: AmplifierErrors, swing: float) -> None:
    """Write each row driver's gain error, offset and swing into ``elements`` (a VCVS
    driver, a linear layer's: its gain only)."""
    vs = chip.meta.scaling.volts_per_unit
    for (name, node, layer), gain, offset in zip(
        chip.driver_elements(), errors.driver_gain, errors.driver_offset, strict=True
    ):
        element = elements[name]
        if element.kind == "e":
            elements[name] = replace(element, value=element.value * gain)
            continue
        activation = get_activation(chip.meta.layer(layer).activation)
        made = driver_parameters(element.expr, activation, node, vs)
        if made is None:
            raise CircuitError(f"{name}: not the driver template; its errors cannot be set")
        made = Driver(
            made.gain * gain, made.offset + offset, max(made.low, -swing), min(made.high, swing)
        )
        elements[name] = replace(element, expr=driver_expression(activation, node, vs, made))
