"""The parts of an oscillator Ising machine's netlist (DESIGN.md §3.3): names and the
behavioural-source templates that carry its parameters.

Each oscillator's phase φ is its node's voltage, ``vs`` volts per radian (``vs`` the
network's ``volts_per_unit``), with a capacitor ``τ·g_unit`` to ground; the energy

    E = −Σ J_ab·cos(φ_a − φ_b) − Σ J_xb·x·cos φ_b − Σ h·cos φ − ½ Σ K·cos 2φ

enters as B current sources that drive ``g_unit·vs·(−∂E/∂φ)`` into each node, so
``τ dφ/dt = −∂E/∂φ``. Each source is ``COEF·core`` with ``COEF = g_unit·vs·θ`` (θ the
parameter) and one of the cores below; :func:`expression` writes them and
:func:`parameter` reads θ back, so the compiler and the lowering share one definition.

    coupling   bj<k>_<i>_<j>  from a_i to b_j:  sin(φ_a − φ_b)
    input      bj<k>_<i>_<j>  from b_j to 0:    (v(x_i)/vs)·sin φ_b
    field      bh_<L>_<i>     from L_i to 0:    sin φ
    locking    bk_<L>_<i>     from L_i to 0:    sin 2φ
    nudge      bn_<L>_<i>     from 0 to L_i:    (cos φ − v(L_i_nt)/vs)·sin φ, COEF = g_unit·vs·β
"""

from __future__ import annotations

import numpy as np

from neurosim.circuit.expr import Expr
from neurosim.circuit.meta import NetworkMeta

KINDS = ("coupling", "input", "field", "locking", "nudge")


def _phase(node: str, vs: float) -> Expr:
    return ("bin", "/", ("v", node), ("num", vs))


def core(kind: str, vs: float, node: str, other: str | None = None) -> Expr:
    """The core of a ``kind`` source at oscillator ``node`` (``other``: the coupling's
    second oscillator, the input's source node, the nudge's target node)."""
    phase = _phase(node, vs)
    if kind == "coupling":
        return ("call", "sin", (("bin", "-", phase, _phase(other, vs)),))
    if kind == "input":
        return ("bin", "*", _phase(other, vs), ("call", "sin", (phase,)))
    if kind == "field":
        return ("call", "sin", (phase,))
    if kind == "locking":
        return ("call", "sin", (("bin", "*", ("num", 2.0), phase),))
    if kind == "nudge":
        pull = ("bin", "-", ("call", "cos", (phase,)), _phase(other, vs))
        return ("bin", "*", pull, ("call", "sin", (phase,)))
    raise ValueError(f"unknown oscillator source {kind!r}")


def expression(meta: NetworkMeta, kind: str, theta: float, node: str, other=None) -> Expr:
    """The source of parameter ``theta`` (model units): ``g_unit·vs·θ·core``."""
    scale = meta.scaling.g_unit * meta.scaling.volts_per_unit
    return (
        "bin",
        "*",
        ("num", scale * float(theta)),
        core(kind, meta.scaling.volts_per_unit, node, other),
    )


def parameter(meta: NetworkMeta, tree: Expr, kind: str, node: str, other=None) -> float | None:
    """θ of a source written by :func:`expression`, or None if ``tree`` is not that
    template."""
    if tree is None or tree[0] != "bin" or tree[1] != "*" or tree[2][0] != "num":
        return None
    if tree[3] != core(kind, meta.scaling.volts_per_unit, node, other):
        return None
    return tree[2][1] / (meta.scaling.g_unit * meta.scaling.volts_per_unit)


def source_names(
    meta: NetworkMeta,
) -> dict[str, list[tuple[str, str, tuple[str, ...], str, str | None]]]:
    """Parameter -> (element name, kind, its two nodes (from, to), oscillator node,
    other node) of each of its sources, in the parameter's flat order."""
    out: dict[str, list] = {}
    for k, (a, b) in enumerate(meta.couplings):
        clamped = meta.layer(a).kind == "input"
        entries = []
        for i in range(meta.layer(a).size):
            for j in range(i + 1 if a == b else 0, meta.layer(b).size):
                name, x, y = f"bj{k}_{i}_{j}", f"{a}_{i}", f"{b}_{j}"
                if clamped:
                    entries.append((name, "input", (y, "0"), y, x))
                else:
                    entries.append((name, "coupling", (x, y), x, y))
        out[f"w{k}"] = entries
    for layer in meta.layers:
        if layer.kind == "input":
            continue
        units = [f"{layer.name}_{i}" for i in range(layer.size)]
        out[f"b_{layer.name}"] = [(f"bh_{u}", "field", (u, "0"), u, None) for u in units]
        out[f"k_{layer.name}"] = [(f"bk_{u}", "locking", (u, "0"), u, None) for u in units]
    return out


def source_values(meta: NetworkMeta, name: str, values) -> np.ndarray:
    """Parameter ``name``'s ``values`` (its shape) in the order of its sources."""
    values = np.asarray(values, dtype=np.float64)
    if name.startswith("w"):
        a, b = meta.couplings[int(name[1:])]
        if a == b:
            return values[np.triu_indices(meta.layer(a).size, 1)]
    return values.ravel()
