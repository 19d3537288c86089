"""Out-of-distribution detection by a trained circuit's free energy (EqM's OOD use).

Scores digits and three kinds of non-digits with ``neurosim score``'s free energy
F(x) = E(x, h*) on a trained circuit (a netlist or RUN_DIR): the digits from row
``--held-out-from`` on (rows a run with ``--limit`` that many did not train on; with 0
the digits it trained on), Gaussian noise N(0, I), uniform images U(−1, 1), and
shuffled-pixel digits (each held-out digit's pixels permuted). AUROC of "digit" against
each: the probability that a digit has lower free energy than a non-digit (1: perfect,
0.5: chance). Prints a table and, last, one JSON line.

Run: .venv/bin/python bench/ood_bench.py runs/eqm/best.cir [--held-out-from 1500]
"""

from __future__ import annotations

import argparse
import json

import numpy as np

import neurosim
from neurosim.data.digits import load_digits


def auroc(inside: np.ndarray, outside: np.ndarray) -> float:
    """P(F(inside) < F(outside)) + ½ P(equal), over all pairs."""
    a, b = np.asarray(inside)[:, None], np.asarray(outside)[None, :]
    return float(np.mean((a < b) + 0.5 * (a == b)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("netlist")
    parser.add_argument("--held-out-from", type=int, default=0)
    parser.add_argument("--n", type=int, default=300, help="rows of each kind")
    args = parser.parse_args()
    x, _ = load_digits()
    rng = np.random.default_rng(0)
    digits = x[args.held_out_from :][: args.n]
    kinds = {
        "digits": digits,
        "gaussian noise": rng.standard_normal((args.n, x.shape[1])),
        "uniform images": rng.uniform(-1, 1, (args.n, x.shape[1])),
        "shuffled-pixel digits": np.array([row[rng.permutation(row.size)] for row in digits]),
    }
    energy = {
        name: neurosim.score(args.netlist, rows)["free_energy"] for name, rows in kinds.items()
    }
    rows = []
    for name, values in energy.items():
        row = {
            "inputs": name,
            "n": int(values.size),
            "median_free_energy": float(np.median(values)),
        }
        if name != "digits":
            row["auroc"] = auroc(energy["digits"], values)
        rows.append(row)
        tail = f"  AUROC {row['auroc']:.3f}" if "auroc" in row else ""
        print(f"{name:<24} median F {row['median_free_energy']:10.3f}{tail}")
    print(json.dumps({"netlist": args.netlist, "held_out_from": args.held_out_from, "rows": rows}))


if __name__ == "__main__":
    main()
