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

from neurosim.circuit.activations import get_activation
from neurosim.engine.sources import Sources
from neurosim.engine.workspace import Tables, Workspace, no_energy_reason
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import Crossbar, row_values


def energy(crossbar: Crossbar, sources: Sources, state: np.ndarray) -> np.ndarray:
    """E (model units) of each state, shape (batch,), for states ``state`` (batch, free).

    Evaluated by the engine's own kernel (:meth:`neurosim.engine.workspace.Workspace
    .energies`), the energy the solvers descend.
    """
    reason = no_energy_reason(crossbar)
    if reason is not None:
        raise CircuitError(f"the circuit has no energy function: {reason}")
    s = np.ascontiguousarray(state, dtype=np.float64)
    work = Workspace(
        crossbar, Tables.build(crossbar, sources.nudge, np.float64), sources, slice(0, len(s))
    )
    work.activate(s)
    work.columns()
    out = np.empty(len(s))
    work.energies(s, out)
    return out


def has_energy(crossbar: Crossbar) -> bool:
    """True if the circuit has an energy function its dynamics descend."""
    return no_energy_reason(crossbar) is None


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
    (ρ itself: the row drivers' offsets and limits are applied by the caller)."""
    act_e = np.zeros((s.shape[0], cb.even.width))
    act_o = np.zeros((s.shape[0], cb.odd.width))
    free, inputs = cb.free_slices(), cb.input_slices()
    for group, act in ((cb.even, act_e), (cb.odd, act_o)):
        for name, where in group.slices.items():
            rho = get_activation(cb.meta.layer(name).activation).rho
            values = s[:, free[name]] if name in free else sources.inputs[:, inputs[name]]
            act[:, where] = rho(values)
    return act_e, act_o
