"""What the hosts of the resistive and oscillator families share: a network circuit whose
parameters are held by the host as flat arrays (one per parameter, in the order of its
elements), programmed by moving them within bounds, saved and restored, and identified
by the elements programming does not change. What is held (``_held``) is in the units a
checkpoint stores (θ times ``_stored_scale``), so a resumed run continues from exactly
the numbers an uninterrupted one had; ``_theta`` is θ. A subclass sets ``_circuit``,
``_system`` (its lowered system: ``free``), ``_held``, ``_masks`` (each element marked
trainable),
``_programmed`` (the names of every element it programs), ``trained`` and ``version``,
and says how a parameter is stored (``STORED``: the checkpoint's key prefix and the
factor from θ) and bounded (``_bounds``)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from neurosim.circuit.meta import NetworkMeta
from neurosim.errors import CircuitError
from neurosim.host.identity import fingerprint, layer_slices, stray_trainable


class FamilyHost:
    """The shared part of :class:`neurosim.host.resistive.ResistiveChip` and
    :class:`neurosim.host.oscillator.OscillatorChip` (module docstring)."""

    general = None  # settled by the engine, always
    note = None
    readout = None
    drive = None
    STORED = "value"  # a checkpoint's key prefix for the parameters

    @property
    def meta(self) -> NetworkMeta:
        return self._circuit.network

    @property
    def free(self) -> int:
        return self._system.free

    def free_slices(self) -> dict[str, slice]:
        """Free layer -> its slice of a state vector (network order)."""
        return layer_slices(self.meta, inputs=False)

    def input_slices(self) -> dict[str, slice]:
        """Input layer -> its slice of the input sources."""
        return layer_slices(self.meta, inputs=True)

    def program(self, deltas: Mapping[str, np.ndarray]) -> None:
        """Move each parameter by ``deltas[name]`` (model units, its shape) within its
        bounds; only elements marked trainable change."""
        shapes = self.meta.parameter_shapes()
        low, high = self._bounds()
        for name, delta in deltas.items():
            if name not in self.trained:
                raise KeyError(f"{name} is not a trained parameter of this chip")
            delta = np.asarray(delta, dtype=np.float64)
            if delta.shape != shapes[name]:
                raise ValueError(f"{name}: update of shape {delta.shape}, expected {shapes[name]}")
            asked = self._asked(name)
            moved = np.where(self._masks[name], np.clip(asked + delta.ravel(), low, high), asked)
            self._held[name] = self._write(name, moved)
        self.version += 1

    @property
    def _theta(self) -> dict[str, np.ndarray]:
        """Every parameter's θ, flat."""
        scale = self._stored_scale()
        return {name: held / scale for name, held in self._held.items()}

    def parameters(self) -> dict[str, np.ndarray]:
        """Every parameter in its shape (model units)."""
        shapes = self.meta.parameter_shapes()
        return {name: theta.reshape(shapes[name]).copy() for name, theta in self._theta.items()}

    def set_values(self, values: Mapping[str, np.ndarray]) -> None:
        """Program each parameter of ``values`` (its shape) exactly."""
        self.program({name: np.asarray(v) - self.parameters()[name] for name, v in values.items()})

    def device_state(self) -> dict[str, np.ndarray]:
        """What a checkpoint stores: every parameter, flat, as ``<STORED>/<name>``."""
        return {f"{self.STORED}/{name}": held.copy() for name, held in self._held.items()}

    def load_device_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Put the parameters of ``state`` (from :meth:`device_state`) back."""
        self._held = restored(self._held, state, self.STORED)
        self.version += 1

    def set_readout(self, readout, seed: int = 0) -> None:
        if readout is not None:
            raise CircuitError(
                f"an ADC readout is not modelled for {self.meta.family} networks yet"
            )

    def set_drive(self, drive) -> None:
        if drive is not None:
            family = self.meta.family
            raise CircuitError(f"an input DAC is not modelled for {family} networks yet")

    def stray_trainable(self) -> list[str]:
        """Elements marked trainable that this host does not program."""
        return stray_trainable(self._circuit, self._programmed)

    def fingerprint(self) -> str:
        """:func:`neurosim.host.identity.fingerprint` over the programmed elements."""
        return fingerprint(self._circuit, self._programmed)

    def _asked(self, name: str) -> np.ndarray:
        """What the host last asked of parameter ``name`` (flat θ)."""
        return self._theta[name]

    def _write(self, name: str, asked: np.ndarray) -> np.ndarray:
        """What parameter ``name`` holds (stored units) once asked to take θ ``asked``
        (exact devices)."""
        return asked * self._stored_scale()

    def _bounds(self) -> tuple[float, float]:
        """The range every parameter is held in."""
        return -np.inf, np.inf

    def _stored_scale(self) -> float:
        """A stored parameter ÷ θ."""
        return 1.0


def restored(
    store: Mapping[str, np.ndarray], state: Mapping[str, np.ndarray], kind: str
) -> dict[str, np.ndarray]:
    """``state``'s arrays ``<kind>/<name>`` by name, each checked against ``store``'s
    (the same names, the same shapes); CircuitError naming what does not fit."""
    if set(state) != {f"{kind}/{name}" for name in store}:
        raise CircuitError("the saved device state is for another circuit")
    out = {}
    for key, value in state.items():
        name = key.split("/", 1)[1]
        if np.shape(value) != store[name].shape:
            raise CircuitError(f"the saved {kind}s of {name} have another shape")
        out[name] = np.array(value, dtype=np.float64)
    return out
