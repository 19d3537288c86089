"""Analog sampling: the released netlist against ngspice's .tran, and Langevin sampling's
noise against the stationary statistics it must have (kT/C; the Lyapunov equation).

The ngspice comparisons run ngspice for real (CI installs it); they are never skipped.
"""

from dataclasses import replace

import numpy as np
import pytest
from scipy.linalg import solve_continuous_lyapunov

from neurosim.circuit.meta import Layer, NetworkMeta
from neurosim.engine.noise import BOLTZMANN, diffusion, johnson_density
from neurosim.engine.readout import node_voltages
from neurosim.engine.relax import net_current
from neurosim.engine.sources import default_sources
from neurosim.lower.crossbar import lower_crossbar
from neurosim.netlist.parse import parse_netlist
from neurosim.netlist.write import netlist_text, write_netlist
from neurosim.samplers.settings import AnalogSampling, LangevinSampling
from neurosim.spice.ngspice import transients
from tests.engine.test_transient import resistor_power
from tests.networks import SCALING, chip_of, flow_net, random_params

TAU = SCALING.tau


def flow_chip(seed: int = 3):
    meta = flow_net()
    return chip_of(meta, random_params(meta, np.random.default_rng(seed), gain=0.9))


def linear_chip(gain: float, seed: int = 0):
    """x (3, visible, linear) – h (4, hidden, linear), springs λ = 15: linear dynamics
    once x is released."""
    layers = (Layer("x", 3, "visible", "linear"), Layer("h", 4, "hidden", "linear"))
    meta = NetworkMeta("crossbar", "scellier_bengio", layers, (("x", "h"),), SCALING, 15.0)
    return chip_of(meta, random_params(meta, np.random.default_rng(seed), gain=gain))


def test_released_netlist_runs_in_ngspice_as_the_engine_runs_it(tmp_path):
    """The written netlist (through the file, as a user would) has no springs, starts
    where sample 0 starts, and ngspice's .tran of it agrees with the engine's transient."""
    chip = flow_chip()
    settings = AnalogSampling(n=3, seed=5)
    path = write_netlist(settings.released(chip), tmp_path / "released.cir")
    circuit = parse_netlist(path)
    assert not any(n.startswith(("rs_", "vt_")) for n in circuit.elements)
    assert circuit.network.spring_lambda == 0
    crossbar = lower_crossbar(circuit)
    assert np.all(crossbar.spring == 0)
    x0 = np.random.default_rng(5).standard_normal((3, 4))[0]  # the sampler's draw
    start = crossbar.defaults["start"]
    np.testing.assert_allclose(start[chip.free_slices()["x"]], x0, rtol=1e-12)
    assert np.all(start[4:] == 0)
    vs = chip.meta.scaling.volts_per_unit
    text = netlist_text(replace(circuit, controls=()))
    (run,) = transients(text, [{}], tstop=8 * TAU, tstep=TAU / 100, tmax=TAU / 100)
    released = chip.release("x")
    ours = released.transient(released.sources(1), run.time, start=start)
    volts = node_voltages(crossbar, default_sources(crossbar, 1), ours.states[:, 0, :])
    worst = max(float(np.max(np.abs(volts[n] - run.voltages[n]))) for n in volts)
    assert worst <= 1e-4 * vs, worst / vs  # measured 1.6e-5 (ngspice's trapezoid, τ/100)
    moved = max(np.ptp(run.voltages[u]) for u in crossbar.layout.units)
    assert moved > 0.05 * vs


