"""Network metadata carried by a circuit: layers, unit law, model<->physical scaling.

The scaling is linear and documented: a model value ``s`` is the node voltage
``s * volts_per_unit``; a weight ``W`` is the conductance difference of a device pair,
``W = (G+ - G-) / g_unit``; a unit's leak is ``g_unit`` and its capacitor ``tau * g_unit``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

LAYER_KINDS = ("visible", "input", "hidden", "output")
UNIT_LAWS = ("scellier_bengio", "hopfield")


@dataclass(frozen=True)
class Layer:
    """A layer of ``size`` units; ``kind`` is one of :data:`LAYER_KINDS`."""

    name: str
    size: int
    kind: str
    activation: str


@dataclass(frozen=True)
class Scaling:
    """Model -> physical units: volts per model unit, siemens per unit weight, seconds."""

    volts_per_unit: float = 0.1
    g_unit: float = 100e-6
    g_min: float = 1e-6
    tau: float = 1e-6

    @property
    def current_per_unit(self) -> float:
        """Amperes that one model unit of force (a unit of dE/ds) drives into a node."""
        return self.volts_per_unit * self.g_unit


@dataclass(frozen=True)
class NetworkMeta:
    """What the circuit computes, in model terms.

    ``couplings``: pairs of layer names joined by a weight matrix of shape
    ``(size_a, size_b)``. ``spring`` / ``nudge``: whether visible springs and nudge
    elements are present. ``spring_lambda``: spring stiffness in model units.
    """

    family: str
    law: str
    layers: tuple[Layer, ...]
    couplings: tuple[tuple[str, str], ...]
    scaling: Scaling
    spring_lambda: float = 0.0
    nudge: bool = True

    def layer(self, name: str) -> Layer:
        """The layer called ``name``."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        """``{"w0": (rows, cols), ...}`` in coupling order."""
        return {
            f"w{k}": (self.layer(a).size, self.layer(b).size)
            for k, (a, b) in enumerate(self.couplings)
        }

    def bias_shapes(self) -> dict[str, tuple[int]]:
        """``{"b_<layer>": (size,)}`` for every layer that is not clamped."""
        return {f"b_{l.name}": (l.size,) for l in self.layers if l.kind != "input"}

    def parameter_count(self) -> int:
        """Number of trainable model parameters (weights and biases)."""
        weights = sum(r * c for r, c in self.weight_shapes().values())
        return weights + sum(s[0] for s in self.bias_shapes().values())

    def to_dict(self) -> dict:
        """JSON-ready form (written into netlists and HDF5 files)."""
        data = asdict(self)
        data["couplings"] = [list(c) for c in self.couplings]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> NetworkMeta:
        """Inverse of :meth:`to_dict`; raises ``KeyError``/``TypeError`` on bad input."""
        return cls(
            family=str(data["family"]),
            law=str(data["law"]),
            layers=tuple(Layer(**layer) for layer in data["layers"]),
            couplings=tuple((str(a), str(b)) for a, b in data["couplings"]),
            scaling=Scaling(**data["scaling"]),
            spring_lambda=float(data.get("spring_lambda", 0.0)),
            nudge=bool(data.get("nudge", True)),
        )
