"""The batched engine's equilibria, honest statuses.

Exactness is claimed against independent references only: the abstract model's fixed
point (tests/naive.py, NumPy), MINPACK, and the general MNA solver (ngspice: the verify
tests). The "own dynamics" tests compare the accelerated solver with the engine's own
plain steps — the same force — so they check the solver, not the force.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from neurosim.circuit.drive import Drive
from neurosim.circuit.inputs import drive_settings
from neurosim.circuit.meta import NetworkMeta
from neurosim.engine.dc import solve_dc
from neurosim.engine.readout import node_voltages
from neurosim.engine.relax import relax, residual
from neurosim.engine.solvers import Anderson, Gradient, solver_named
from neurosim.engine.sources import default_sources, sources_from_drive, sources_from_settings
from neurosim.errors import ConvergenceError
from neurosim.lower.crossbar import lower_crossbar
from neurosim.lower.mna import lower_dc
from neurosim.netlist.parse import parse_netlist
from neurosim.network.compile import compile_network
from neurosim.network.model import force
from neurosim.status import Status
from tests.naive import model_fixed_point
from tests.networks import random_params, small_network
from tests.oracle import ideal_crossbar

ROOT = Path(__file__).resolve().parents[2]


def network(law: str, hidden: str) -> NetworkMeta:
    return small_network(law, hidden, spring=2.0)


def case(law: str, hidden: str, seed: int, batch: int = 5, nudge: float = 0.0, gain=0.9):
    """Random parameters and drives; gain 0.9 couples strongly enough for several
    equilibria, 0.5 (the FlowEqProp initialisation) gives one per input in practice."""
    meta = network(law, hidden)
    rng = np.random.default_rng(seed)
    params = random_params(meta, rng, gain=gain)
    drive = Drive(
        inputs={"in": rng.uniform(-1, 1, (batch, 3))},
        targets={"x": rng.uniform(-1, 1, (batch, 4))},
        nudge_targets={"out": rng.uniform(-1, 1, (batch, 2))} if nudge else {},
        nudge_strength=nudge,
    )
    return meta, params, drive


LAWS = [
    ("scellier_bengio", "rho", 0.0),
    ("scellier_bengio", "tanh", 0.4),
    ("scellier_bengio", "rho", -0.3),
    ("hopfield", "tanh", 0.0),
    ("hopfield", "tanh", 0.5),
]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize(("law", "hidden", "nudge"), LAWS)
def test_equilibrium_is_a_fixed_point_of_the_abstract_model(law, hidden, nudge, seed):
    """The abstract model's own force (plain NumPy) vanishes at the engine's states."""
    meta, params, drive = case(law, hidden, seed, batch=40, nudge=nudge)
    crossbar = lower_crossbar(compile_network(meta, params))
    eq = relax(crossbar, sources_from_drive(crossbar, drive), tolerance=1e-12)
    eq.raise_if_failed()
    state = {name: eq.state[:, where] for name, where in crossbar.free_slices().items()}
    forces = force(meta, params, state, drive)
    assert max(float(np.max(np.abs(f))) for f in forces.values()) < 1e-11


@pytest.mark.parametrize(("law", "hidden", "nudge"), LAWS[:1] + LAWS[3:4])
def test_equilibrium_matches_minpack_where_its_root_finder_converges(law, hidden, nudge):
    """Against MINPACK's hybrd on the abstract model, from zero like the engine."""
    meta, params, drive = case(law, hidden, 0, nudge=nudge, gain=0.5)
    crossbar = lower_crossbar(compile_network(meta, params))
    eq = relax(crossbar, sources_from_drive(crossbar, drive), tolerance=1e-12)
    checked = 0
    for n in range(drive.targets["x"].shape[0]):
        expected = model_fixed_point(meta, params, _row(drive, n))
        if expected is None:
            continue
        checked += 1
        for name, where in crossbar.free_slices().items():
            np.testing.assert_allclose(eq.state[n, where], expected[name], atol=1e-10)
    assert checked >= 3


def test_non_ideal_circuit_matches_the_general_mna_solver():
    """Edited devices, gains and leaks: every node voltage against damped Newton on MNA."""
    meta, params, drive = case("scellier_bengio", "rho", 7, batch=3)
    circuit = compile_network(meta, params)
    rng = np.random.default_rng(3)
    for name in [n for n in circuit.elements if n.startswith("rw")][::7]:
        circuit.set_value(name, circuit.elements[name].value * rng.uniform(0.8, 1.25))
    circuit.set_value("en_h_2", -0.93)
    circuit.set_value("ep_x_1", 1.07)
    circuit.set_value("rl_h_4", circuit.elements["rl_h_4"].value * 0.7)
    circuit.set_value("fi_x_1", 0.95)
    crossbar = lower_crossbar(circuit)
    assert not crossbar.symmetric()
    settings = drive_settings(meta, drive)
    sources = sources_from_settings(crossbar, settings)
    eq = relax(crossbar, sources, tolerance=1e-13, max_passes=20_000).raise_if_failed()
    assert eq.method == "anderson" and not eq.followed.any()  # a certified stable state
    ours = node_voltages(crossbar, sources, eq.state)
    system = lower_dc(circuit)
    for n, setting in enumerate(settings):
        system.set_sources(setting)
        theirs = solve_dc(system).voltages
        assert set(theirs) == set(ours)
        worst = max(abs(theirs[node] - ours[node][n]) for node in theirs)
        assert worst < 1e-12