def test_inductive_released_netlist_runs_in_ngspice_as_the_engine_runs_it(tmp_path):
    """With a series inductor per released node (momentum), ngspice's .tran of the
    written netlist agrees with the engine's transient (its inertia L·G) at every unit
    node, and in the heat; the inductors change the path (not a comparison of equals)."""
    chip = flow_chip()
    henries = 2e-3  # L·G = 0.2 τ
    settings = AnalogSampling(n=3, seed=5, inductance=henries)
    path = write_netlist(settings.released(chip), tmp_path / "heavy.cir")
    circuit = parse_netlist(path)
    assert circuit.elements["lm_x_0"].nodes == ("x_0", "x_0_m")
    assert circuit.elements["ep_x_0"].nodes[2:] == ("x_0_m", "0")
    released = chip.release("x")
    start = np.zeros(chip.free)
    start[:4] = np.random.default_rng(5).standard_normal((3, 4))[0]
    text = netlist_text(replace(circuit, controls=()))
    (run,) = transients(text, [{}], tstop=8 * TAU, tstep=TAU / 200, tmax=TAU / 200)
    sources = released.sources(1)
    ours = released.transient(sources, run.time, start=start, inertia=released.inertia(henries))
    plain = released.transient(sources, run.time, start=start)
    vs = chip.meta.scaling.volts_per_unit
    units = released._crossbar.layout.units
    nodes = [f"{u}_m" if u.startswith("x_") else u for u in units]
    theirs = np.stack([run.voltages[n] for n in nodes], axis=1) / vs
    worst = np.max(np.abs(ours.states[:, 0, :] - theirs))
    assert worst <= 5e-5, worst  # measured 6e-6 (ngspice's trapezoid at τ/200)
    assert np.max(np.abs(plain.states[:, 0, :] - theirs)) > 0.05
    power = resistor_power(circuit, run.voltages)
    heat = np.concatenate([[0.0], np.cumsum(np.diff(run.time) * (power[1:] + power[:-1]) / 2)])
    np.testing.assert_allclose(ours.heat[1:, 0] - ours.heat[0, 0], heat[1:], rtol=1e-4)


def test_noisy_released_netlist_carries_the_noise_as_trnoise_sources(tmp_path):
    """One trnoise current source per released node with rms √(2kTG/NT); ngspice runs
    it, and neurosim reads it back (its DC value is 0)."""
    chip = flow_chip()
    step = TAU / 20
    settings = AnalogSampling(n=2, temperature=3e9, time_step=step)
    path = write_netlist(settings.released(chip), tmp_path / "noisy.cir")
    circuit = parse_netlist(path)
    noise = sorted(n for n in circuit.elements if n.startswith("inoise_"))
    assert noise == [f"inoise_x_{i}" for i in range(4)]
    g_leak = 1.0 / circuit.elements["rl_x_0"].value
    rms = np.sqrt(2 * BOLTZMANN * 3e9 * g_leak / step)
    element = circuit.elements["inoise_x_0"]
    assert element.value == 0.0
    written = float(element.extra.split("(")[1].split()[0])
    assert written == pytest.approx(rms, rel=1e-5)
    text = netlist_text(replace(circuit, controls=()))
    (run,) = transients(text, [{}], tstop=4 * TAU, tstep=step, tmax=step)
    assert np.all(np.isfinite(run.voltages["x_0"]))


def test_johnson_density_is_4kTG():
    assert johnson_density(1e-3, 300.0) == pytest.approx(4 * 1.380649e-23 * 300 * 1e-3)
    with pytest.raises(ValueError, match="temperature must be >= 0 kelvin"):
        johnson_density(1e-3, -1.0)


def test_lone_node_variance_is_kT_over_C():
    """With no couplings each released node is a capacitor and its leak: V ~ N(μ, kT/C)."""
    chip = linear_chip(gain=0.0)
    released = chip.release("x")
    temperature = 2e9
    n, step = 4000, 0.02 * TAU
    sigma = released.noise(temperature)
    assert np.all(sigma[3:] == 0) and np.all(sigma[:3] > 0)
    run = released.transient(
        released.sources(n), np.array([20.0, 24.0]) * TAU, method="euler", dt=step,
        noise=sigma, seed=1,
    )  # fmt: skip
    volts = run.states[:, :, :3] * SCALING.volts_per_unit
    capacitance = TAU * SCALING.g_unit
    expected = BOLTZMANN * temperature / capacitance
    # Euler–Maruyama's variance of an OU process is σ²/(2a − a²h): +1% at h = 0.02 τ
    measured = volts.var(axis=1).mean()
    assert measured == pytest.approx(expected * (1 + 0.01), rel=0.04)


