"""The behavioural sources of a crossbar unit, with their parameters (DESIGN.md §3.1).

A unit's row driver puts ``vs·ρ(V/vs)`` on its positive row line and its injection
amplifier feeds ``ρ'(V/vs)·I_column`` into the unit node (Scellier–Bengio law). Real
periphery is not exact, so both are templates with parameters, written into the
netlist as ordinary B-source expressions:

    driver:     v = min(max(OFFSET + GAIN·(vs·ρ(v(u)/vs)), LOW), HIGH)
    injection:  i = GAIN·(ρ'(v(u)/vs)·i(ammeter))

(a parameter at its ideal value — gain 1, offset 0, no limits — is left out, which is
the compiled circuit). The compiler writes them with :func:`driver_expression` and
:func:`injection_expression`; the lowering reads the parameters back with
:func:`driver_parameters` and :func:`injection_gain`, so the two share one definition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neurosim.circuit.activations import Activation
from neurosim.circuit.expr import Expr, evaluate, references, to_text


@dataclass(frozen=True)
class Driver:
    """A row driver's parameters: output ``gain``, ``offset`` [V] and output limits
    ``low``/``high`` [V] (±inf: none)."""

    gain: float = 1.0
    offset: float = 0.0
    low: float = -math.inf
    high: float = math.inf


def _core_driver(activation: Activation, node: str, vs: float) -> Expr:
    return ("bin", "*", ("num", vs), activation.spice_of(("bin", "/", ("v", node), ("num", vs))))


def _core_injection(activation: Activation, node: str, ammeter: str, vs: float) -> Expr:
    slope = activation.spice_derivative_of(("bin", "/", ("v", node), ("num", vs)))
    return ("bin", "*", slope, ("i", ammeter))


def driver_expression(
    activation: Activation, node: str, vs: float, driver: Driver = Driver()
) -> Expr:
    """The driver template of ``node``'s positive row line (volts)."""
    tree = _core_driver(activation, node, vs)
    if driver.gain != 1.0:
        tree = ("bin", "*", ("num", driver.gain), tree)
    if driver.offset != 0.0:
        tree = ("bin", "+", ("num", driver.offset), tree)
    if math.isfinite(driver.low) or math.isfinite(driver.high):
        if not driver.low < driver.high:
            raise ValueError(f"driver limits {driver.low}, {driver.high}: low must be < high")
        tree = ("call", "max", (tree, ("num", driver.low))) if math.isfinite(driver.low) else tree
        if math.isfinite(driver.high):
            tree = ("call", "min", (tree, ("num", driver.high)))
    return tree


def injection_expression(
    activation: Activation, node: str, ammeter: str, vs: float, gain: float = 1.0
) -> Expr:
    """The injection template of ``node`` (amperes), its column current read by ``ammeter``."""
    tree = _core_injection(activation, node, ammeter, vs)
    return tree if gain == 1.0 else ("bin", "*", ("num", gain), tree)


def scaled_injection(tree: Expr, factor: float) -> Expr:
    """An injection expression ``tree`` (``core`` or ``g·core``) with its gain times
    ``factor``: ``(g·factor)·core``."""
    gain, rest = _peel(tree, "*")
    if gain is None:
        gain, rest = 1.0, tree
    return ("bin", "*", ("num", gain * factor), rest)


def driver_parameters(tree: Expr, activation: Activation, node: str, vs: float) -> Driver | None:
    """The parameters of a driver expression ``tree``; None if it is not the template."""
    low, high = -math.inf, math.inf
    if _call(tree, "min") and _constant(tree[2][1]) is not None:
        tree, high = tree[2][0], _constant(tree[2][1])
    if _call(tree, "max") and _constant(tree[2][1]) is not None:
        tree, low = tree[2][0], _constant(tree[2][1])
    offset, tree = _peel(tree, "+")
    gain = _gain(tree, _core_driver(activation, node, vs))
    if gain is None or not low < high:
        return None
    return Driver(gain, 0.0 if offset is None else offset, low, high)


def injection_gain(
    tree: Expr, activation: Activation, node: str, ammeter: str, vs: float
) -> float | None:
    """The gain of an injection expression ``tree``; None if it is not the template."""
    return _gain(tree, _core_injection(activation, node, ammeter, vs))


def _gain(tree: Expr, core: Expr) -> float | None:
    """g where ``tree`` is ``core`` (g = 1) or ``g·core``; None otherwise."""
    if to_text(tree) == to_text(core):
        return 1.0
    gain, rest = _peel(tree, "*")
    return gain if gain is not None and to_text(rest) == to_text(core) else None


def _call(tree: Expr, name: str) -> bool:
    return tree[0] == "call" and tree[1] == name and len(tree[2]) == 2


def _constant(tree: Expr) -> float | None:
    """The value of a subtree without v() or i(), None for any other."""
    if any(references(tree)):
        return None
    value = evaluate(tree, {})
    return float(value) if math.isfinite(value) else None


def _peel(tree: Expr, op: str) -> tuple[float | None, Expr]:
    """``c op rest`` (or ``rest op c``) -> (c, rest) for a constant c; else (None, tree)."""
    if tree[0] == "bin" and tree[1] == op:
        for constant, rest in ((tree[2], tree[3]), (tree[3], tree[2])):
            value = _constant(constant)
            if value is not None and any(references(rest)):
                return value, rest
    return None, tree
