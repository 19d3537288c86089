"""The training loop every objective shares: epochs, checkpoints, exact resume.

An objective is one small object with ``run_epoch(chip, optimizer, epoch) -> metrics``
(a dict of floats) that trains the chip (:class:`neurosim.host.Chip`) through its host
operations; the loop only composes it with the optimiser and the checkpoint file. Every
random draw of epoch ``e`` comes from :func:`epoch_rng` ``(seed, e)``, so an epoch's
randomness is a pure function of the seed and its index: a resumed run, or a batch
prepared ahead of time in another process, draws exactly what an uninterrupted run
draws. After every ``checkpoint_every`` epochs and at the end the loop writes
``RUN_DIR/checkpoint.h5`` atomically (every device's conductance, the parameters,
optimiser state, the next epoch's generator state, config, per-epoch history), so a
killed run loses at most that interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from neurosim.host import Chip
from neurosim.io.checkpoint_h5 import Checkpoint, write_checkpoint
from neurosim.learn.optim import scheduled_lr

CHECKPOINT = "checkpoint.h5"


class Objective(Protocol):
    """What the loop trains: one epoch of updates on ``params``, in place."""

    def run_epoch(self, chip: Chip, optimizer, epoch: int) -> dict[str, float]:
        """Train ``chip`` for epoch ``epoch`` (0-based); return that epoch's metrics."""
        ...


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The generator of epoch ``epoch``'s draws (noise, times, shuffles)."""
    return np.random.default_rng([int(seed), int(epoch)])


def rng_record(seed: int, epoch: int) -> dict:
    """What a checkpoint stores of the random state: the next epoch's generator."""
    return {
        "scheme": "numpy.random.default_rng([seed, epoch])",
        "seed": int(seed),
        "next_epoch": int(epoch),
        "bit_generator": epoch_rng(seed, epoch).bit_generator.state,
    }


def train(
    objective: Objective,
    chip: Chip,
    optimizer,
    *,
    settings: dict,
    config: dict,
    epochs: int,
    seed: int,
    checkpoint_every: int,
    out: Path | None = None,
    resume: Checkpoint | None = None,
    progress: Callable[[int, dict[str, float]], None] | None = None,
    lr_schedule: str = "constant",
) -> Checkpoint:
    """Run ``objective`` until ``epochs`` epochs are done; returns the final checkpoint.

    ``chip`` is trained in place. ``settings`` and ``config`` (JSON-serialisable) are
    stored in the checkpoint, written to ``out/checkpoint.h5`` (None: nothing is
    written). With ``resume`` the devices, optimiser state and history continue from
    it (a ``neurosim-checkpoint/2`` file has parameters only: they are programmed
    exactly). ``progress(done, metrics)`` is called after every epoch. ``lr_schedule``:
    the optimiser's learning rate of each epoch from its ``lr`` (:func:`scheduled_lr`).
    """
    history: dict[str, list[float]] = {}
    if resume is not None:
        if resume.devices:
            chip.load_device_state(resume.devices)
        else:
            chip.set_values(resume.params)
        optimizer.state = dict(resume.optimizer)
        history = {k: list(v) for k, v in resume.history.items()}
    checkpoint = Checkpoint(
        chip.meta, config, {}, optimizer.state, {}, history, settings=dict(settings)
    )

    def snapshot(done: int) -> None:
        checkpoint.rng_state = rng_record(seed, done)
        checkpoint.devices = chip.device_state()
        checkpoint.params = chip.parameters()

    base_lr = optimizer.lr
    with threadpool_limits(limits=1, user_api="blas"):  # idle BLAS threads slow the engine
        for epoch in range(checkpoint.epoch, epochs):
            start = time.perf_counter()
            optimizer.lr = scheduled_lr(base_lr, lr_schedule, epoch, epochs)
            metrics = objective.run_epoch(chip, optimizer, epoch)
            metrics = {**metrics, "seconds": time.perf_counter() - start}
            for name, value in metrics.items():
                history.setdefault(name, []).append(float(value))
            done = epoch + 1
            if out is not None and (done % checkpoint_every == 0 or done == epochs):
                snapshot(done)
                write_checkpoint(out / CHECKPOINT, checkpoint)
            if progress is not None:
                progress(done, metrics)
    snapshot(checkpoint.epoch)
    return checkpoint