def test_stationary_covariance_solves_the_lyapunov_equation():
    """A linear released circuit with noise on x only: the states' covariance is the
    solution of A Σ + Σ Aᵀ + B Bᵀ = 0 (A the circuit's Jacobian, from net currents)."""
    chip = linear_chip(gain=0.4, seed=2)
    released = chip.release("x")
    temperature = 5e9
    sources = released.sources(1)
    crossbar = released._crossbar
    base = net_current(crossbar, sources, np.zeros((1, chip.free)))
    jacobian = np.stack(
        [net_current(crossbar, sources, np.eye(chip.free)[[j]])[0] - base[0]
         for j in range(chip.free)], axis=1,
    ) / crossbar.tau[:, None]  # fmt: skip
    rates = -np.linalg.eigvals(jacobian).real
    assert np.all(rates > 0)  # stable
    sigma = released.noise(temperature)
    expected = solve_continuous_lyapunov(jacobian, -np.diag(sigma**2))
    slow = 1.0 / rates.min()
    times = np.arange(8.0, 17.0, 2.0) * slow  # after burn-in, ~decorrelated
    run = released.transient(
        released.sources(2000), times, method="euler", dt=0.03 / rates.max(), noise=sigma,
        seed=3,
    )  # fmt: skip
    states = run.states.reshape(-1, chip.free)
    measured = np.cov(states, rowvar=False)
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    # sampling error ~1/√10⁴ per entry, Euler–Maruyama's bias ~1.5% at this step:
    # measured 0.038 (0.023 with 3,000 paths at a third of the step)
    assert np.max(np.abs(measured - expected) / scale) < 0.08
    assert np.max(np.abs(expected[:3, 3:]) / scale[:3, 3:]) > 0.05  # x and h correlate


def test_langevin_paths_depend_on_the_seed_only():
    """Same seed ⇒ same samples, on one thread or two; another seed ⇒ other samples."""
    chip = flow_chip()
    released = chip.release("x")
    sigma = released.noise(1e9)
    start = np.random.default_rng(0).standard_normal((70, chip.free))
    kwargs = dict(start=start, method="euler", dt=0.05 * TAU, noise=sigma, tile_rows=16)
    sources = released.sources(70)
    one = released.transient(sources, [2 * TAU], seed=4, threads=1, **kwargs).states
    two = released.transient(sources, [2 * TAU], seed=4, threads=2, **kwargs).states
    other = released.transient(sources, [2 * TAU], seed=5, threads=2, **kwargs).states
    np.testing.assert_array_equal(one, two)
    assert not np.allclose(one, other)
    with pytest.raises(ValueError, match="integrated by method 'euler'"):
        released.transient(sources, [TAU], noise=sigma)


def test_noise_is_refused_on_a_bad_shape():
    chip = flow_chip()
    released = chip.release("x")
    with pytest.raises(ValueError, match="one per unit"):
        released.transient(released.sources(1), [TAU], method="euler", dt=TAU, noise=[1.0])


def test_diffusion_is_zero_outside_the_units():
    chip = linear_chip(gain=0.1)
    crossbar = chip.release("x")._crossbar
    sigma = diffusion(crossbar, 1e9, slice(0, 3))
    assert np.all(sigma[3:] == 0)
    capacitance = crossbar.tau[0] * SCALING.g_unit
    g_leak = crossbar.leak[0] * SCALING.g_unit
    assert sigma[0] == pytest.approx(
        np.sqrt(2 * BOLTZMANN * 1e9 * g_leak) / (capacitance * SCALING.volts_per_unit)
    )


# --- the held circuit: the springs' targets as capacitor nodes (Flux Matching) ----------


