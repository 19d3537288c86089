"""Where the accelerated solver ends against the circuit's own dynamics, on multi-stable
circuits: how often it settles in another stable equilibrium than plain steps from the
same start.

The family is ``tests/engine/test_robustness.py``'s mismatched Hopfield chain (x → h1
→ h2 → y, tanh units, Xavier gain 0.7 so that several equilibria exist, every sixth
device scaled by U(0.9, 1.1): no energy function), seeds 0–29, 40 drives each. For
each seed: ``relax`` (auto) and plain steps (``solver=Gradient()``) to a residual of
1e-10, on the circuit and on its reciprocal part (each coupling's two arrays replaced
by their mean, which has an energy function: the energy-guided path). A sample is
"elsewhere" when the two states differ by more than 1e-6 (model units); every state
returned is also checked stable (dense Jacobian eigenvalues).

Run: .venv/bin/python bench/basin_bench.py   (about a minute; one JSON line last)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neurosim.engine.crossbar_system import reciprocal_part
from neurosim.engine.relax import relax
from neurosim.engine.solvers import Gradient
from tests.engine.test_robustness import jacobians, mismatched_chain

SEEDS, BATCH, TOLERANCE, APART = range(30), 40, 1e-10, 1e-6


def main() -> None:
    figures = {"mismatched": [], "reciprocal_part": []}
    unstable = {"mismatched": 0, "reciprocal_part": 0}
    passes = {"mismatched": [], "reciprocal_part": [], "plain_steps": []}
    for seed in SEEDS:
        crossbar, sources = mismatched_chain(seed, batch=BATCH)
        for name, circuit in (
            ("mismatched", crossbar),
            ("reciprocal_part", reciprocal_part(crossbar)),
        ):
            fast = relax(circuit, sources, tolerance=TOLERANCE, max_passes=50_000, throw=False)
            own = relax(
                circuit,
                sources,
                tolerance=TOLERANCE,
                max_passes=50_000,
                solver=Gradient(),
                throw=False,
            )
            apart = np.max(np.abs(fast.state - own.state), axis=1) > APART
            figures[name].append(int(apart.sum()))
            growth = np.linalg.eigvals(jacobians(circuit, sources, fast.state)).real.max(axis=1)
            unstable[name] += int(np.sum(growth >= 0))
            passes[name].append(fast.total_passes)
            if name == "mismatched":
                passes["plain_steps"].append(own.total_passes)
        print(
            f"seed {seed}: elsewhere {figures['mismatched'][-1]} (reciprocal part "
            f"{figures['reciprocal_part'][-1]}) of {BATCH}",
            file=sys.stderr,
        )
    total = len(SEEDS) * BATCH
    summary = {
        "samples": total,
        "mismatched_elsewhere": sum(figures["mismatched"]),
        "reciprocal_part_elsewhere": sum(figures["reciprocal_part"]),
        "mismatched_unstable": unstable["mismatched"],
        "reciprocal_part_unstable": unstable["reciprocal_part"],
        "mismatched_passes_median": float(np.median(passes["mismatched"])),
        "plain_steps_passes_median": float(np.median(passes["plain_steps"])),
        "per_seed": figures,
    }
    print(
        f"mismatched chains: {summary['mismatched_elsewhere']} of {total} samples elsewhere "
        f"than plain steps ({summary['mismatched_unstable']} unstable); their reciprocal "
        f"parts (energy-guided): {summary['reciprocal_part_elsewhere']} "
        f"({summary['reciprocal_part_unstable']} unstable)"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
