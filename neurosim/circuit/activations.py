"""Unit activations: NumPy forms for the model, expression trees for the netlist.

Each activation is written twice on purpose — as NumPy code and as an ngspice
expression — and the tests check that the two agree, so a mistake in either shows.
ρ, ρ′ and ρ″ (the curvature Newton's Hessian and the stability certificate need) live
here together; the engine's Numba kernels evaluate ρ and ρ′ with a vectorisable exp,
and a test holds them to these forms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from neurosim.circuit.expr import Expr, parse_func_body, substitute

_X = ("name", "x")


@dataclass(frozen=True)
class Activation:
    """``rho``, ``drho`` and ``d2rho`` (ρ, ρ′, ρ″) act elementwise on model values;
    ``lam`` is Λ(a) = ∫₀^a ρ⁻¹, the Hopfield law's unit term, of an activation value a
    (None where ρ is not monotone: no Hopfield energy); ``spice`` and ``spice_slope`` are
    ρ and ρ' as expression trees in the formal argument ``("name", "x")``."""

    name: str
    rho: Callable[[np.ndarray], np.ndarray]
    drho: Callable[[np.ndarray], np.ndarray]
    d2rho: Callable[[np.ndarray], np.ndarray]
    spice: Expr
    spice_slope: Expr
    monotone: bool
    lam: Callable[[np.ndarray], np.ndarray] | None = None

    def spice_of(self, argument: Expr) -> Expr:
        """ρ(argument) as an expression tree."""
        return substitute(self.spice, {"x": argument})

    def spice_derivative_of(self, argument: Expr) -> Expr:
        """ρ'(argument) as an expression tree."""
        return substitute(self.spice_slope, {"x": argument})


def _sigmoid(u: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * u))


def _rho_ref(u: np.ndarray) -> np.ndarray:
    return 10.0 * np.tanh(u * _sigmoid(u) / 10.0)


def _drho_ref(u: np.ndarray) -> np.ndarray:
    sig = _sigmoid(u)
    silu_slope = sig * (1.0 + u * (1.0 - sig))
    return (1.0 - np.tanh(u * sig / 10.0) ** 2) * silu_slope


def _d2rho_ref(u: np.ndarray) -> np.ndarray:
    sig = 0.5 * (1.0 + np.tanh(0.5 * u))
    t = np.tanh(0.1 * u * sig)
    slope = sig * (1.0 + u * (1.0 - sig))
    bend = sig * (1.0 - sig) * (2.0 + u * (1.0 - 2.0 * sig))
    return (1.0 - t * t) * (bend - 0.2 * t * slope * slope)


def _d2tanh(u: np.ndarray) -> np.ndarray:
    t = np.tanh(u)
    return -2.0 * t * (1.0 - t * t)


def _body(text: str) -> Expr:
    return parse_func_body(text, ("x",), {}, {})


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation(
        "linear",
        lambda u: u,
        np.ones_like,
        np.zeros_like,
        _X,
        ("num", 1.0),
        True,
        lambda a: 0.5 * a**2,
    ),
    # The FlowEqProp reference: rho(u) = 10 tanh(SiLU(u) / 10). Not monotone (dips near -1.28).
    "rho": Activation(
        "rho",
        _rho_ref,
        _drho_ref,
        _d2rho_ref,
        _body("10 * tanh(x / (1 + exp(-x)) / 10)"),
        # ρ' = (1 − t²)·σ·(1 + x(1 − σ)), σ = 1/(1 + e^−x), t = tanh(xσ/10), written with
        # products and no ^: ngspice's Newton from 0 V visits x of several hundred, where
        # (1 + e^−x)^2 overflowed ("out of range for ^") on trained digits netlists.
        _body(
            "(1 - tanh(x / (1 + exp(-x)) / 10) * tanh(x / (1 + exp(-x)) / 10))"
            " * (1 + x * exp(-x) / (1 + exp(-x))) / (1 + exp(-x))"
        ),
        False,
    ),
    "tanh": Activation(
        "tanh",
        np.tanh,
        lambda u: 1.0 - np.tanh(u) ** 2,
        _d2tanh,
        _body("tanh(x)"),
        _body("1 - tanh(x) ^ 2"),
        True,
        lambda a: a * np.arctanh(a) + 0.5 * np.log1p(-(a**2)),
    ),
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; ``KeyError`` lists the known ones."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise KeyError(f"unknown activation {name!r} (known: {', '.join(ACTIVATIONS)})") from None
