"""Sample quality tracked during flow training, and the best parameters kept by it.

DESIGN §4.4: the flow loss keeps falling after the samples stop improving, so every
``every`` epochs the run generates ``EVAL_SAMPLES`` digits from the current parameters
(spring readout, Euler dt = ``EVAL_DT`` to t = 1, from rest, seeded by (seed, epoch))
and scores them with the fixed metrics (:mod:`neurosim.metrics.quality`). The scores
join the epoch's metrics (NaN on other epochs), so they live in the checkpoint's history
and survive a resume; whenever the Fréchet distance is the lowest so far, the chip's
circuit as programmed then is written to ``RUN_DIR/best.cir`` (atomically).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from neurosim.errors import ConvergenceError
from neurosim.host import Chip
from neurosim.netlist.write import write_netlist

EVAL_SAMPLES = 500
EVAL_DT = 0.05
BEST = "best.cir"
SCORES = ("frechet", "coverage", "confidence", "eval_seconds")


class QualityTracked:
    """``objective`` with sample metrics every ``every`` epochs and a best netlist."""

    def __init__(
        self,
        objective,
        *,
        every: int,
        seed: int,
        alpha: float,
        run_dir: Path,
        title: str | None,
        best_so_far: float = math.inf,
    ) -> None:
        self.objective, self.every = objective, every
        self.seed, self.alpha, self.run_dir, self.title = seed, alpha, run_dir, title
        self.best = best_so_far

    def run_epoch(self, chip: Chip, optimizer, epoch: int) -> dict[str, float]:
        """The objective's epoch; then, every ``every`` epochs, the sample scores."""
        metrics = self.objective.run_epoch(chip, optimizer, epoch)
        scores = dict.fromkeys(SCORES, math.nan)
        if (epoch + 1) % self.every == 0:
            began = time.perf_counter()
            scores = self.score(chip, epoch)
            scores["eval_seconds"] = time.perf_counter() - began
            if scores["frechet"] < self.best:
                self.best = scores["frechet"]
                write_netlist(chip.circuit(self.title), self.run_dir / BEST)
        return {**metrics, **scores}

    def score(self, chip: Chip, epoch: int) -> dict[str, float]:
        """FD, class coverage and confidence of samples from ``chip`` as programmed now
        (NaN if the circuit could not be settled for them)."""
        from neurosim.metrics.quality import evaluate
        from neurosim.sample.flow import euler_samples

        rng = np.random.default_rng([self.seed, epoch, 1])  # apart from training's draws
        try:
            samples, _ = euler_samples(chip, EVAL_SAMPLES, 1.0, EVAL_DT, rng, self.alpha)
        except ConvergenceError:
            return dict.fromkeys(SCORES[:3], math.nan)
        result = evaluate(samples)["samples"]
        return {
            "frechet": result["frechet_distance"],
            "coverage": float(result["class_coverage"]),
            "confidence": result["mean_confidence"],
        }


def best_in(history: dict[str, list[float]]) -> float:
    """The lowest Fréchet distance a (resumed) history holds, inf if none."""
    values = [v for v in history.get("frechet", []) if not math.isnan(v)]
    return min(values, default=math.inf)
