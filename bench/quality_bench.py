"""Sample quality against training epochs, from the snapshots of ``train_bench.py``.

Each ``DIR/epoch_N.h5`` (written by ``bench/train_bench.py --snapshots DIR``) is scored
the way ``neurosim train --eval-every`` scores a run (:mod:`neurosim.samplers.quality`:
500 digits, spring readout, Euler dt 0.05 to t = 1, from rest), and with ``--full`` also
by 1,000 digits at dt 0.01 (``neurosim sample``'s defaults). Prints a table and, last,
one JSON line with the epoch of the lowest Fréchet distance.

Run: .venv/bin/python bench/quality_bench.py DIR [--full]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from neurosim.host import Chip
from neurosim.io.params_h5 import read_params
from neurosim.network.compile import compile_network
from neurosim.samplers.flow import euler_samples
from neurosim.samplers.quality import FlowQuality
from neurosim.scores.quality import evaluate

ALPHA = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snapshots", type=Path)
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    files = sorted(
        args.snapshots.glob("epoch_*.h5"), key=lambda p: int(re.findall(r"\d+", p.stem)[0])
    )
    rows = []
    print(
        f"{'epoch':>6} {'FD':>8} {'coverage':>9} {'confidence':>11}"
        + (f" {'FD 1000':>8} {'cov':>4} {'conf':>6}" if args.full else "")
    )
    for path in files:
        epoch = int(re.findall(r"\d+", path.stem)[0])
        meta, params = read_params(path)
        chip = Chip(compile_network(meta, params))
        row = {"epoch": epoch, **FlowQuality(seed=0, alpha=ALPHA)(chip, epoch - 1)}
        line = (
            f"{epoch:>6} {row['frechet']:>8.3f} {row['coverage']:>9.0f} {row['confidence']:>11.3f}"
        )
        if args.full:
            samples, _ = euler_samples(chip, 1000, 1.0, 0.01, np.random.default_rng(0), ALPHA)
            full = evaluate(samples)["samples"]
            row.update(
                full_frechet=full["frechet_distance"],
                full_coverage=full["class_coverage"],
                full_confidence=full["mean_confidence"],
            )
            line += f" {row['full_frechet']:>8.3f} {row['full_coverage']:>4}"
            line += f" {row['full_confidence']:>6.3f}"
        print(line, flush=True)
        rows.append(row)
    best = min(rows, key=lambda r: r["frechet"])
    print(json.dumps({"best_epoch": best["epoch"], "best_frechet": best["frechet"], "rows": rows}))


if __name__ == "__main__":
    main()