def test_held_netlist_runs_in_ngspice_as_the_engine_runs_it(tmp_path):
    """Each spring's target source replaced by a capacitor that starts at x0 (through
    the written file, as a user would): ngspice's .tran of the noise-free circuit agrees
    with the engine's held transient, units and held nodes alike, and the targets move."""
    chip = flow_chip()
    assert chip.meta.scaling.tau == TAU
    held = chip.hold("x", 2 * TAU)
    x0 = np.random.default_rng(5).standard_normal(4)
    start = chip.rest_start("x", x0[None, :])[0]
    path = write_netlist(held.circuit(start), tmp_path / "held.cir")
    circuit = parse_netlist(path)
    assert not any(n.startswith(("vt_", "inoise_")) for n in circuit.elements)
    capacitors = [circuit.elements[f"cz_x_{i}"] for i in range(4)]
    scaling = chip.meta.scaling
    assert all(c.value == pytest.approx(2 * scaling.tau * scaling.g_unit) for c in capacitors)
    vs = scaling.volts_per_unit
    np.testing.assert_allclose([c.ic for c in capacitors], x0 * vs, rtol=1e-12)
    text = netlist_text(replace(circuit, controls=()))
    (run,) = transients(text, [{}], tstop=8 * TAU, tstep=TAU / 100, tmax=TAU / 100)
    sources = chip.spring_sources("x", x0[None, :])
    ours = held.transient(sources, run.time, start=start, held=held.held())
    units = chip._crossbar.layout.units
    worst = max(
        float(np.max(np.abs(ours.states[:, 0, k] * vs - run.voltages[u])))
        for k, u in enumerate(units)
    )
    targets = [capacitors[i].nodes[0] for i in range(4)]
    worst_z = max(
        float(np.max(np.abs(ours.held[:, 0, i] * vs - run.voltages[t])))
        for i, t in enumerate(targets)
    )
    assert max(worst, worst_z) <= 1e-4 * vs, (worst / vs, worst_z / vs)
    assert max(np.ptp(run.voltages[t]) for t in targets) > 0.05 * vs  # z really moved


def test_held_noise_is_langevin_at_unit_temperature_and_written_as_trnoise(tmp_path):
    """σ_z² = 2/(α τ_z): √2 dW in model time t/(α τ_z); the written trnoise sources
    carry the spring's Johnson density at that temperature; ngspice runs them."""
    chip = flow_chip()
    alpha, tau, step = 8.0, 5 * TAU, TAU / 20
    held = chip.hold("x", tau)
    temperature = held.temperature(alpha)
    sigma = held.noise(temperature)
    np.testing.assert_allclose(sigma[:4] ** 2 * alpha * tau, 2.0, rtol=1e-12)
    assert np.all(sigma[4:] == 0)
    settings = LangevinSampling(n=2, analog=True, hold_tau=tau, time_step=step)
    circuit, described = settings.held(chip, alpha)
    assert described == {"temperature": temperature, "hold_tau": tau, "time_step": step}
    circuit = parse_netlist(write_netlist(circuit, tmp_path / "noisy.cir"))
    element = circuit.elements["inoise_" + circuit.elements["cz_x_0"].nodes[0]]
    g_spring = 1.0 / circuit.elements["rs_x_0"].value
    rms = np.sqrt(2 * BOLTZMANN * temperature * g_spring / step)
    assert float(element.extra.split("(")[1].split()[0]) == pytest.approx(rms, rel=1e-5)
    text = netlist_text(replace(circuit, controls=()))
    (run,) = transients(text, [{}], tstop=2 * TAU, tstep=step, tmax=step)
    assert np.all(np.isfinite(run.voltages["x_0"]))


def test_held_linear_circuit_samples_the_stationary_law_of_its_field():
    """A linear circuit's field is f(z) = A z (A read off the settled circuit, exact); the
    held circuit with its noise has the stationary law of dz = A z dt + √2 dW, whose
    covariance solves A Σ + Σ Aᵀ + 2I = 0."""
    from neurosim.samplers.analog import held_samples

    chip = linear_chip(gain=0.4, seed=2)
    alpha = 1.0
    points = np.vstack([np.zeros(3), np.eye(3)])
    sources = chip.spring_sources("x", points)
    state = chip.settle(sources, tolerance=1e-12, throw=True).state
    f = chip.velocity(sources, state, alpha, "x")  # f(z) = A z + b
    field, offset = (f[1:] - f[0]).T, f[0]
    slowest = -np.linalg.eigvals(field).real.max()
    assert slowest > 0
    expected = solve_continuous_lyapunov(field, -2.0 * np.eye(3))
    model_time = 6.0 / slowest
    samples, _, stats, described = held_samples(
        chip, 3000, np.random.default_rng(4), alpha, model_time, hold_tau=40 * TAU
    )
    assert stats.physical_seconds == pytest.approx(alpha * 40 * TAU * model_time)
    assert described["hold_tau"] == 40 * TAU
    measured = np.cov(samples, rowvar=False)
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    mean = -np.linalg.solve(field, offset)
    assert np.max(np.abs(samples.mean(axis=0) - mean) / np.sqrt(np.diag(expected))) < 0.08
    assert np.max(np.abs(measured - expected) / scale) < 0.08
