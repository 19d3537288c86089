"""Sample quality of a trained digits circuit: end time t1 = 1.0 vs 1.2, spring vs energy.

For each readout (spring: v = αλ(x* − x) with the visible units on their springs;
energy: visible units clamped, v = −α∂E/∂x) and each end time, ``--n`` digits are
generated from N(0, I) by Euler steps of ``--dt`` (the same noise for all four, seed
``--seed``) and scored with the fixed metrics of ``neurosim metrics`` (Fréchet distance
in the digits classifier's feature space, class coverage, confidence, nearest training
image), next to the real-digit baseline. Prints a table and, last, one JSON line.

Run: .venv/bin/python bench/sample_bench.py RUN_DIR/best.cir [--n 1000] [--alpha 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from neurosim.host import Chip
from neurosim.netlist.parse import parse_netlist
from neurosim.samplers.flow import euler_samples
from neurosim.scores.quality import evaluate

COLUMNS = (
    ("frechet_distance", "FD", "{:.3f}"),
    ("class_coverage", "coverage", "{}"),
    ("mean_confidence", "confidence", "{:.3f}"),
    ("nearest_train_distance_mean", "nearest mean", "{:.2f}"),
    ("nearest_train_distance_min", "nearest min", "{:.2f}"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("netlist")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--dt", type=float, default=0.01)
    parser.add_argument("--alpha", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    chip = Chip(parse_netlist(args.netlist))
    rows, baseline = {}, None
    for readout in ("spring", "energy"):
        for t1 in (1.0, 1.2):
            began = time.perf_counter()
            rng = np.random.default_rng(args.seed)
            samples, stats = euler_samples(chip, args.n, t1, args.dt, rng, args.alpha, readout)
            scores = evaluate(samples)
            baseline = scores["baseline"]
            rows[f"{readout} t1={t1}"] = {
                **scores["samples"],
                "seconds": round(time.perf_counter() - began, 1),
                "unsettled": stats.unsettled,
            }
            print(f"{readout} t1={t1}: {rows[f'{readout} t1={t1}']['seconds']} s", file=sys.stderr)
    header = f"{'':16}" + "".join(f"{title:>14}" for _, title, _ in COLUMNS)
    print(header)
    for name, scores in [*rows.items(), ("real digits", baseline)]:
        cells = "".join(f"{fmt.format(scores[key]):>14}" for key, _, fmt in COLUMNS)
        print(f"{name:16}{cells}")
    print(json.dumps({"netlist": args.netlist, "n": args.n, "rows": rows, "baseline": baseline}))


if __name__ == "__main__":
    main()