@pytest.mark.parametrize(("law", "hidden"), [("scellier_bengio", "rho"), ("hopfield", "tanh")])
def test_float32_path_agrees_with_float64(law, hidden):
    meta, params, drive = case(law, hidden, 11, batch=300, gain=0.5)
    crossbar = ideal_crossbar(meta, params)
    sources = sources_from_drive(crossbar, drive)
    exact = relax(crossbar, sources, tolerance=1e-12).raise_if_failed()
    single = relax(crossbar, sources, dtype=np.float32).raise_if_failed()
    assert single.state.dtype == np.float32 and single.tolerance == 3e-6
    assert np.max(np.abs(single.state - exact.state)) <= 1e-4


@pytest.mark.parametrize(("law", "hidden", "nudge"), LAWS)
def test_anderson_settles_where_the_circuits_own_dynamics_settle(law, hidden, nudge):
    """Same equilibrium as the engine's plain steps from the same start (the circuit's
    dynamics with the same force: a check of the accelerated solver, not of the force)."""
    meta, params, drive = case(law, hidden, 5, batch=200, nudge=nudge, gain=0.5)
    crossbar = ideal_crossbar(meta, params)
    sources = sources_from_drive(crossbar, drive)
    fast = relax(crossbar, sources, tolerance=1e-11).raise_if_failed()
    slow = relax(crossbar, sources, solver=Gradient(), tolerance=1e-11, max_passes=50_000)
    slow.raise_if_failed()
    assert np.max(np.abs(fast.state - slow.state)) < 1e-9
    assert fast.total_passes * 4 < slow.total_passes


@pytest.mark.parametrize(("law", "hidden", "nudge"), LAWS)
def test_without_an_energy_anderson_settles_where_the_circuits_own_dynamics_settle(
    law, hidden, nudge
):
    """5% mismatch between each coupling's two arrays (no energy function): the
    certified accelerated path ends where plain steps from the same start end, on every
    sample, in a fraction of their passes."""
    meta, params, drive = case(law, hidden, 6, batch=200, nudge=nudge, gain=0.5)
    circuit = compile_network(meta, params)
    rng = np.random.default_rng(9)
    for name in [n for n in circuit.elements if n.startswith("rw") and "b_" in n]:
        circuit.set_value(name, circuit.elements[name].value * (1 + 0.05 * rng.normal()))
    crossbar = lower_crossbar(circuit)
    assert not crossbar.symmetric()
    sources = sources_from_drive(crossbar, drive)
    fast = relax(crossbar, sources, tolerance=1e-11).raise_if_failed()
    slow = relax(crossbar, sources, solver=Gradient(), tolerance=1e-11, max_passes=50_000)
    slow.raise_if_failed()
    assert fast.method == "anderson" and not fast.followed.any()
    assert np.max(np.abs(fast.state - slow.state)) < 1e-9
    assert fast.total_passes * 4 < slow.total_passes


def test_a_warm_start_from_the_free_equilibrium_saves_passes():
    meta, params, drive = case("scellier_bengio", "rho", 2, batch=64)
    crossbar = ideal_crossbar(meta, params)
    free = relax(crossbar, sources_from_drive(crossbar, drive)).raise_if_failed()
    nudged_drive = replace(drive, nudge_targets={"out": np.zeros((64, 2))}, nudge_strength=1e-3)
    nudged = sources_from_drive(crossbar, nudged_drive)
    cold = relax(crossbar, nudged).raise_if_failed()
    warm = relax(crossbar, nudged, start=free.state).raise_if_failed()
    assert warm.total_passes < cold.total_passes
    assert np.max(np.abs(warm.state - cold.state)) < 1e-5
    again = relax(crossbar, nudged, start=warm.state)
    assert again.ok and np.all(again.passes == 1)  # already settled: one residual check


def test_non_convergence_is_reported_per_sample_and_never_hidden():
    meta, params, drive = case("scellier_bengio", "rho", 4, batch=6)
    crossbar = ideal_crossbar(meta, params)
    sources = sources_from_drive(crossbar, drive)
    eq = relax(crossbar, sources, max_passes=3, throw=False)
    assert not eq.ok and not np.any(eq.converged)
    assert np.all(eq.residual > eq.tolerance) and np.all(eq.passes == 3)
    assert "0/6 converged" in eq.summary()
    with pytest.raises(ConvergenceError, match="did not converge: 0/6"):
        eq.raise_if_failed()
    # the reported residual is that of the state returned
    np.testing.assert_allclose(residual(crossbar, sources, eq.state), eq.residual, rtol=1e-12)


