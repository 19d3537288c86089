"""Network specs (``circuits/*.toml``): read, validate, turn into :class:`NetworkMeta`."""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from neurosim.circuit.activations import ACTIVATIONS
from neurosim.circuit.meta import (
    FAMILY_LAWS,
    HOPFIELD,
    LAYER_KINDS,
    Layer,
    NetworkMeta,
    Scaling,
)
from neurosim.errors import SpecError

INIT_KEYS = ("seed", "weight_gain", "visible_gain", "hidden_bias", "input_gain")


@dataclass(frozen=True)
class NetworkSpec:
    """A network spec: what to build (``meta``), how to initialise it, and the circuit's
    ``wire_resistance`` [Ω] per row and column segment of every array (0: ideal wires)."""

    name: str
    meta: NetworkMeta
    seed: int = 0
    weight_gain: float = 0.5
    visible_gain: float = 1.0
    hidden_bias: float = 0.0
    input_gain: float = 1.0
    wire_resistance: float = 0.0
    graph: Graph | None = None  # an oscillator max-cut instance's graph


@dataclass(frozen=True)
class Graph:
    """A max-cut instance (``[graph]``): an Erdős–Rényi graph of the one free layer's
    size, each edge present with ``edge_probability`` (seeded by ``seed``), solved with
    injection locking of strength ``locking``; its couplings are J = −A."""

    edge_probability: float
    seed: int
    locking: float


