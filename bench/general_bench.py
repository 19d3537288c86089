"""What settling a chip on the general MNA solver costs, against the engine, side by side.

One circuit two ways: ``xor.cir`` (or ``--netlist``) with a diode of IS = 1e-40 A from
``h_0`` to ground — it passes nothing but its GMIN of 1e-12 S, so it is exactly a 1 TΩ
resistor, which the engine folds as a bleed. The chip with the diode settles on the
general MNA solver (one sparse Newton solve per setting); the chip with the resistor on
the crossbar engine. A batch of ``--batch`` random inputs is settled by both (one
process, best of 3), and the largest state difference is reported. Progress goes to
stderr; stdout gets a table and, last, one JSON line.

Run: .venv/bin/python bench/general_bench.py [--netlist netlists/xor.cir] [--batch 64]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from neurosim.circuit.inputs import input_width
from neurosim.circuit.ir import Element, Model
from neurosim.circuit.junction import GMIN
from neurosim.host import Chip
from neurosim.netlist.parse import parse_netlist

ROOT = Path(__file__).resolve().parents[1]


def best_of(repeats: int, run):
    times, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netlist", type=Path, default=ROOT / "netlists/xor.cir")
    parser.add_argument("--node", default="h_0")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    circuit = parse_netlist(args.netlist)
    diode = Element("dextra", (args.node, "0"), 1.0, model="dd")
    general = replace(
        circuit,
        elements={**circuit.elements, "dextra": diode},
        models={**circuit.models, "dd": Model("dd", "d", (("is", 1e-40),))},
    )
    bleed = Element("rgmin", (args.node, "0"), 1.0 / GMIN)
    engine = replace(circuit, elements={**circuit.elements, "rgmin": bleed})
    rng = np.random.default_rng(0)
    inputs = rng.uniform(-1, 1, (args.batch, input_width(circuit.network)))
    rows = []
    states = []
    for label, netlist in (("engine", engine), ("general MNA", general)):
        chip = Chip(netlist)
        sources = chip.sources(args.batch)
        sources.inputs[:] = inputs
        print(f"settling {args.batch} inputs on the {label} ...", file=sys.stderr)
        seconds, settled = best_of(3, lambda chip=chip, s=sources: chip.settle(s, tolerance=1e-12))
        states.append(settled.state)
        rows.append((label, seconds, settled.method, int(settled.converged.sum())))
    difference = float(np.max(np.abs(states[0] - states[1])))
    ratio = rows[1][1] / rows[0][1]
    print(f"{'solver':<12} {'seconds':>9} {'converged':>10}  method")
    for label, seconds, method, converged in rows:
        print(f"{label:<12} {seconds:>9.4f} {converged:>10}  {method}")
    print(f"general / engine time: {ratio:.0f}x; largest state difference {difference:.2g}")
    record = {
        "netlist": str(args.netlist),
        "batch": args.batch,
        "engine_seconds": rows[0][1],
        "general_seconds": rows[1][1],
        "ratio": ratio,
        "max_state_difference": difference,
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