def test_diverging_samples_are_flagged():
    meta, params, drive = case("scellier_bengio", "tanh", 4, batch=4)
    crossbar = ideal_crossbar(meta, params)
    crossbar.m_eo[0, 0] = np.inf  # a broken device: the column current is not finite
    eq = relax(crossbar, sources_from_drive(crossbar, drive), max_passes=50, throw=False)
    assert not eq.ok and "hit NaN/inf" in eq.summary()


def test_each_sample_is_independent_of_its_batch_and_of_threads():
    meta, params, drive = case("scellier_bengio", "rho", 9, batch=300)
    crossbar = ideal_crossbar(meta, params)
    sources = sources_from_drive(crossbar, drive)
    together = relax(crossbar, sources, threads=2, tile_rows=64)
    single = relax(crossbar, sources, threads=1)
    np.testing.assert_array_equal(together.state, single.state)
    alone = relax(crossbar, sources_from_drive(crossbar, _row(drive, 123)))
    np.testing.assert_allclose(alone.state[0], together.state[123], atol=1e-15)


def _row(drive: Drive, n: int) -> Drive:
    return Drive(
        {k: v[n : n + 1] for k, v in drive.inputs.items()},
        {k: v[n : n + 1] for k, v in drive.targets.items()},
        {k: v[n : n + 1] for k, v in drive.nudge_targets.items()},
        drive.nudge_strength,
    )


def test_bad_arguments_are_one_line_errors():
    meta, params, drive = case("scellier_bengio", "rho", 0, batch=2)
    crossbar = ideal_crossbar(meta, params)
    sources = sources_from_drive(crossbar, drive)
    with pytest.raises(ValueError, match="method must be"):
        solver_named("newton")
    with pytest.raises(ValueError, match="solver must be one of"):
        relax(crossbar, sources, solver="anderson")
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        Anderson(depth=0)
    with pytest.raises(ValueError, match="step must be positive"):
        Gradient(step=-0.1)
    with pytest.raises(ValueError, match="dtype must be"):
        relax(crossbar, sources, dtype=np.int32)
    with pytest.raises(ValueError, match="tolerance must be positive"):
        relax(crossbar, sources, tolerance=0.0)
    with pytest.raises(ValueError, match="start state holds NaN"):
        relax(crossbar, sources, start=np.full(crossbar.free, np.nan))
    with pytest.raises(ValueError, match="NaN or inf"):
        sources_from_drive(crossbar, replace(drive, targets={"x": np.full((2, 4), np.nan)}))
    with pytest.raises(ValueError, match=r"expected \(2, 4\)"):
        sources_from_drive(crossbar, replace(drive, targets={"x": np.zeros((2, 5))}))


def test_shipped_digits_network_settles_a_flow_matching_batch():
    circuit = parse_netlist(ROOT / "netlists/digits_flow.cir")
    crossbar = lower_crossbar(circuit)
    rng = np.random.default_rng(0)
    sources = default_sources(crossbar, 256)
    sources.targets[:, crossbar.free_slices()["x"]] = rng.standard_normal((256, 64))
    eq = relax(crossbar, sources).raise_if_failed()
    assert eq.total_passes < 40  # the reference schedule uses 300 steps
    reference = relax(crossbar, sources, solver=Gradient(), tolerance=1e-9, max_passes=5000)
    assert np.max(np.abs(eq.state - reference.state)) < 1e-5


def test_each_sample_has_a_status_and_throw_names_the_first_failure():
    """Statuses per sample (converged, out of passes, NaN/inf); by default relax raises
    one ConvergenceError naming the first failed sample and what to change."""
    meta, params, drive = case("scellier_bengio", "tanh", 4, batch=4)
    crossbar = ideal_crossbar(meta, params)
    sources = sources_from_drive(crossbar, drive)
    settled = relax(crossbar, sources)
    assert list(settled.status) == [Status.CONVERGED] * 4 and settled.ok
    short = relax(crossbar, sources, max_passes=2, throw=False)
    assert set(short.status) == {Status.MAX_PASSES}
    with pytest.raises(ConvergenceError, match=r"sample 0: the pass budget ran out.*max_passes"):
        relax(crossbar, sources, max_passes=2)
    crossbar.m_eo[0, 0] = np.inf
    broken = relax(crossbar, sources, max_passes=50, throw=False)
    assert Status.NON_FINITE in set(broken.status)
    assert np.array_equal(broken.converged, broken.status == Status.CONVERGED)
