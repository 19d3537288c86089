"""Small random crossbar networks shared by the tests (one definition, many checks)."""

from __future__ import annotations

import numpy as np

from neurosim.circuit.meta import Layer, NetworkMeta, Scaling

SCALING = Scaling(volts_per_unit=0.2, g_unit=5e-5, g_min=2e-6, tau=1e-6)


def small_network(
    law: str,
    hidden: str,
    *,
    spring: float,
    topology: str = "layered",
    scaling: Scaling = SCALING,
) -> NetworkMeta:
    """``layered``: in(3) → h(6) ← x(4), h → out(2); the input layer in the even group.

    ``deep``: x(4) – h1(5) – h2(3) – out(2) with in(3) on h2: two layers per group and
    the input layer in the odd group.
    """
    if topology == "layered":
        layers = (
            Layer("in", 3, "input", "linear"),
            Layer("x", 4, "visible", "linear"),
            Layer("h", 6, "hidden", hidden),
            Layer("out", 2, "output", "tanh"),
        )
        couplings = (("in", "h"), ("x", "h"), ("h", "out"))
    else:
        layers = (
            Layer("x", 4, "visible", "linear"),
            Layer("h1", 5, "hidden", hidden),
            Layer("h2", 3, "hidden", hidden),
            Layer("out", 2, "output", "tanh"),
            Layer("in", 3, "input", "linear"),
        )
        couplings = (("x", "h1"), ("h1", "h2"), ("h2", "out"), ("in", "h2"))
    return NetworkMeta("crossbar", law, layers, couplings, scaling, spring_lambda=spring)


def random_params(meta: NetworkMeta, rng: np.random.Generator, gain: float) -> dict:
    """Xavier-normal weights of ``gain``, then N(0, 0.3) biases, drawn from ``rng``."""
    from neurosim.network.model import init_params

    params = init_params(meta, rng, gain=gain)
    for name in params:
        if name.startswith("b_"):
            params[name] = rng.normal(0, 0.3, params[name].shape)
    return params


def small_classifier(sizes: tuple[int, int, int], output: str = "rho") -> NetworkMeta:
    """in (linear) → h (ρ) → out (``output``), Scellier–Bengio, default scaling."""
    layers = (
        Layer("in", sizes[0], "input", "linear"),
        Layer("h", sizes[1], "hidden", "rho"),
        Layer("out", sizes[2], "output", output),
    )
    couplings = (("in", "h"), ("h", "out"))
    return NetworkMeta("crossbar", "scellier_bengio", layers, couplings, Scaling())


def flow_net(hidden: tuple[int, int] = (5, 3), visible: int = 4) -> NetworkMeta:
    """x (visible, linear) – h1 – h2 (ρ), Scellier–Bengio, spring λ = 15: the
    FlowEqProp shape; ``flow_net((128, 128), 64)`` is digits_flow's."""
    layers = (
        Layer("x", visible, "visible", "linear"),
        Layer("h1", hidden[0], "hidden", "rho"),
        Layer("h2", hidden[1], "hidden", "rho"),
    )
    couplings = (("x", "h1"), ("h1", "h2"))
    return NetworkMeta("crossbar", "scellier_bengio", layers, couplings, Scaling(), 15.0)


def chip_of(meta: NetworkMeta, params: dict):
    """The host's chip of the compiled circuit of ``meta`` with ``params``."""
    from neurosim.host import Chip
    from neurosim.network.compile import compile_network

    return Chip(compile_network(meta, params))
