"""The circuit's energy function and its dissipated power.

``energy`` is the Lyapunov function of the unit dynamics ``τ ds/dt = F(s)``: F = −∂E/∂s
under the Scellier–Bengio law, F = −∂E/∂a (a = ρ(s)) under the Hopfield law, so E never
increases while the circuit settles. It is in model units; the circuit's own quantity is
the co-content ``Φ = vs²·g_unit·E`` in watts (``C dV/dt = −∂Φ/∂V``). It exists only for a
circuit whose couplings are the same matrix in both directions and whose injections have
unit gain; a mismatched circuit has no energy and :func:`energy` says so.

``dissipated_power`` is the physical power [W] turned into heat by the resistive
elements (devices, leaks, springs); integrated over a transient it gives joules.
"""

from __future__ import annotations

import numpy as np

from neurosim.engine.sources import Sources
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import Crossbar, row_values
from neurosim.network.activations import get_activation


def energy(crossbar: Crossbar, sources: Sources, state: np.ndarray) -> np.ndarray:
    """E (model units) of each state, shape (batch,), for states ``state`` (batch, free)."""
    _require_energy(crossbar)
    cb, law = crossbar, crossbar.meta.law
    s = np.asarray(state, dtype=np.float64)
    act_e, act_o = _activations(cb, sources, s)
    a = np.concatenate([act_e[:, : cb.even.free], act_o[:, : cb.odd.free]], axis=1)
    if law == "scellier_bengio":
        own = 0.5 * cb.leak * s**2
        spring = 0.5 * cb.spring * (s - sources.targets) ** 2
        nudge = 0.5 * sources.nudge * (s - sources.nudge_targets) ** 2
    else:
        lam = _lambda(cb, s, a)
        own = cb.leak * lam
        spring = cb.spring * (lam - sources.targets * a + 0.5 * sources.targets**2)
        nudge = sources.nudge * (lam - sources.nudge_targets * a + 0.5 * sources.nudge_targets**2)
    total = np.sum(own - cb.bias * a + spring + nudge, axis=1)
    # each coupling once: even rows (free and inputs) onto odd free columns, then the odd
    # group's clamped inputs onto even free columns
    total -= np.sum((act_e @ cb.m_eo) * act_o[:, : cb.odd.free], axis=1)
    total -= np.sum((act_o[:, cb.odd.free :] @ cb.m_oe[cb.odd.free :]) * a[:, : cb.even.free], 1)
    return total


def co_content_watts(crossbar: Crossbar, energy_model_units: np.ndarray) -> np.ndarray:
    """The circuit's co-content Φ [W] for energies in model units."""
    scaling = crossbar.meta.scaling
    return np.asarray(energy_model_units) * scaling.volts_per_unit**2 * scaling.g_unit


def dissipated_power(crossbar: Crossbar, sources: Sources, state: np.ndarray) -> np.ndarray:
    """Heat [W] per sample in devices, bias resistors, leaks and springs, shape (batch,).

    Row lines at ``k_p·vs·ρ`` and ``k_n`` times that drive devices into 0 V columns; the
    nudge elements are controlled sources, not resistors, and are not counted.
    """
    cb = crossbar
    scaling = cb.meta.scaling
    vs, g_unit = scaling.volts_per_unit, scaling.g_unit
    s = np.asarray(state, dtype=np.float64)
    act_e, act_o = _activations(cb, sources, s)
    act_e = row_values(act_e, cb.row_transform_even)  # what the row lines carry
    act_o = row_values(act_o, cb.row_transform_odd)
    rows = _row_power(act_e, cb.row_conductance_even) + _row_power(act_o, cb.row_conductance_odd)
    nodes = np.sum(cb.leak * s**2 + cb.spring * (s - sources.targets) ** 2, axis=1)
    return vs**2 * (rows + g_unit * nodes) + cb.bias_power


def _row_power(act: np.ndarray, conductance: np.ndarray) -> np.ndarray:
    """Σ over a group's arrays of their dissipation ÷ vs², (batch,): ``act²·g`` for
    per-row conductances (width,), ``actᵀ·Q·act`` for a wired group's matrix."""
    if conductance.ndim == 1:
        return act**2 @ conductance
    return np.einsum("bi,ij,bj->b", act, conductance, act)


def _activations(cb: Crossbar, sources: Sources, s: np.ndarray):
    """ρ of every unit in group column order: (batch, width_even), (batch, width_odd)
    (the compiled drivers' row values: no offsets or limits, see :func:`_require_energy`)."""
    act_e = np.zeros((s.shape[0], cb.even.width))
    act_o = np.zeros((s.shape[0], cb.odd.width))
    free, inputs = cb.free_slices(), cb.input_slices()
    for group, act in ((cb.even, act_e), (cb.odd, act_o)):
        for name, where in group.slices.items():
            rho = get_activation(cb.meta.layer(name).activation).rho
            values = s[:, free[name]] if name in free else sources.inputs[:, inputs[name]]
            act[:, where] = rho(values)
    return act_e, act_o


def _lambda(cb: Crossbar, s: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Λ(a) = ∫₀^a ρ⁻¹ per free unit (Hopfield law; monotone activations only).

    For tanh it is computed from u = s as u·a − log cosh u, finite even where a = ±1.
    """
    out = np.empty_like(a)
    for name, where in cb.free_slices().items():
        activation = cb.meta.layer(name).activation
        values = a[:, where]
        if activation == "linear":
            out[:, where] = 0.5 * values**2
        elif activation == "tanh":
            u = np.abs(s[:, where])
            log_cosh = u + np.log1p(np.exp(-2.0 * u)) - np.log(2.0)
            out[:, where] = s[:, where] * values - log_cosh
        else:
            raise CircuitError(f"layer {name}: the hopfield law has no energy for {activation}")
    return out


def _require_energy(cb: Crossbar) -> None:
    if not cb.symmetric():
        raise CircuitError(
            "the circuit has no energy function: forward and backward device arrays differ"
        )
    if np.any(np.abs(cb.inj_gain - 1.0) > 1e-12):
        raise CircuitError("the circuit has no energy function: an injection gain is not 1")
    if cb.transforms_rows():
        raise CircuitError(
            "the circuit has no energy function here: a row driver has an offset or limits"
        )
