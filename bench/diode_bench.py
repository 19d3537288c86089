"""The resistor–diode family on the engine against ngspice and the general MNA solver.

A random ladder of ``--stages`` nodes (each joined to the next by a resistor, with a
diode to ground or to a bias rail and a resistor to ground; seeded), driven by
``--settings`` random (input, bias) source pairs, is settled three ways: the engine's
resistor–diode system (``relax``'s default solver, Newton with the exact Jacobian, and
Anderson on the nonlinear-Jacobi map), the general MNA Newton solver one setting at a
time, and ngspice ``.op`` (``neurosim.verify.crosscheck``). Reported: the largest
|ΔV| against ngspice, passes, and the wall time of each (one process, best of 3).
Progress goes to stderr; stdout gets a table and, last, one JSON line.

Run: .venv/bin/python bench/diode_bench.py [--stages 40] [--settings 256]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from neurosim.engine.dc import solve_dc
from neurosim.engine.diode_network import lower_diode_network
from neurosim.engine.relax import relax
from neurosim.engine.solvers import Anderson
from neurosim.lower.mna import lower_dc
from neurosim.netlist.parse import parse_netlist
from neurosim.verify.crosscheck import cross_check

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.engine.test_diode_network import random_ladder  # the tests' ladder


def best_of(repeats: int, run):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=40)
    parser.add_argument("--settings", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ladder.cir"
        path.write_text(random_ladder(rng, args.stages))
        circuit = parse_netlist(path)
    settings = [{"vin": v, "vb": b} for v, b in rng.uniform(-3, 3, (args.settings, 2))]
    network = lower_diode_network(circuit)
    sources = network.sources_from_settings(settings)
    print("engine: newton", file=sys.stderr)
    newton_s, newton = best_of(3, lambda: relax(network, sources, tolerance=1e-12))
    print("engine: anderson", file=sys.stderr)
    anderson_s, anderson = best_of(
        3,
        lambda: relax(network, sources, tolerance=1e-12, solver=Anderson(), max_passes=100_000),
    )
    print("general MNA", file=sys.stderr)
    system = lower_dc(circuit)

    def general():
        out = []
        for setting in settings:
            system.set_sources(setting)
            out.append(solve_dc(system).voltages)
        return out

    general_s, general_volts = best_of(3, general)
    ours = network.node_voltages(sources, newton.state)
    general_diff = max(
        abs(ours[node][n] - row[node]) for n, row in enumerate(general_volts) for node in ours
    )
    print("ngspice", file=sys.stderr)
    report = cross_check(circuit, settings)
    result = {
        "stages": args.stages,
        "settings": args.settings,
        "check_solver": report.solver,
        "max_abs_diff_vs_ngspice_v": report.max_abs_diff_v,
        "signal_scale_v": report.signal_scale_v,
        "max_abs_diff_vs_general_mna_v": float(general_diff),
        "newton_seconds": newton_s,
        "newton_max_passes": newton.total_passes,
        "anderson_seconds": anderson_s,
        "anderson_max_passes": anderson.total_passes,
        "anderson_max_diff_v": float(np.max(np.abs(anderson.state - newton.state))),
        "general_mna_seconds": general_s,
        "ngspice_seconds": report.ngspice_seconds,
        "speedup_vs_general_mna": general_s / newton_s,
    }
    for key, value in result.items():
        print(f"{key:32s} {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
