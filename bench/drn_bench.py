"""A deep resistive network learning the 8x8 digits by EP, and what a phase costs.

Trains ``netlists/digits_drn.cir`` (or ``--netlist``) with ``neurosim.api.train``
(objective classify: the held-out split, seeds and metrics of ``neurosim train``) and
reports the held-out accuracy and the seconds of each epoch. Then times one free phase
of ``--phase-batch`` training images on the chip (batched Newton on the nodal equations)
against ngspice ``.op`` on the same netlist, one operating point per image as EBANA
does (Watfa et al. 2023; PySpice's shared ngspice), side by side in this process, and
checks that both give the same outputs (each the difference of its pair's voltages).
Progress goes to stderr; stdout gets a table and, last, one JSON line.

Run: .venv/bin/python bench/drn_bench.py [--epochs 30] [--lr 0.01] [--beta 0.1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from neurosim import api
from neurosim.data.digits import load_digits
from neurosim.host.resistive import ResistiveChip
from neurosim.learn.settings import ClassifySettings
from neurosim.netlist.parse import parse_netlist
from neurosim.netlist.write import netlist_text
from neurosim.spice.ngspice import operating_points
from neurosim.verify.crosscheck import settings_for_inputs

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netlist", type=Path, default=ROOT / "netlists/digits_drn.cir")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--beta", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--phase-batch", type=int, default=64)
    args = parser.parse_args()
    circuit = parse_netlist(args.netlist)
    settings = ClassifySettings(
        epochs=args.epochs,
        lr=args.lr,
        beta=args.beta,
        batch_size=args.batch_size,
        seed=args.seed,
    )

    def progress(p) -> None:
        m = p.metrics
        print(
            f"epoch {p.done}/{p.epochs}: loss {m['loss']:.4f}, held out "
            f"{m['test_accuracy']:.2%}, {m['seconds']:.1f} s",
            file=sys.stderr,
            flush=True,
        )

    result = api.train(circuit, "classify", settings=settings, progress=progress)
    history = result.history
    accuracy = history["test_accuracy"][-1]
    seconds = history["seconds"]

    chip = ResistiveChip(circuit)
    x = load_digits()[0][: args.phase_batch]
    sources = chip.sources(x.shape[0])
    sources.inputs[:] = x
    began = time.perf_counter()
    free = chip.settle(sources).raise_if_failed()
    engine_seconds = time.perf_counter() - began
    print(f"ngspice: {x.shape[0]} operating points ...", file=sys.stderr, flush=True)
    text = netlist_text(circuit)
    began = time.perf_counter()
    points = operating_points(text, settings_for_inputs(circuit.network, x))
    ngspice_seconds = time.perf_counter() - began
    size = circuit.network.layer("out").size
    theirs = np.array(
        [[p.voltages[f"out_{k}_p"] - p.voltages[f"out_{k}_n"] for k in range(size)] for p in points]
    )
    ours = free.state[:, chip.free_slices()["out"]] * circuit.network.scaling.volts_per_unit
    difference = float(np.max(np.abs(ours - theirs)))

    print(f"{'epochs':>6} {'held out':>9} {'s/epoch':>8}")
    print(f"{args.epochs:>6} {accuracy:>9.2%} {np.median(seconds):>8.1f}")
    print(
        f"free phase of {x.shape[0]} images: engine {engine_seconds:.3f} s, ngspice .op per "
        f"image {ngspice_seconds:.3f} s ({ngspice_seconds / engine_seconds:.0f}x); outputs "
        f"agree to {difference:.2g} V"
    )
    record = {
        "netlist": str(args.netlist),
        "epochs": args.epochs,
        "lr": args.lr,
        "beta": args.beta,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "test_accuracy": accuracy,
        "test_accuracy_history": history["test_accuracy"],
        "median_epoch_seconds": float(np.median(seconds)),
        "phase_batch": int(x.shape[0]),
        "engine_phase_seconds": engine_seconds,
        "ngspice_phase_seconds": ngspice_seconds,
        "ngspice_over_engine": ngspice_seconds / engine_seconds,
        "max_output_difference_v": difference,
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
