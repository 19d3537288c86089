"""Training through the host equals the ideal-copy training it replaced, on ideal
circuits; and a circuit whose two arrays differ trains as that circuit.

The reference below is the training step as it was before the host existed: every step
rebuilds the ideal crossbar from the parameters (``ideal_crossbar``, the test oracle)
and updates the parameters themselves.
"""

import numpy as np
import pytest

from neurosim.engine.readout import activations
from neurosim.engine.relax import relax
from neurosim.engine.solvers import Gradient
from neurosim.engine.sources import default_sources
from neurosim.host import Chip
from neurosim.learn.flow import FlowBatches
from neurosim.learn.flow_objective import FlowStep, flow_step
from neurosim.learn.optim import Adam, clip_by_global_norm
from neurosim.lower.crossbar import lower_crossbar
from neurosim.network.compile import compile_network
from tests.networks import flow_net, random_params
from tests.oracle import ideal_crossbar


class Recording(Adam):
    """Adam that keeps every step's gradients."""

    def step(self, grads):
        self.seen = [*getattr(self, "seen", []), {k: v.copy() for k, v in grads.items()}]
        return super().step(grads)


def reference_gradients(meta, params, batch, s: FlowStep):
    """One GradEP flow step's clipped gradients on the ideal crossbar of ``params``."""
    crossbar = ideal_crossbar(meta, params)
    n, where = batch.x1.shape[0], crossbar.free_slices()["x"]
    sources = default_sources(crossbar, n)
    sources.targets[:, where] = batch.x_t
    start = np.zeros((n, crossbar.free))
    start[:, where] = batch.x_t
    options = dict(tolerance=s.tolerance, max_passes=s.max_passes)
    free = relax(crossbar, sources, start=start, **options).raise_if_failed()
    scale = s.alpha * crossbar.spring[where][0]
    phases = []
    for sign in (1.0, -1.0):
        pulled = default_sources(crossbar, n)
        pulled.targets[:] = sources.targets
        pulled.nudge[where] = sign * s.beta * scale**2
        pulled.nudge_targets[:, where] = batch.x_t + batch.u / scale
        state = relax(crossbar, pulled, start=free.state, **options).raise_if_failed().state
        acts = activations(crossbar, pulled, state)
        grads = {f"w{k}": -(acts[a].T @ acts[b]) / n for k, (a, b) in enumerate(meta.couplings)}
        grads.update({f"b_{l}": -acts[l].mean(axis=0) for l in crossbar.free_slices()})
        phases.append(grads)
    plus, minus = phases
    grads = {k: (plus[k] - minus[k]) / (2 * s.beta) for k in plus}
    return clip_by_global_norm(grads, s.clip)[0]


def flat(grads):
    return np.concatenate([grads[k].ravel() for k in sorted(grads)])


@pytest.mark.parametrize("encoded", [True, False])
def test_flow_training_through_the_host_equals_the_ideal_copy_step_by_step(encoded):
    """``encoded``: the chip's devices start programmed to the compiler's encoding of
    the parameters, as the ideal copy builds them: then every step is the same to the
    bit. Otherwise they start as read from the netlist (1/R of the written resistance,
    a last-bit difference): within 1e-12 per step."""
    meta = flow_net()
    params = random_params(meta, np.random.default_rng(2), 0.8)
    chip = Chip(compile_network(meta, params))
    if encoded:
        chip.set_values(params)
    data = np.random.default_rng(3).uniform(-1, 1, (40, 4))
    batches, settings = FlowBatches(data, seed=1), FlowStep()
    host_adam, reference_adam = Recording(lr=1e-2), Adam(lr=1e-2)
    reference = {k: v.copy() for k, v in params.items()}
    for epoch in range(8):
        batch = batches.get(epoch)
        flow_step(chip, host_adam, batch, settings)
        expected = reference_gradients(meta, reference, batch, settings)
        got = host_adam.seen[-1]
        if encoded:
            np.testing.assert_array_equal(flat(got), flat(expected))
        error = np.linalg.norm(flat(got) - flat(expected)) / np.linalg.norm(flat(expected))
        assert error <= 1e-12, (epoch, error)
        for name, delta in reference_adam.step(expected).items():
            reference[name] += delta
    # Adam moves each parameter by about lr per step whatever the gradient's size, so a
    # 1e-12 relative gradient error is at most ~8 · lr · 1e-12 = 1e-13 after 8 steps
    for name, value in chip.parameters().items():
        np.testing.assert_allclose(value, reference[name], rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("departure", ["mismatch", "wires"])
def test_a_circuit_whose_two_arrays_differ_trains_and_settles_as_that_circuit(departure):
    """5% device mismatch between a coupling's arrays, or 100 Ω wire segments."""
    meta = flow_net()
    params = random_params(meta, np.random.default_rng(4), 0.8)
    circuit = compile_network(meta, params, wire_resistance=100.0 * (departure == "wires"))
    if departure == "mismatch":
        rng = np.random.default_rng(5)
        for name in [n for n in circuit.elements if n.startswith("rw") and "b_" in n]:
            circuit.set_value(name, circuit.elements[name].value * (1 + 0.05 * rng.normal()))
    chip = Chip(circuit)
    data = np.random.default_rng(6).uniform(-1, 1, (64, 4))
    batches, adam = FlowBatches(data, seed=0), Adam(lr=2e-2)
    reports = [flow_step(chip, adam, batches.get(epoch)) for epoch in range(40)]
    assert all(r.unsettled == 0 for r in reports)
    first, last = np.mean([r.mse for r in reports[:5]]), np.mean([r.mse for r in reports[-5:]])
    assert last < 0.8 * first, (first, last)
    # its free phases are where the programmed circuit's own dynamics settle
    programmed = lower_crossbar(chip.circuit())
    assert not programmed.symmetric() and bool(programmed.wires) == (departure == "wires")
    sources = chip.sources(16)
    sources.targets[:, chip.free_slices()["x"]] = data[:16]
    eq = chip.settle(sources, tolerance=1e-12)
    assert eq.method == "anderson" and eq.ok and not eq.followed.any()
    own = relax(programmed, sources, tolerance=1e-12, solver=Gradient(), max_passes=50_000)
    np.testing.assert_allclose(eq.state, own.raise_if_failed().state, rtol=0, atol=1e-9)
