"""The flow-matching training loop (GradEP, full batch): epochs, checkpoints, resume.

One epoch is one full-batch GradEP step (DESIGN §4.4). After every ``checkpoint_every``
epochs and at the end, everything needed to continue (parameters, optimiser state, the
generator's state, config, per-epoch history) is written atomically, so a killed run
loses at most that interval and a resumed run gives the same result as one that was
never interrupted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from neurosim.circuit.meta import NetworkMeta
from neurosim.io.checkpoint_h5 import Checkpoint, write_checkpoint
from neurosim.learn.optim import Adam
from neurosim.learn.train_step import flow_step

CHECKPOINT = "checkpoint.h5"


@dataclass(frozen=True)
class FlowConfig:
    """Hyper-parameters; defaults are the FlowEqProp reference values (DESIGN §4.4)."""

    epochs: int = 2000
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.95
    clip: float = 1.0
    alpha: float = 2.0
    beta: float = 1.25e-3
    tolerance: float = 1e-6
    seed: int = 0
    checkpoint_every: int = 10


def train_flow(
    meta: NetworkMeta,
    params: dict[str, np.ndarray],
    data: np.ndarray,
    config: FlowConfig,
    run_dir: Path,
    *,
    resume: Checkpoint | None = None,
    progress: Callable[[int, float], None] | None = None,
) -> Checkpoint:
    """Train until ``config.epochs`` epochs are done; returns the final checkpoint."""
    optimizer = Adam(lr=config.lr, beta1=config.beta1, beta2=config.beta2)
    rng = np.random.default_rng(config.seed)
    history: dict[str, list[float]] = {
        "loss": [],
        "mse": [],
        "seconds": [],
        "passes": [],
        "unsettled": [],
    }
    if resume is not None:
        params = {k: v.copy() for k, v in resume.params.items()}
        optimizer.state = dict(resume.optimizer)
        rng.bit_generator.state = resume.rng_state
        history = {k: list(v) for k, v in resume.history.items()}
    checkpoint = Checkpoint(meta, asdict(config), params, optimizer.state, {}, history)
    for epoch in range(len(history["loss"]), config.epochs):
        start = time.perf_counter()
        report = flow_step(
            meta,
            params,
            optimizer,
            data,
            rng,
            alpha=config.alpha,
            beta=config.beta,
            clip=config.clip,
            tolerance=config.tolerance,
        )
        history["loss"].append(report.loss)
        history["mse"].append(report.mse)
        history["seconds"].append(time.perf_counter() - start)
        history["passes"].append(float(report.passes))
        history["unsettled"].append(float(report.unsettled))
        done = epoch + 1
        if done % config.checkpoint_every == 0 or done == config.epochs:
            checkpoint.rng_state = rng.bit_generator.state
            write_checkpoint(run_dir / CHECKPOINT, checkpoint)
        if progress is not None:
            progress(done, report.mse)
    checkpoint.rng_state = rng.bit_generator.state
    return checkpoint
