"""Failure modes found in review: each pinned by the case that exposed it."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurosim.circuit.drive import Drive
from neurosim.circuit.meta import Layer, NetworkMeta, Scaling
from neurosim.engine.energy import energy
from neurosim.engine.relax import relax
from neurosim.engine.sources import default_sources, sources_from_drive
from neurosim.engine.transient import transient
from neurosim.engine.workspace import Tables, Workspace
from neurosim.errors import CircuitError
from neurosim.lower.crossbar import lower_crossbar
from neurosim.netlist.parse import parse_netlist
from neurosim.network.compile import compile_network
from neurosim.network.model import init_params

ROOT = Path(__file__).resolve().parents[2]
XOR = ROOT / "netlists/xor.cir"


def mismatched_chain(seed: int = 3, batch: int = 40):
    """A Hopfield chain with ±10% device spread: no energy function, several equilibria."""
    rng = np.random.default_rng(200 + seed)
    layers = (
        Layer("x", int(rng.integers(3, 9)), "visible", "linear"),
        Layer("h1", int(rng.integers(4, 12)), "hidden", "tanh"),
        Layer("h2", int(rng.integers(4, 12)), "hidden", "tanh"),
        Layer("y", int(rng.integers(1, 4)), "output", "tanh"),
    )
    couplings = (("x", "h1"), ("h1", "h2"), ("h2", "y"))
    meta = NetworkMeta("crossbar", "hopfield", layers, couplings, Scaling(), 4.0)
    circuit = compile_network(meta, init_params(meta, rng, gain=0.7))
    for name in [n for n in circuit.elements if n.startswith("rw")][::6]:
        circuit.set_value(name, circuit.elements[name].value * rng.uniform(0.9, 1.1))
    crossbar = lower_crossbar(circuit)
    drive = Drive(
        targets={"x": rng.uniform(-1, 1, (batch, layers[0].size))},
        nudge_targets={"y": rng.uniform(-1, 1, (batch, layers[3].size))},
        nudge_strength=0.3,
    )
    return crossbar, sources_from_drive(crossbar, drive)


def jacobians(crossbar, sources, state, h=1e-6):
    """∂F/∂s (batch, free, free) by central differences of the engine's force."""
    tables = Tables.build(crossbar, sources.nudge, np.float64)
    work = Workspace(crossbar, tables, sources, slice(0, sources.batch))

    def force_at(s):
        out = np.empty_like(s)
        work.force(np.ascontiguousarray(s), out, np.empty(len(s)))
        return out

    out = np.empty(state.shape + state.shape[1:])
    for j in range(state.shape[1]):
        e = np.zeros(state.shape[1])
        e[j] = h
        out[:, :, j] = (force_at(state + e) - force_at(state - e)) / (2 * h)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_without_an_energy_relax_settles_where_the_circuit_settles(seed):
    """A mismatched multi-stable chain: every state returned is stable (dense
    eigenvalues), and nearly every one is where the engine's RK45 transient (the same
    force, another integrator: a check of the solver, not of the force) from the same
    start goes — the rest in a neighbouring stable basin, as often as the
    energy-guided path on the chain's reciprocal part (30 seeds × 40: 30 of 1,200 both)."""
    crossbar, sources = mismatched_chain(seed)
    assert not crossbar.symmetric()
    eq = relax(crossbar, sources, tolerance=1e-10, max_passes=50_000).raise_if_failed()
    assert eq.method == "anderson"
    growth = np.linalg.eigvals(jacobians(crossbar, sources, eq.state)).real.max(axis=1)
    assert np.all(growth < 0), growth.max()
    settled = transient(crossbar, sources, np.array([3000 * 1e-6])).states[-1]
    same = np.max(np.abs(eq.state - settled), axis=1) < 1e-7
    assert np.all(same[eq.followed])  # plain steps follow the trajectory exactly
    assert np.count_nonzero(~same) <= 2, np.flatnonzero(~same)


def test_an_input_layer_as_column_layer_is_refused_not_crashed(tmp_path):
    layers = (Layer("h", 3, "hidden", "tanh"), Layer("in", 2, "input", "linear"))
    meta = NetworkMeta("crossbar", "hopfield", layers, (("h", "in"),), Scaling())
    circuit = compile_network(meta, init_params(meta, np.random.default_rng(0)))
    with pytest.raises(CircuitError, match="column layer"):
        lower_crossbar(circuit)


def test_a_node_without_conductance_to_ground_is_named():
    circuit = parse_netlist(XOR)
    circuit.set_value("gn_out_0", -3e-4)  # nudge -3 g_unit beats the unit leak
    crossbar = lower_crossbar(circuit)
    with pytest.raises(CircuitError, match="unit out_0"):
        relax(crossbar, default_sources(crossbar, 2))


def test_sources_only_where_the_netlist_has_elements():
    crossbar = lower_crossbar(parse_netlist(XOR))
    with pytest.raises(ValueError, match="layer 'h' has no element"):
        sources_from_drive(
            crossbar, Drive(nudge_targets={"h": np.zeros((1, 4))}, nudge_strength=1.0)
        )


def test_waveform_sources_are_refused_and_capacitor_ics_start_transients():
    circuit = parse_netlist(XOR)
    pulsed = replace(circuit, elements=dict(circuit.elements))
    pulsed.elements["vin_in_0"] = replace(pulsed.elements["vin_in_0"], extra="pulse(0 1 1u)")
    with pytest.raises(CircuitError, match="waveform"):
        lower_crossbar(pulsed)
    circuit.elements["cu_h_0"] = replace(circuit.elements["cu_h_0"], ic=0.05)
    crossbar = lower_crossbar(circuit)
    start = crossbar.defaults["start"]
    assert start[crossbar.free_slices()["h"]][0] == pytest.approx(0.5)  # 0.05 V / 0.1 V
    early = transient(crossbar, default_sources(crossbar, 1), np.array([1e-12])).states[0, 0]
    np.testing.assert_allclose(early, start, atol=1e-5)


def test_rk45_survives_output_times_a_rounding_error_apart():
    crossbar = lower_crossbar(parse_netlist(XOR))
    times = np.array([3e-7, np.nextafter(3e-7, 1.0), 3e-7 * (1 + 1e-14), 1e-6])
    trajectory = transient(crossbar, default_sources(crossbar, 1), times)
    assert np.all(np.isfinite(trajectory.states))


def test_hopfield_energy_is_finite_for_saturated_units():
    crossbar, _ = mismatched_chain(batch=1)
    ideal = lower_crossbar(
        compile_network(crossbar.meta, init_params(crossbar.meta, np.random.default_rng(1)))
    )
    state = np.full((1, ideal.free), 30.0)  # tanh(30) == 1.0 in float64
    assert np.all(np.isfinite(energy(ideal, default_sources(ideal, 1), state)))


def test_refresh_refuses_a_changed_topology():
    circuit = parse_netlist(XOR)
    crossbar = lower_crossbar(circuit)
    wider = replace(circuit, elements=dict(circuit.elements))
    wider.elements["rwire"] = replace(circuit.elements["rl_h_0"], name="rwire")
    with pytest.raises(CircuitError, match="lower it again"):
        crossbar.refresh(wider)
