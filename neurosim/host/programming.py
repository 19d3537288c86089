"""How a parameter update reaches the devices: one replaceable object, the programmer.

A trainable parameter θ of a crossbar is the value of its device pairs,
``θ = (G⁺ − G⁻)/g_unit`` (DESIGN §3.1); a coupling's θ is realised by a pair in each of
its two arrays (forward and backward), a bias by one pair per unit. The host keeps the
value it last asked of each pair (its target, starting from the value the pair had when
the netlist was read), moves it by the update Δθ, and hands the new targets with the
pairs' present conductances to the programmer, which returns the conductances the
devices take. :class:`DeviceProgrammer` programs through a device model
(:mod:`neurosim.devices`: programming noise, finite range, levels, stuck devices);
:class:`PulsedProgrammer` writes each update open loop as pulses on pulsed-update
devices (:mod:`neurosim.devices.pulsed`), whose hidden state it keeps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from neurosim.circuit.meta import Scaling
from neurosim.circuit.pairs import encode

OPEN_CONDUCTANCE = 1e-12  # S: a device at 0 S (an open cell) is held at ngspice's gmin


class Programmer(Protocol):
    """Maps an update of pair values onto device conductances."""

    def program(
        self,
        pairs: np.ndarray,
        targets: np.ndarray,
        scaling: Scaling,
        array: str,
        delta: np.ndarray | None = None,
    ) -> np.ndarray:
        """New conductances [S] (same shape as ``pairs``, (..., 2): the ``p`` and ``n``
        device of each pair) for the pairs of device array ``array`` asked to take the
        values ``targets`` (...), after the update ``delta`` (...; None: a fresh write
        of the targets)."""
        ...


@dataclass(frozen=True)
class IdealProgrammer:
    """Exact devices: each pair takes the compiler's encoding of its target, so its
    value is the target (to rounding) and one device of the pair sits at ``g_min``. The
    pairs of a coupling's two arrays keep targets of their own, each moved by the same
    Δθ, so a mismatch between the arrays (an offset θ_b − θ_f) is kept, not erased."""

    def program(
        self, pairs: np.ndarray, targets: np.ndarray, scaling: Scaling, array: str, delta=None
    ) -> np.ndarray:
        return encode(targets, scaling)


@dataclass(frozen=True)
class DeviceProgrammer:
    """Devices of a device model (``model``: :mod:`neurosim.devices`): each pair is
    written toward the compiler's encoding of its target and takes what the model's
    programming gives (noise, range, levels, faults). No drift between writes: training
    reads the chip right after programming it. A device the model leaves at 0 S is held
    at ``OPEN_CONDUCTANCE`` (a netlist resistor cannot be infinite).

    The draws of a write are a pure function of ``seed``, the array's name and its
    targets (hashed), so a resumed run draws exactly what an uninterrupted one drew,
    and the two arrays of a coupling get independent devices."""

    model: object
    seed: int = 0

    def program(
        self, pairs: np.ndarray, targets: np.ndarray, scaling: Scaling, array: str, delta=None
    ) -> np.ndarray:
        rng = _generator(self.seed, array, targets)
        return self._written(encode(targets, scaling), rng)

    def program_devices(self, targets: np.ndarray, array: str) -> np.ndarray:
        """Conductances [S] single devices (a resistive network's resistors) take when
        written toward ``targets`` [S]; the draws as for pairs."""
        return self._written(targets, _generator(self.seed, array, targets))

    def _written(self, conductances: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.maximum(self.model.program(conductances, rng).g, OPEN_CONDUCTANCE)


class PulsedProgrammer:
    """Pulsed-update devices (``model``: :mod:`neurosim.devices.pulsed`), one per pair
    (the pair realises the device's signed weight w = θ/w_unit). A fresh write sets the
    devices to their targets (clipped to each device's bounds, plus write noise); an
    update is written open loop, as the pulses that move each device by ``delta``: the
    host does not read the devices back, so their errors accumulate as on a chip.

    Each array's devices (steps, bounds) are drawn once from ``seed`` and the array's
    name; the draws of a write are a pure function of ``seed``, the array, the update
    and the devices' state, and that state (the hidden weights and what the circuit
    sees) is in :meth:`state`, so a resumed run writes what an uninterrupted one did."""

    def __init__(self, model, seed: int = 0) -> None:
        self.model, self.seed = model, seed
        self._devices: dict[str, object] = {}
        self._hidden: dict[str, np.ndarray] = {}
        self._apparent: dict[str, np.ndarray] = {}

    def program(
        self, pairs: np.ndarray, targets: np.ndarray, scaling: Scaling, array: str, delta=None
    ) -> np.ndarray:
        devices = self._devices.get(array)
        if devices is None:
            digest = hashlib.blake2b(array.encode(), digest_size=8).digest()
            drawn = np.random.default_rng([self.seed, int.from_bytes(digest, "little"), 1])
            devices = self._devices[array] = self.model.devices(targets.shape, drawn)
        unit = self.model.w_unit
        if delta is None or array not in self._hidden:
            rng = _generator(self.seed, array, targets)
            written = self.model.set_weights(targets / unit, devices, rng)
        else:
            rng = _generator(self.seed, array, delta, self._hidden[array])
            written = self.model.update(
                self._hidden[array], self._apparent[array], delta / unit, devices, rng
            )
        self._hidden[array], self._apparent[array] = written.hidden, written.apparent
        return np.maximum(encode(written.apparent * unit, scaling), OPEN_CONDUCTANCE)

    def state(self) -> dict[str, np.ndarray]:
        """The devices' state (``hidden/<array>``, ``apparent/<array>``: weights)."""
        state = {f"hidden/{name}": w.copy() for name, w in self._hidden.items()}
        state.update({f"apparent/{name}": w.copy() for name, w in self._apparent.items()})
        return state

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Put a :meth:`state` back."""
        for key, value in state.items():
            kind, name = key.split("/", 1)
            (self._hidden if kind == "hidden" else self._apparent)[name] = np.array(value)


def _generator(seed: int, array: str, *arrays: np.ndarray) -> np.random.Generator:
    """A generator seeded by ``seed``, the array's name and the bytes of ``arrays``."""
    digest = hashlib.blake2b(digest_size=8)
    for values in arrays:
        digest.update(np.ascontiguousarray(values).tobytes())
    digest.update(array.encode())
    return np.random.default_rng([seed, int.from_bytes(digest.digest(), "little")])
