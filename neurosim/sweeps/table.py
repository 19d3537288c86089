"""A sweep's results as a table: one row per repeat, and per point the metric's spread."""

from __future__ import annotations

import math

import numpy as np

from neurosim.io.sweep_h5 import SweepResults
from neurosim.sweeps.config import SweepConfig
from neurosim.sweeps.point import FAILED, OK

STATUS = {0: "pending", OK: "done", FAILED: "failed"}


def repeat_rows(config: SweepConfig, results: SweepResults) -> list[dict]:
    """Every repeat: its axis values, repeat, seed, status, reason and metrics (no
    timings: the same sweep gives the same rows)."""
    rows = []
    for p, point in enumerate(config.points()):
        for r in range(config.repeats):
            metrics = {
                name: _plain(values[p, r]) for name, values in sorted(results.metrics.items())
            }
            rows.append(
                {
                    **point,
                    "repeat": r,
                    "seed": int(results.seed[p, r]),
                    "status": STATUS[int(results.status[p, r])],
                    "reason": str(results.reason[p, r]),
                    **metrics,
                }
            )
    return rows


def point_summary(config: SweepConfig, results: SweepResults) -> list[dict]:
    """Per point: its axis values and the metric's mean, std and count over the
    repeats done (NaN where none)."""
    values = results.metrics.get(config.metric, np.full(results.seed.shape, np.nan))
    out = []
    for p, point in enumerate(config.points()):
        done = values[p][(results.status[p] == OK) & np.isfinite(values[p])]
        out.append(
            {
                **point,
                "mean": float(done.mean()) if done.size else math.nan,
                "std": float(done.std()) if done.size else math.nan,
                "n": int(done.size),
                "failed": int(np.count_nonzero(results.status[p] == FAILED)),
            }
        )
    return out


def _plain(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)
