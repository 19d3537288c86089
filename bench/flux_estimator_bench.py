"""How noisy is the Flux Matching gradient on the chip? The flux estimator against score
regression (`train --loss score`), on the reciprocal ring circuit, where both have the
smoothed score as their solution.

For each loss: ``--epochs`` epochs of ``--batch-size`` points at noise ``--sigma`` from
the shipped ``netlists/ring8_score.cir``, |f − s|² (mean of the first and last ten
epochs); then, at the initial circuit, ``--batches`` independent batches' parameter
gradients (the adjoint's, as a training step computes them, before clipping) and the mean
cosine between pairs of them — near 1 for a gradient a step can follow, near 0 for noise.

Run: .venv/bin/python bench/flux_estimator_bench.py
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from neurosim import api
from neurosim.data.datasets import load_dataset
from neurosim.host import Chip
from neurosim.learn.flux import flux_targets, score_targets
from neurosim.learn.flux_objective import ChipField, FluxStep
from neurosim.learn.settings import FluxSettings

ROOT = Path(__file__).resolve().parents[1]
NETLIST = ROOT / "netlists/ring8_score.cir"


def gradient(chip: Chip, step: FluxStep, data, loss: str, rng) -> np.ndarray:
    """One batch's parameter gradient of ``loss``'s surrogate, flattened."""
    rows = rng.choice(data.shape[0], step.batch_size, replace=False)
    probes = step.draw_probes(data.shape[1], rng)
    field = ChipField(chip, step)
    targets = (flux_targets if loss == "flux" else score_targets)(
        field, data[rows], step.sigma**2, rng, probes, reference=data
    )
    sources, settled = field.equilibria(targets.x0)
    cotangent = np.zeros((rows.size, chip.free))
    where = chip.free_slices()[step.layer]
    cotangent[:, where] = 2.0 * step.alpha * chip.spring(step.layer) * targets.g
    adjoint = chip.adjoint(sources, settled.state, cotangent)
    grads = chip.adjoint_gradients(sources, settled.state, adjoint)
    return np.concatenate([grads[k].ravel() for k in sorted(grads)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--sigma", type=float, default=0.3)
    parser.add_argument("--batches", type=int, default=8)
    args = parser.parse_args()
    data = load_dataset("ring8").x
    rows = {}
    for loss in ("flux", "score"):
        settings = FluxSettings(
            data="ring8", epochs=args.epochs, batch_size=args.batch_size, loss=loss,
            sigma=args.sigma,
        )  # fmt: skip
        history = np.array(api.train(NETLIST, "flux", settings=settings).history["score_mse"])
        chip = Chip(api.load_netlist(NETLIST))
        step = FluxStep(sigma=args.sigma, batch_size=args.batch_size)
        rng = np.random.default_rng(1)
        grads = [gradient(chip, step, data, loss, rng) for _ in range(args.batches)]
        cosines = [
            float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
            for a, b in itertools.combinations(grads, 2)
        ]
        rows[loss] = {
            "score_mse_first10": float(history[:10].mean()),
            "score_mse_last10": float(history[-10:].mean()),
            "gradient_cosine_mean": float(np.mean(cosines)),
            "gradient_norm_spread": float(np.std([np.linalg.norm(g) for g in grads]))
            / float(np.mean([np.linalg.norm(g) for g in grads])),
        }
        m = rows[loss]
        print(
            f"{loss:>5}: |f - s|^2 {m['score_mse_first10']:.3f} -> {m['score_mse_last10']:.3f} "
            f"over {args.epochs} epochs; gradients of {args.batches} batches: mean cosine "
            f"{m['gradient_cosine_mean']:.3f}, norm spread {m['gradient_norm_spread']:.2f}"
        )
    print(json.dumps({"settings": vars(args), **rows}))


if __name__ == "__main__":
    main()
