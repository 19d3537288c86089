"""Network metadata carried by a circuit: layers, unit law, model<->physical scaling.

The scaling is linear and documented: a model value ``s`` is the node voltage
``s * volts_per_unit``; a weight ``W`` is the conductance difference of a device pair,
``W = (G+ - G-) / g_unit``; a unit's leak is ``g_unit`` and its capacitor ``tau * g_unit``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

LAYER_KINDS = ("visible", "input", "hidden", "output")
SCELLIER_BENGIO = "scellier_bengio"  # ds/dt = −∂E/∂s, E in the unit values s
HOPFIELD = "hopfield"  # τ du/dt = −u + Σ W ρ(u') + b, E in the activations a = ρ(u)
CO_CONTENT = "co_content"  # a passive network's energy: its total co-content (DESIGN §3.2)
PHASE = "phase"  # coupled oscillators' phase energy (DESIGN §3.3)
FAMILY_LAWS = {
    "crossbar": (SCELLIER_BENGIO, HOPFIELD),
    "resistive": (CO_CONTENT,),
    "oscillator": (PHASE,),
}
FAMILIES = tuple(FAMILY_LAWS)
NOISE_LAYER = "noise"  # a one-unit input layer by this name carries the noise level σ
MAX_LAYER_UNITS = 100_000  # units of one layer (a netlist of more is refused, not tried)


@dataclass(frozen=True)
class Layer:
    """A layer of ``size`` units; ``kind`` is one of :data:`LAYER_KINDS`."""

    name: str
    size: int
    kind: str
    activation: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"a layer name must be a non-empty string, not {self.name!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise ValueError(f"layer {self.name}: size must be a whole number, not {self.size!r}")
        if not 1 <= self.size <= MAX_LAYER_UNITS:
            raise ValueError(
                f"layer {self.name}: size {self.size} is not in 1..{MAX_LAYER_UNITS:,}"
            )
        if self.kind not in LAYER_KINDS:
            raise ValueError(
                f"layer {self.name}: unknown kind {self.kind!r} (one of {', '.join(LAYER_KINDS)})"
            )
        from neurosim.circuit.activations import ACTIVATIONS

        if self.activation not in ACTIVATIONS:
            known = ", ".join(ACTIVATIONS)
            raise ValueError(
                f"layer {self.name}: unknown activation {self.activation!r} (one of {known})"
            )


@dataclass(frozen=True)
class Scaling:
    """Model -> physical units: volts per model unit, siemens per unit weight, seconds."""

    volts_per_unit: float = 0.1
    g_unit: float = 100e-6
    g_min: float = 1e-6
    tau: float = 1e-6

    def __post_init__(self) -> None:
        for name in ("volts_per_unit", "g_unit", "g_min", "tau"):
            value = getattr(self, name)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not (number and math.isfinite(value) and value > 0):
                raise ValueError(f"scaling {name} must be a finite number > 0, not {value!r}")


@dataclass(frozen=True)
class NetworkMeta:
    """What the circuit computes, in model terms.

    ``couplings``: pairs of layer names joined by a weight matrix of shape
    ``(size_a, size_b)``. ``spring`` / ``nudge``: whether visible springs and nudge
    elements are present. ``spring_lambda``: spring stiffness in model units.
    ``reciprocal`` (crossbars): False if the two arrays of each coupling between free
    layers are programmed independently (parameters ``w<k>`` forward, ``w<k>_back``
    backward): the circuit then has no energy function.
    """

    family: str
    law: str
    layers: tuple[Layer, ...]
    couplings: tuple[tuple[str, str], ...]
    scaling: Scaling
    spring_lambda: float = 0.0
    nudge: bool = True
    reciprocal: bool = True

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown family {self.family!r} (one of {', '.join(FAMILIES)})")
        laws = FAMILY_LAWS[self.family]
        if self.law not in laws:
            raise ValueError(
                f"unknown unit law {self.law!r} for the {self.family} family "
                f"(one of {', '.join(laws)})"
            )
        names = [layer.name for layer in self.layers]
        if not names:
            raise ValueError("the network has no layers")
        if len(set(names)) != len(names):
            raise ValueError(f"a layer name is used twice: {names}")
        seen = set()
        for a, b in self.couplings:
            for name in (a, b):
                if name not in names:
                    raise ValueError(f"coupling {a}-{b}: no layer {name!r} (layers: {names})")
            within = a == b and self.family == "oscillator" and self.layer(a).kind != "input"
            if (a == b and not within) or frozenset((a, b)) in seen:
                raise ValueError(f"coupling {a}-{b} couples a layer to itself or repeats")
            seen.add(frozenset((a, b)))
        if not (math.isfinite(self.spring_lambda) and self.spring_lambda >= 0):
            raise ValueError(f"spring_lambda must be finite and >= 0, not {self.spring_lambda!r}")
        if not isinstance(self.reciprocal, bool):
            raise ValueError(f"reciprocal must be true or false, not {self.reciprocal!r}")
        if not self.reciprocal and self.family != "crossbar":
            raise ValueError(
                f"a {self.family} network is reciprocal (reciprocal = false: crossbars)"
            )
        if not self.reciprocal and not self.backward_shapes():
            raise ValueError(
                "reciprocal = false needs a coupling between two free layers (a clamped "
                "input's coupling has one array only)"
            )

    def layer(self, name: str) -> Layer:
        """The layer called ``name``."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    @property
    def noise_conditional(self) -> bool:
        """Whether a one-unit input layer named :data:`NOISE_LAYER` carries the noise
        level σ into the network (noise-annealed Flux Matching)."""
        return any((l.name, l.kind, l.size) == (NOISE_LAYER, "input", 1) for l in self.layers)

    def weight_shapes(self) -> dict[str, tuple[int, int]]:
        """``{"w0": (rows, cols), ...}`` in coupling order."""
        return {
            f"w{k}": (self.layer(a).size, self.layer(b).size)
            for k, (a, b) in enumerate(self.couplings)
        }

    def backward_shapes(self) -> dict[str, tuple[int, int]]:
        """``{"w<k>_back": (rows, cols)}``: the backward array of each coupling between
        free layers of a non-reciprocal crossbar (none if reciprocal)."""
        if self.reciprocal:
            return {}
        return {
            f"{name}_back": shape
            for (name, shape), (a, _) in zip(
                self.weight_shapes().items(), self.couplings, strict=True
            )
            if self.layer(a).kind != "input"
        }

    def bias_shapes(self) -> dict[str, tuple[int]]:
        """``{"b_<layer>": (size,)}`` for every layer that is not clamped."""
        return {f"b_{l.name}": (l.size,) for l in self.layers if l.kind != "input"}

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter's shape: a crossbar's weights and biases; an oscillator
        network's couplings, fields and injection-locking strengths; a resistive
        network's device conductances (:mod:`neurosim.network.resistive`: a pair per
        entry of a coupling with an input or output layer and per bias, one device
        between hidden units)."""
        if self.family == "oscillator":  # couplings J, fields h, injection locking K
            free = {f"k_{name[2:]}": shape for name, shape in self.bias_shapes().items()}
            return {**self.weight_shapes(), **self.bias_shapes(), **free}
        if self.family != "resistive":
            return {**self.weight_shapes(), **self.bias_shapes(), **self.backward_shapes()}
        shapes: dict[str, tuple[int, ...]] = {}
        for name, (rows, cols) in self.weight_shapes().items():
            a, b = self.couplings[int(name[1:])]
            paired = {self.layer(a).kind, self.layer(b).kind} & {"input", "output"}
            shapes[name] = (rows, cols, 2) if paired else (rows, cols)
        return shapes | {name: (size, 2) for name, (size,) in self.bias_shapes().items()}

    def parameter_count(self) -> int:
        """Number of trainable model parameters (a crossbar's weights and biases, a
        resistive network's devices)."""
        shapes = self.parameter_shapes()
        count = sum(math.prod(shape) for shape in shapes.values())
        for k, (a, b) in enumerate(self.couplings):  # a layer coupled to itself: i < j
            if a == b:
                count -= math.prod(shapes[f"w{k}"]) - math.comb(self.layer(a).size, 2)
        return count

    def to_dict(self) -> dict:
        """JSON-ready form (written into netlists and HDF5 files)."""
        data = asdict(self)
        data["couplings"] = [list(c) for c in self.couplings]
        if self.reciprocal:  # as every earlier version wrote it
            del data["reciprocal"]
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
            reciprocal=data.get("reciprocal", True),
        )


def check_params(meta: NetworkMeta, params: Mapping) -> None:
    """Raise ``ValueError`` unless ``params`` has exactly the network's finite arrays."""
    import numpy as np  # on use: the CLI imports this module at start-up

    expected = meta.parameter_shapes()
    if set(params) != set(expected):
        raise ValueError(f"parameters {sorted(params)} do not match {sorted(expected)}")
    for name, shape in expected.items():
        value = np.asarray(params[name])
        if value.shape != shape:
            raise ValueError(f"parameter {name} has shape {value.shape}, expected {shape}")
        if not np.all(np.isfinite(value)):
            raise ValueError(f"parameter {name} holds NaN or inf")
