"""Sweep throughput: the same sweep in this process, on a local pool and on Dask.

Runs one inference sweep (the trained EP digits classifier on pcm, 4 drift times × 2
compensation settings × ``--repeats`` chips) with 1 worker (this process), a local
pool of 2 spawned workers and a Dask LocalCluster of 2 workers, side by side; checks
that the three give the same numbers; prints repeats per minute and the Dask
overhead per repeat against the local pool. Needs ``runs/classify/trained.cir`` (the
README's classification command). Prints a table and, last, one JSON line.

Run: .venv/bin/python bench/sweep_bench.py [--repeats 10]   (about 2 minutes here)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import neurosim
from neurosim.sweeps.config import SweepConfig
from neurosim.sweeps.grid import Axis

NETLIST = "runs/classify/trained.cir"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if not Path(NETLIST).exists():
        raise SystemExit(f"{NETLIST} missing: run the README's classification command first")
    config = SweepConfig(
        netlist=NETLIST,
        device="pcm",
        axes=(Axis("time", (1.0, 3600.0, 86400.0, 31536000.0)), Axis("compensate", (False, True))),
        repeats=args.repeats,
    )
    rows, reference = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for label, options in (
            ("this process (1 worker)", {}),
            ("local pool, 2 workers", {"workers": 2}),
            ("Dask LocalCluster, 2 workers", {"dask_local": 2}),
        ):
            began = time.perf_counter()
            results = neurosim.sweep(config, Path(tmp) / f"{len(rows)}.h5", **options)
            seconds = time.perf_counter() - began
            if reference is None:
                reference = results.metrics["accuracy"]
            same = bool(np.array_equal(results.metrics["accuracy"], reference))
            repeats = results.seed.size
            rows.append(
                {
                    "executor": label,
                    "repeats": repeats,
                    "seconds": seconds,
                    "per_minute": 60 * repeats / seconds,
                    "same_numbers": same,
                }
            )
            print(
                f"{label:<32} {repeats} repeats in {seconds:6.1f} s: "
                f"{60 * repeats / seconds:6.1f} per minute; same numbers: {same}",
                flush=True,
            )
    pool, dask = rows[1], rows[2]
    overhead = (dask["seconds"] - pool["seconds"]) / dask["repeats"]
    print(
        f"Dask overhead against the local pool: {overhead * 1e3:.0f} ms per repeat "
        "(cluster start-up included)"
    )
    print(json.dumps({"rows": rows, "dask_overhead_per_repeat_s": overhead}))


if __name__ == "__main__":
    main()
