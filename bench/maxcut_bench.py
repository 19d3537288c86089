"""Max-cut on an oscillator Ising machine against the optimum found by enumeration.

Settles ``netlists/maxcut_g16.cir`` (or ``--netlist``, a max-cut spec's export) from
``--starts`` seeded random phase vectors at once (the engine's batch), reads each
vertex's side as the sign of cos φ, and reports the best and mean cut against the
optimum (every one of the 2^(n−1) cuts enumerated, n ≤ 24), the share of starts that
reach it, and the wall time of the batch and of the enumeration side by side. Progress
goes to stderr; stdout gets a table and, last, one JSON line.

Run: .venv/bin/python bench/maxcut_bench.py [--netlist netlists/maxcut_g16.cir] [--starts 256]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neurosim.engine.oscillator import lower_oscillator
from neurosim.engine.relax import relax
from neurosim.netlist.parse import parse_netlist

ROOT = Path(__file__).resolve().parents[1]


def cut_values(weights: np.ndarray, sides: np.ndarray) -> np.ndarray:
    """The cut Σ_{i<j} w_ij·(1 − s_i s_j)/2 of each row of ``sides`` (±1): a quarter of
    the symmetric sum over all i, j."""
    return 0.25 * (weights.sum() - np.einsum("bi,ij,bj->b", sides, weights, sides))


def optimum(weights: np.ndarray) -> float:
    """The largest cut, by enumerating every assignment with vertex 0 on side +1."""
    n = len(weights)
    if n > 24:
        raise SystemExit("enumeration is for graphs of at most 24 vertices")
    best = 0.0
    for start in range(0, 2 ** (n - 1), 1 << 14):
        codes = np.arange(start, min(start + (1 << 14), 2 ** (n - 1)))
        bits = (codes[:, None] >> np.arange(n - 1)) & 1
        sides = np.concatenate([np.ones((len(codes), 1)), 1 - 2 * bits], axis=1)
        best = max(best, float(cut_values(weights, sides).max()))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netlist", type=Path, default=ROOT / "netlists/maxcut_g16.cir")
    parser.add_argument("--starts", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    system = lower_oscillator(parse_netlist(args.netlist))
    weights = -system.couplings  # J = −A
    sources = system.sources_from_settings([{}] * args.starts)
    start = np.random.default_rng(args.seed).uniform(-np.pi, np.pi, (args.starts, system.free))
    began = time.perf_counter()
    settled = relax(system, sources, start=start, tolerance=1e-8, max_passes=20_000)
    engine_seconds = time.perf_counter() - began
    cuts = cut_values(weights, np.where(np.cos(settled.state) >= 0, 1.0, -1.0))
    began = time.perf_counter()
    best = optimum(weights)
    enumeration_seconds = time.perf_counter() - began
    record = {
        "netlist": str(args.netlist),
        "vertices": system.free,
        "edges": int(np.count_nonzero(np.triu(weights, 1))),
        "starts": args.starts,
        "converged": int(settled.converged.sum()),
        "optimum": best,
        "best_cut": float(cuts.max()),
        "mean_cut": float(cuts.mean()),
        "share_optimal": float(np.mean(cuts >= best - 1e-9)),
        "engine_seconds": engine_seconds,
        "enumeration_seconds": enumeration_seconds,
    }
    print(f"{'vertices':>8} {'edges':>6} {'optimum':>8} {'best':>6} {'mean':>7} {'optimal':>8}")
    print(
        f"{record['vertices']:>8} {record['edges']:>6} {best:>8.0f} {cuts.max():>6.0f} "
        f"{cuts.mean():>7.2f} {record['share_optimal']:>8.1%}"
    )
    print(
        f"{args.starts} starts settled in {engine_seconds:.3f} s "
        f"({settled.converged.sum()} converged); enumeration {enumeration_seconds:.3f} s"
    )
    print(json.dumps(record))


if __name__ == "__main__":
    main()
