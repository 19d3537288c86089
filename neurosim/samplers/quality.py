"""Sample quality of a flow-matching chip as programmed now, for tracking during training.

DESIGN §4.4: the flow loss keeps falling after the samples stop improving, so a run
scores its samples every few epochs and keeps the best circuit
(:mod:`neurosim.learn.run`). :class:`FlowQuality` generates ``samples`` digits (spring
readout, from rest, Euler ``dt`` to t = 1 — or, for an EqM landscape, gradient descent
— seeded by (seed, epoch) apart from training's draws) and scores them with the fixed
metrics (:mod:`neurosim.scores.quality`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosim.errors import ConvergenceError
from neurosim.host import Chip

EVAL_SAMPLES = 500
EVAL_DT = 0.05


@dataclass(frozen=True)
class FlowQuality:
    """Scores of ``samples`` digits from a chip: ``frechet`` (lower is better: the
    key a run keeps its best circuit by), ``coverage`` and ``confidence``."""

    seed: int
    alpha: float
    samples: int = EVAL_SAMPLES
    dt: float = EVAL_DT
    descent: tuple[float, int] | None = None  # (η, steps): sample by descent (EqM)

    keys = ("frechet", "coverage", "confidence")
    key = "frechet"

    def __call__(self, chip: Chip, epoch: int) -> dict[str, float]:
        """The scores after epoch ``epoch`` (0-based); NaN if the circuit could not be
        settled for the samples."""
        from neurosim.scores.quality import evaluate

        samples = _samples(chip, epoch, self)
        if samples is None:
            return dict.fromkeys(self.keys, math.nan)
        result = evaluate(samples)["samples"]
        return {
            "frechet": result["frechet_distance"],
            "coverage": float(result["class_coverage"]),
            "confidence": result["mean_confidence"],
        }


@dataclass(frozen=True)
class DataQuality:
    """Scores of ``samples`` points from a chip against a dataset that is not the digits
    (:mod:`neurosim.scores.distribution`): ``energy`` distance (lower is better: the key
    a run keeps its best circuit by) and ``coverage`` of the data's classes."""

    data: object  # a neurosim.data.datasets.Dataset
    seed: int
    alpha: float
    samples: int = EVAL_SAMPLES
    dt: float = EVAL_DT
    descent: tuple[float, int] | None = None  # (η, steps): sample by descent (EqM)

    keys = ("energy", "coverage")
    key = "energy"

    def __call__(self, chip: Chip, epoch: int) -> dict[str, float]:
        """The scores after epoch ``epoch`` (0-based); NaN if the circuit could not be
        settled for the samples."""
        from neurosim.scores.distribution import evaluate_against

        samples = _samples(chip, epoch, self)
        if samples is None:
            return dict.fromkeys(self.keys, math.nan)
        scores = evaluate_against(samples, self.data)["samples"]
        return {
            "energy": scores["energy_distance"],
            "coverage": float(scores.get("coverage", math.nan)),
        }


def _samples(chip: Chip, epoch: int, quality) -> np.ndarray | None:
    """``quality.samples`` points from ``chip`` (spring readout, from rest: Euler
    ``quality.dt`` to t = 1, or gradient descent with ``quality.descent``'s (η, steps)),
    seeded by (seed, epoch) apart from training's draws; None if the circuit could not
    be settled for them."""
    rng = np.random.default_rng([quality.seed, epoch, 1])
    try:
        if quality.descent is not None:
            from neurosim.samplers.descent import descent_samples

            eta, steps = quality.descent
            return descent_samples(chip, quality.samples, rng, quality.alpha, eta, steps)[0]
        from neurosim.samplers.flow import euler_samples

        return euler_samples(chip, quality.samples, 1.0, quality.dt, rng, quality.alpha)[0]
    except ConvergenceError:
        return None
