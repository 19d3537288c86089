"""The abstract energy-based model a compiled circuit realises (DESIGN.md §3.1).

All quantities are in model units. Shapes: a state maps each free layer's name to an
array ``(batch, size)``; ``params`` maps ``"w<k>"`` to ``(size_a, size_b)`` for coupling
``k = (a, b)`` and ``"b_<layer>"`` to ``(size,)``.

Scellier–Bengio law: ``E = Σ ½‖s‖² − Σ b·ρ(s) − Σ_k ρ(s_a)ᵀ W_k ρ(s_b)``, ds/dt = −∂E/∂s.
Hopfield law: τ du/dt = −u + Σ W ρ(u') + b, with energy ``Σ Λ(a) − Σ a_aᵀ W a_b − b·a``.
Springs add ``λ/2 ‖x − x_t‖²`` on visible layers; nudges add ``g/2 ‖s − target‖²``
(under the Hopfield law, the activation-space form in :func:`_pull`).
"""

from __future__ import annotations

import numpy as np

from neurosim.circuit.activations import get_activation
from neurosim.circuit.drive import Arrays, Drive
from neurosim.circuit.meta import SCELLIER_BENGIO, NetworkMeta


def init_params(
    meta: NetworkMeta,
    rng: np.random.Generator,
    gain: float = 0.5,
    visible_gain: float = 1.0,
    hidden_bias: float = 0.0,
    input_gain: float = 1.0,
) -> dict:
    """Xavier-normal weights (std = gain·sqrt(2/(fan_in+fan_out))) and zero biases; a
    non-reciprocal network's backward arrays drawn the same way after everything else
    (so the other draws are a reciprocal network's).

    Sharp first-layer features (``visible_gain`` ≠ 1, ``hidden_bias`` > 0, drawn last):
    the weights of each coupling out of a visible layer ×``visible_gain`` and the biases
    of the layers it feeds U[−hidden_bias, hidden_bias] — random features that tile the
    data's plane. On a non-reciprocal network only the forward array is scaled, so the
    field read back through the backward array stays small. ``input_gain``: the weights
    of each coupling out of a clamped input layer ×``input_gain`` (a noise level's input
    that moves the features as much as the data does)."""
    params = {}
    for name, (rows, cols) in meta.weight_shapes().items():
        params[name] = rng.normal(0.0, gain * np.sqrt(2.0 / (rows + cols)), size=(rows, cols))
    for name, shape in meta.bias_shapes().items():
        params[name] = np.zeros(shape)
    for name, (rows, cols) in meta.backward_shapes().items():
        params[name] = rng.normal(0.0, gain * np.sqrt(2.0 / (rows + cols)), size=(rows, cols))
    for k, (a, b) in enumerate(meta.couplings):
        if meta.layer(a).kind == "visible":
            params[f"w{k}"] = params[f"w{k}"] * visible_gain
            if hidden_bias > 0:
                params[f"b_{b}"] = rng.uniform(-hidden_bias, hidden_bias, params[f"b_{b}"].shape)
        if meta.layer(a).kind == "input":
            params[f"w{k}"] = params[f"w{k}"] * input_gain
    return params


def activations(meta: NetworkMeta, state: Arrays, drive: Drive) -> dict[str, np.ndarray]:
    """ρ of every layer (clamped inputs included), layer -> (batch, size)."""
    out = {}
    for layer in meta.layers:
        values = drive.inputs[layer.name] if layer.kind == "input" else state[layer.name]
        out[layer.name] = get_activation(layer.activation).rho(values)
    return out


def net_input(meta: NetworkMeta, params: Arrays, acts: Arrays, name: str) -> np.ndarray:
    """``b + Σ W ρ(neighbour)`` for free layer ``name``, shape (batch, size)."""
    total = params[f"b_{name}"] + 0.0
    for k, (a, b) in enumerate(meta.couplings):
        if b == name:
            total = total + acts[a] @ params[f"w{k}"]
        if a == name:
            total = total + acts[b] @ params[f"w{k}"].T
    return total


def external_force(meta: NetworkMeta, state: Arrays, drive: Drive, name: str) -> np.ndarray:
    """Spring and nudge force on free layer ``name``, shape (batch, size)."""
    s = state[name]
    force = np.zeros_like(s)
    if meta.layer(name).kind == "visible" and meta.spring_lambda > 0:
        force = force + meta.spring_lambda * (drive.targets[name] - s)
    if name in drive.nudge_targets and drive.nudge_strength != 0.0:
        force = force + drive.nudge_strength * (drive.nudge_targets[name] - s)
    return force


def force(meta: NetworkMeta, params: Arrays, state: Arrays, drive: Drive) -> dict:
    """The right-hand side τ ds/dt of every free layer, layer -> (batch, size)."""
    acts = activations(meta, state, drive)
    out = {}
    for layer in meta.layers:
        if layer.kind == "input":
            continue
        s = state[layer.name]
        drive_in = net_input(meta, params, acts, layer.name)
        if meta.law == SCELLIER_BENGIO:
            drive_in = get_activation(layer.activation).drho(s) * drive_in
        out[layer.name] = -s + drive_in + external_force(meta, state, drive, layer.name)
    return out


def energy(meta: NetworkMeta, params: Arrays, state: Arrays, drive: Drive) -> np.ndarray:
    """Total energy (model + springs + nudges) per sample, shape (batch,)."""
    acts = activations(meta, state, drive)
    total = 0.0
    for layer in meta.layers:
        if layer.kind == "input":
            continue
        s, a = state[layer.name], acts[layer.name]
        own = 0.5 * s**2 if meta.law == SCELLIER_BENGIO else _lambda(layer.activation, a)
        total = total + np.sum(own - params[f"b_{layer.name}"] * a, axis=-1)
        if layer.kind == "visible" and meta.spring_lambda > 0:
            pull = _pull(meta, layer.activation, s, a, drive.targets[layer.name])
            total = total + meta.spring_lambda * pull
        if layer.name in drive.nudge_targets and drive.nudge_strength != 0.0:
            pull = _pull(meta, layer.activation, s, a, drive.nudge_targets[layer.name])
            total = total + drive.nudge_strength * pull
    for k, (a, b) in enumerate(meta.couplings):
        total = total - np.sum((acts[a] @ params[f"w{k}"]) * acts[b], axis=-1)
    return np.asarray(total)


def _pull(meta: NetworkMeta, activation: str, s, a, target) -> np.ndarray:
    """Energy per unit conductance of a pull toward ``target``, shape (batch,).

    The circuit injects ``g (t − s)`` into the unit node. Under the Scellier–Bengio law
    that is the gradient of ``g/2 ‖s − t‖²``. Under the Hopfield law the energy lives in
    activation space and the matching term is ``g Σ (Λ(a) − t a + t²/2)`` (whose
    a-gradient is ``g (u − t)``); for linear units both are ``g/2 ‖s − t‖²``.
    """
    if meta.law == SCELLIER_BENGIO:
        return 0.5 * np.sum((s - target) ** 2, axis=-1)
    return np.sum(_lambda(activation, a) - target * a + 0.5 * target**2, axis=-1)


def _lambda(activation: str, a: np.ndarray) -> np.ndarray:
    """Λ(a) = ∫₀^a ρ⁻¹ for the monotone activations the Hopfield law allows."""
    lam = get_activation(activation).lam
    if lam is None:
        raise ValueError(f"the hopfield law has no energy for activation {activation!r}")
    return lam(a)