def load_spec(path: str | os.PathLike) -> NetworkSpec:
    """Read and validate a TOML network spec; every problem is a one-line ``SpecError``."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None
    try:
        return spec_from_dict(data, default_name=path.stem)
    except (SpecError, ValueError) as exc:  # ValueError: NetworkMeta's own checks
        raise SpecError(f"{path}: {exc}") from None


def spec_from_dict(data: dict, *, default_name: str = "network") -> NetworkSpec:
    """Build a :class:`NetworkSpec` from parsed TOML (see ``circuits/*.toml``)."""
    network = _table(data, "network")
    layers = tuple(_layer(entry, n) for n, entry in enumerate(_list(data, "layers")))
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise SpecError(f"layer names must be unique, got {names}")
    family = str(network.get("family", "crossbar"))
    if family not in FAMILY_LAWS:
        raise SpecError(f"network.family must be one of {tuple(FAMILY_LAWS)}, got {family!r}")
    laws = FAMILY_LAWS[family]
    law = network.get("law", laws[0])
    if law not in laws:
        raise SpecError(f"network.law of the {family} family must be one of {laws}, got {law!r}")
    couplings = tuple(_coupling(pair, names) for pair in network.get("couplings", []))
    for a, b in couplings:
        if a == b and family != "oscillator":
            raise SpecError(
                f"coupling {a}-{b} couples a layer to itself (only an oscillator network's "
                "layer may be: a max-cut graph)"
            )
    if not couplings:
        raise SpecError("network.couplings must join at least two layers")
    if law == HOPFIELD:
        for layer in layers:
            if not ACTIVATIONS[layer.activation].monotone:
                raise SpecError(
                    f"layer {layer.name!r}: the hopfield law needs a monotone activation "
                    f"(DESIGN.md 3.1), {layer.activation!r} is not; use 'tanh' or 'linear'"
                )
    for layer in layers:
        if layer.kind != "input" and not any(layer.name in pair for pair in couplings):
            raise SpecError(f"layer {layer.name!r} is not joined to any other layer")
    scaling = Scaling(
        **{
            k: _positive(f"scaling.{k}", v)
            for k, v in data.get("scaling", {}).items()
            if _known(k, Scaling.__dataclass_fields__, "scaling")
        }
    )
    spring = _number("network.spring_lambda", network.get("spring_lambda", 0.0))
    if spring < 0:
        raise SpecError(f"network.spring_lambda must be >= 0, got {spring}")
    if spring > 0 and not any(layer.kind == "visible" for layer in layers):
        raise SpecError("network.spring_lambda > 0 needs a visible layer")
    meta = NetworkMeta(
        family=family,
        law=law,
        layers=layers,
        couplings=couplings,
        scaling=scaling,
        spring_lambda=spring,
        nudge=_boolean("network.nudge", network.get("nudge", True)),
        reciprocal=_boolean("network.reciprocal", network.get("reciprocal", True)),
    )
    init = data.get("init", {})
    if not isinstance(init, dict):
        raise SpecError("[init] must be a table")
    for key in init:
        _known(key, dict.fromkeys(INIT_KEYS), "init")
    circuit = data.get("circuit", {})
    if not isinstance(circuit, dict):
        raise SpecError("[circuit] must be a table")
    for key in circuit:
        _known(key, {"wire_resistance": None}, "circuit")
    wire = _number("circuit.wire_resistance", circuit.get("wire_resistance", 0.0))
    if wire < 0:
        raise SpecError(f"circuit.wire_resistance must be >= 0 ohms, got {wire}")
    graph = None
    if "graph" in data:
        table = data["graph"]
        if not isinstance(table, dict):
            raise SpecError("[graph] must be a table")
        for key in table:
            _known(key, {"edge_probability": None, "seed": None, "locking": None}, "graph")
        free = [layer for layer in layers if layer.kind != "input"]
        if family != "oscillator" or len(free) != 1 or couplings != ((free[0].name,) * 2,):
            raise SpecError("[graph] needs an oscillator network of one layer coupled to itself")
        probability = _number("graph.edge_probability", table.get("edge_probability", 0.5))
        if not 0.0 < probability <= 1.0:
            raise SpecError(f"graph.edge_probability must be in (0, 1], got {probability}")
        locking = _number("graph.locking", table.get("locking", 1.0))
        graph = Graph(probability, _seed(table.get("seed", 0)), locking)
    return NetworkSpec(
        name=str(network.get("name", default_name)),
        meta=meta,
        seed=_seed(init.get("seed", 0)),
        weight_gain=_positive("init.weight_gain", init.get("weight_gain", 0.5)),
        visible_gain=_positive("init.visible_gain", init.get("visible_gain", 1.0)),
        hidden_bias=_non_negative("init.hidden_bias", init.get("hidden_bias", 0.0)),
        input_gain=_positive("init.input_gain", init.get("input_gain", 1.0)),
        wire_resistance=wire,
        graph=graph,
    )


def _table(data: dict, key: str) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise SpecError(f"missing [{key}] table")
    return value


def _list(data: dict, key: str) -> list:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise SpecError(f"missing [[{key}]] entries")
    return value


def _known(key: str, fields: dict, table: str) -> bool:
    if key not in fields:
        raise SpecError(f"unknown key {table}.{key} (known: {', '.join(fields)})")
    return True


def _number(what: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpecError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _positive(what: str, value: object) -> float:
    number = _number(what, value)
    if number <= 0:
        raise SpecError(f"{what} must be > 0, got {value!r}")
    return number


def _non_negative(what: str, value: object) -> float:
    number = _number(what, value)
    if number < 0:
        raise SpecError(f"{what} must be >= 0, got {value!r}")
    return number


def _boolean(what: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{what} must be true or false, got {value!r}")
    return value


def _seed(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"init.seed must be a non-negative integer, got {value!r}")
    return value


def _layer(entry: dict, index: int) -> Layer:
    where = f"layers[{index}]"
    if not isinstance(entry, dict):
        raise SpecError(f"{where} must be a table")
    for key in entry:
        _known(key, Layer.__dataclass_fields__, where)
    name = str(entry.get("name", ""))
    if not name.isidentifier() or name != name.lower() or "__" in name:
        raise SpecError(f"{where}.name must be a lower-case identifier, got {name!r}")
    size = entry.get("size")
    if not isinstance(size, int) or size < 1:
        raise SpecError(f"{where}.size must be a positive integer, got {size!r}")
    kind = entry.get("kind", "hidden")
    if kind not in LAYER_KINDS:
        raise SpecError(f"{where}.kind must be one of {LAYER_KINDS}, got {kind!r}")
    activation = entry.get("activation", "linear" if kind in ("visible", "input") else "rho")
    if activation not in ACTIVATIONS:
        raise SpecError(f"{where}.activation must be one of {tuple(ACTIVATIONS)}")
    return Layer(name=name, size=size, kind=kind, activation=activation)


def _coupling(pair: object, names: list[str]) -> tuple[str, str]:
    if not (isinstance(pair, list) and len(pair) == 2 and all(p in names for p in pair)):
        raise SpecError(f"each coupling must be [layer, layer] of known layers, got {pair!r}")
    return (pair[0], pair[1])  # a layer coupled to itself: NetworkMeta decides
