"""Optimisers, the OT pairing and the GradEP flow step on the shipped digits."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from neurosim.data.digits import load_digits
from neurosim.learn.flow import FlowBatches, flow_batch, ot_pairing
from neurosim.learn.flow_objective import flow_step
from neurosim.learn.loop import epoch_rng, train
from neurosim.learn.optim import SGD, Adam, clip_by_global_norm, scheduled_lr
from neurosim.network.model import init_params
from neurosim.network.spec import load_spec
from tests.networks import chip_of

ROOT = Path(__file__).resolve().parents[2]


def test_adam_first_step_is_lr_times_sign_and_it_minimises_a_quadratic():
    params = {"w": np.array([1.0, -2.0, 3.0])}
    adam = Adam(lr=0.1, beta1=0.9, beta2=0.95)
    params["w"] += adam.step({"w": np.array([4.0, -0.5, 1e-3])})["w"]
    np.testing.assert_allclose(params["w"], [0.9, -1.9, 2.9], atol=1e-5)
    for _ in range(500):
        params["w"] += adam.step({"w": 2 * params["w"]})["w"]
    assert np.max(np.abs(params["w"])) < 1e-2 and adam.state["step"] == 501


def test_sgd_momentum_accumulates_velocity():
    params = {"w": np.array([0.0])}
    sgd = SGD(lr=0.1, momentum=0.5)
    for _ in range(3):
        params["w"] += sgd.step({"w": np.array([1.0])})["w"]
    # velocities 1, 1.5, 1.75
    np.testing.assert_allclose(params["w"], [-0.1 * (1 + 1.5 + 1.75)])


def test_clipping_scales_to_the_global_norm_only_when_above():
    grads = {"a": np.array([3.0]), "b": np.array([4.0])}
    clipped, norm = clip_by_global_norm(grads, 1.0)
    assert norm == 5.0
    np.testing.assert_allclose([clipped["a"][0], clipped["b"][0]], [0.6, 0.8])
    same, _ = clip_by_global_norm(grads, 10.0)
    assert same["a"][0] == 3.0


def test_the_learning_rate_follows_its_schedule_epoch_by_epoch():
    assert [scheduled_lr(0.2, "constant", e, 4) for e in range(4)] == [0.2] * 4
    cosine = [scheduled_lr(0.2, "cosine", e, 4) for e in range(4)]
    np.testing.assert_allclose(cosine, 0.1 * (1 + np.cos(np.pi * np.arange(4) / 4)))
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'step'"):
        scheduled_lr(0.2, "step", 0, 4)

    class Recording:
        def __init__(self) -> None:
            self.seen: list[float] = []

        def run_epoch(self, chip, optimizer, epoch):
            self.seen.append(optimizer.lr)
            return {"loss": 0.0}

    meta = load_spec(Path("circuits/xor.toml")).meta
    chip = chip_of(meta, init_params(meta, np.random.default_rng(0)))
    recording = Recording()
    settings = {"epochs": 4, "seed": 0, "checkpoint_every": 10, "lr_schedule": "cosine"}
    train(recording, chip, Adam(lr=0.2), settings={}, config={}, **settings)
    assert recording.seen == cosine


def test_ot_pairing_is_the_exact_minimum():
    rng = np.random.default_rng(0)
    noise, data = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))

    def cost(order):
        return float(np.sum((noise[list(order)] - data) ** 2))

    best = min(itertools.permutations(range(6)), key=cost)
    assert cost(ot_pairing(noise, data)[0]) == cost(best)


def test_flow_batches_are_seeded_and_interpolate():
    data = np.random.default_rng(1).uniform(-1, 1, (10, 4))
    one, two = (
        flow_batch(data, np.random.default_rng(7))[0],
        flow_batch(data, np.random.default_rng(7))[0],
    )
    np.testing.assert_array_equal(one.x_t, two.x_t)
    np.testing.assert_allclose(one.x_t + (1 - one.t) * one.u, data)


def test_gradep_steps_lower_the_flow_loss_on_digits():
    """Twenty full-batch GradEP steps (reference hyper-parameters, lr 1e-2 to see it in
    a test) on 256 digits lower the per-pixel flow MSE."""
    spec = load_spec(ROOT / "circuits/digits_flow.toml")
    params = init_params(spec.meta, np.random.default_rng(spec.seed), spec.weight_gain)
    x, _ = load_digits()
    data = x[:256]
    adam = Adam(lr=1e-2, beta1=0.9, beta2=0.95)
    batches = FlowBatches(data, seed=0)
    chip = chip_of(spec.meta, params)
    reports = [flow_step(chip, adam, batches.get(epoch)) for epoch in range(20)]
    first, last = np.mean([r.mse for r in reports[:3]]), np.mean([r.mse for r in reports[-3:]])
    assert last < 0.5 * first, (first, last)  # measured 2.3 -> 0.60


def test_batches_prepared_ahead_in_a_worker_equal_those_made_in_process():
    data = load_digits()[0][:300]
    with FlowBatches(data, seed=3, ahead=True) as ahead:
        worker = [ahead.get(epoch) for epoch in (0, 1, 2, 5)]  # 5: out of order
    for epoch, batch in zip((0, 1, 2, 5), worker, strict=True):
        here = flow_batch(data, epoch_rng(3, epoch))[0]
        np.testing.assert_array_equal(batch.x0, here.x0)
        np.testing.assert_array_equal(batch.t, here.t)
    assert not np.array_equal(worker[0].x0, worker[1].x0)


def test_training_goes_on_when_the_batch_worker_dies():
    """A killed worker (out of memory, a stray kill): the batches are made in process
    from then on, the same ones, instead of a BrokenProcessPool traceback."""
    import os
    import signal

    data = load_digits()[0][:300]
    with FlowBatches(data, seed=3, ahead=True) as ahead:
        ahead.get(0)
        for pid in list(ahead._pool._processes):  # the worker process, killed
            os.kill(pid, signal.SIGKILL)
        later = [ahead.get(epoch) for epoch in (1, 2)]
        assert ahead._pool is None
    for epoch, batch in zip((1, 2), later, strict=True):
        here = flow_batch(data, epoch_rng(3, epoch))[0]
        np.testing.assert_array_equal(batch.x0, here.x0)
        np.testing.assert_array_equal(batch.t, here.t)


def test_the_batch_worker_ends_when_its_trainer_is_killed(tmp_path):
    import os
    import select
    import signal
    import subprocess
    import sys

    script = tmp_path / "trainer.py"
    script.write_text(
        "import multiprocessing, sys, time\n"
        "import numpy as np\n"
        "from neurosim.learn.flow import FlowBatches\n"
        "if __name__ == '__main__':\n"
        "    batches = FlowBatches(np.zeros((300, 4)), 0, ahead=True)\n"
        "    batches.get(0)\n"
        "    print(multiprocessing.active_children()[0].pid, flush=True)\n"
        "    time.sleep(60)\n"
    )
    trainer = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = int(trainer.stdout.readline())
    os.kill(trainer.pid, signal.SIGKILL)
    trainer.wait()
    # the worker exits as soon as it sees its trainer's pipe close: wait for that event
    # (a pidfd becomes readable when its process ends), not for a time
    try:
        handle = os.pidfd_open(worker)
    except ProcessLookupError:
        return  # already gone
    try:
        select.select([handle], [], [])
    finally:
        os.close(handle)
