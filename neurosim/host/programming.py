"""How a parameter update reaches the devices: one replaceable object, the programmer.

A trainable parameter θ of a crossbar is the value of its device pairs,
``θ = (G⁺ − G⁻)/g_unit`` (DESIGN §3.1); a coupling's θ is realised by a pair in each of
its two arrays (forward and backward), a bias by one pair per unit. The host keeps the
value it last asked of each pair (its target, starting from the value the pair had when
the netlist was read), moves it by the update Δθ, and hands the new targets with the
pairs' present conductances to the programmer, which returns the conductances the
devices take. :class:`DeviceProgrammer` programs through a device model
(:mod:`neurosim.devices`: programming noise, finite range, levels, stuck devices).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from neurosim.circuit.meta import Scaling

OPEN_CONDUCTANCE = 1e-12  # S: a device at 0 S (an open cell) is held at ngspice's gmin


class Programmer(Protocol):
    """Maps an update of pair values onto device conductances."""

    def program(
        self, pairs: np.ndarray, targets: np.ndarray, scaling: Scaling, array: str
    ) -> np.ndarray:
        """New conductances [S] (same shape as ``pairs``, (..., 2): the ``p`` and ``n``
        device of each pair) for the pairs of device array ``array`` asked to take the
        values ``targets`` (...)."""
        ...


def pair_values(pairs: np.ndarray, scaling: Scaling) -> np.ndarray:
    """θ = (G⁺ − G⁻)/g_unit of device pairs ``pairs`` (..., 2) [S]."""
    return (pairs[..., 0] - pairs[..., 1]) / scaling.g_unit


def encode(values: np.ndarray, scaling: Scaling) -> np.ndarray:
    """The compiler's pair for each value (..., 2): ``G± = g_min + max(±θ, 0)·g_unit``."""
    values = np.asarray(values, dtype=np.float64)
    pairs = np.empty((*values.shape, 2))
    positive = np.maximum(values, 0.0)
    positive *= scaling.g_unit
    positive += scaling.g_min
    negative = np.minimum(values, 0.0)  # −max(−θ, 0), to the bit
    negative *= -scaling.g_unit
    negative += scaling.g_min
    pairs[..., 0], pairs[..., 1] = positive, negative
    return pairs


@dataclass(frozen=True)
class IdealProgrammer:
    """Exact devices: each pair takes the compiler's encoding of its target, so its
    value is the target (to rounding) and one device of the pair sits at ``g_min``. The
    pairs of a coupling's two arrays keep targets of their own, each moved by the same
    Δθ, so a mismatch between the arrays (an offset θ_b − θ_f) is kept, not erased."""

    def program(
        self, pairs: np.ndarray, targets: np.ndarray, scaling: Scaling, array: str
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
        self, pairs: np.ndarray, targets: np.ndarray, scaling: Scaling, array: str
    ) -> np.ndarray:
        digest = hashlib.blake2b(np.ascontiguousarray(targets).tobytes(), digest_size=8)
        digest.update(array.encode())
        rng = np.random.default_rng([self.seed, int.from_bytes(digest.digest(), "little")])
        return np.maximum(self.model.program(encode(targets, scaling), rng).g, OPEN_CONDUCTANCE)
