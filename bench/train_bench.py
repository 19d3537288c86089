"""Time to the FlowEqProp reference loss: neurosim's GradEP training vs the reference schedule.

Both train the shipped digits network (``netlists/digits_flow.cir``: 64 → 128 → 128,
24,896 parameters) by GradEP flow matching with the reference hyper-parameters of
DESIGN.md §4.4 (λ = 15, α = 2, β = 1.25e-3, Adam lr 1e-3 (0.9, 0.95), clip 1, full
batch of 1,797 digits, exact OT pairing), from the same initial parameters and on the
same batches (epoch e's batch is a pure function of the seed and e):

- the reference schedule: 300 plain steps s ← s + 0.1·F(s) per phase, the free phase
  from x = x_t, h = 0 and the ±β phases from the free state, the OT assignment in line
  — on neurosim's own kernels, so only the schedule differs (plain NumPy on the
  abstract model was 8x slower still); run for ``--reference-epochs`` epochs;
- neurosim: what ``neurosim train`` runs (:class:`neurosim.learn.flow_objective
  .FlowObjective`: the batched engine on the compiled circuit, settled to a residual of
  1e-6, the OT assignment of the next epoch prepared in a worker process), run until
  its flow loss (per-pixel MSE, mean over a ``--window``-epoch window) reaches
  ``--target`` (default 0.32, the reference's reported end value) or ``--epochs``.

Over the first ``--reference-epochs`` epochs the two trainings compute the same
parameters (their per-epoch losses are compared and reported), so the reference needs
as many epochs as neurosim to reach the target; ``speedup_vs_reference`` is the
reference's seconds per epoch times that count over neurosim's wall time to the
target. The reference is timed, not run for 2,000 epochs (about 2-3 h here).

Progress goes to stderr; stdout gets a summary and, last, one JSON line.
Run: .venv/bin/python bench/train_bench.py [--epochs 2000] [--reference-epochs 10]
[--dtype float32]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from ideal_copy import IdealCopy

from neurosim.data.digits import load_digits
from neurosim.engine.solvers import Gradient
from neurosim.host import Chip
from neurosim.io.params_h5 import write_params
from neurosim.learn.estimators import nudged
from neurosim.learn.flow import FlowBatches
from neurosim.learn.flow_objective import FlowObjective, FlowStep
from neurosim.learn.optim import Adam, clip_by_global_norm
from neurosim.netlist.parse import parse_netlist

ROOT = Path(__file__).resolve().parents[1]
NETLIST = ROOT / "netlists/digits_flow.cir"
STEPS, STEP = 300, 0.1
NEVER = 1e-300  # a tolerance no residual reaches: every phase runs all STEPS steps
ALPHA, BETA, CLIP, LR, BETAS = 2.0, 1.25e-3, 1.0, 1e-3, (0.9, 0.95)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def reference_epoch(model: IdealCopy, optimizer, batch) -> float:
    """One epoch of the reference schedule; updates ``model``; returns the flow MSE.

    The same engine kernels and BLAS as neurosim, only the schedule differs: exactly
    ``STEPS`` plain steps of ``STEP`` per phase, no stopping rule, no acceleration.
    """
    n = batch.x1.shape[0]
    sources = model.sources(n)
    where = model.free_slices()["x"]
    sources.targets[:, where] = batch.x_t
    start = np.zeros((n, model.free))
    start[:, where] = batch.x_t
    fixed = dict(solver=Gradient(STEP), max_passes=STEPS, tolerance=NEVER)
    free = model.settle(sources, start=start, **fixed)
    velocity = model.velocity(sources, free.state, ALPHA, "x")
    scale = ALPHA * model.meta.spring_lambda
    phases = []
    for sign in (1.0, -1.0):
        pulled = nudged(model, sources, "x", batch.x_t + batch.u / scale, sign * BETA * scale**2)
        phase = model.settle(pulled, start=free.state, **fixed)
        phases.append(model.local_gradients(pulled, phase.state))
    grads = {k: (phases[0][k] - phases[1][k]) / (2 * BETA) for k in phases[0]}
    grads, _ = clip_by_global_norm(grads, CLIP)
    model.program(optimizer.step(grads))
    return float(np.mean((velocity - batch.u) ** 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--reference-epochs", type=int, default=10)
    parser.add_argument("--target", type=float, default=0.32)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--snapshots",
        type=Path,
        help="Also write the parameters every --snapshot-every epochs to DIR/epoch_N.h5 "
        "(neurosim-params files: `neurosim export circuits/digits_flow.toml --params ...`)",
    )
    parser.add_argument("--snapshot-every", type=int, default=100)
    args = parser.parse_args()

    chip = Chip(parse_netlist(NETLIST))
    meta = chip.meta
    data = load_digits()[0]

    log(f"reference schedule: {args.reference_epochs} epochs")
    reference = IdealCopy(meta, chip.parameters())
    ref_optimizer = Adam(lr=LR, beta1=BETAS[0], beta2=BETAS[1])
    inline = FlowBatches(data, args.seed)
    ref_mse, ref_seconds = [], []
    for epoch in range(args.reference_epochs):
        began = time.perf_counter()
        ref_mse.append(reference_epoch(reference, ref_optimizer, inline.get(epoch)))
        ref_seconds.append(time.perf_counter() - began)
        log(f"  reference epoch {epoch}: MSE {ref_mse[-1]:.4f}, {ref_seconds[-1]:.2f} s")

    log(
        f"neurosim: up to {args.epochs} epochs, until the {args.window}-epoch mean MSE "
        f"<= {args.target}"
    )
    optimizer = Adam(lr=LR, beta1=BETAS[0], beta2=BETAS[1])
    mse, seconds = [], []
    reached = None
    began = time.perf_counter()
    with FlowBatches(data, args.seed, ahead=True) as batches:
        tolerance = 3e-6 if args.dtype == "float32" else 1e-6
        settings = FlowStep(ALPHA, BETA, CLIP, tolerance=tolerance, dtype=args.dtype)
        objective = FlowObjective(batches, settings)
        for epoch in range(args.epochs):
            t0 = time.perf_counter()
            mse.append(objective.run_epoch(chip, optimizer, epoch)["mse"])
            seconds.append(time.perf_counter() - t0)
            if args.snapshots and (epoch + 1) % args.snapshot_every == 0:
                write_params(args.snapshots / f"epoch_{epoch + 1}.h5", meta, chip.parameters())
            if epoch % 50 == 0:
                log(f"  epoch {epoch}: MSE {mse[-1]:.4f}, {seconds[-1]:.2f} s")
            if len(mse) >= args.window and np.mean(mse[-args.window :]) <= args.target:
                reached = epoch + 1
                break
    elapsed = time.perf_counter() - began

    common = min(args.reference_epochs, len(mse))
    agreement = float(
        np.max(
            np.abs(np.array(mse[:common]) - np.array(ref_mse[:common])) / np.array(ref_mse[:common])
        )
    )
    ref_per_epoch = float(np.median(ref_seconds))
    epochs_used = reached or len(mse)
    figures = {
        "dtype": args.dtype,
        "target_mse": args.target,
        "window": args.window,
        "reached": reached is not None,
        "epochs_to_reference_loss": epochs_used,
        "time_to_reference_loss_s": round(elapsed, 1),
        "neurosim_s_per_epoch_median": round(float(np.median(seconds)), 4),
        "reference_s_per_epoch_median": round(ref_per_epoch, 3),
        "speedup_vs_reference": round(ref_per_epoch * epochs_used / elapsed, 2),
        "first_epochs_compared": common,
        "first_epochs_mse_max_relative_difference": agreement,
        "final_window_mse": round(float(np.mean(mse[-args.window :])), 4),
    }
    print(
        f"neurosim: {epochs_used} epochs in {elapsed:.0f} s to a {args.window}-epoch mean MSE "
        f"of {figures['final_window_mse']} (target {args.target}, reached: {reached is not None})"
    )
    print(
        f"reference schedule: {ref_per_epoch:.2f} s per epoch -> "
        f"{ref_per_epoch * epochs_used:.0f} s "
        f"for as many epochs; speedup {figures['speedup_vs_reference']}x"
    )
    print(f"first {common} epochs: per-epoch MSE of the two within {agreement:.2e} relative")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
