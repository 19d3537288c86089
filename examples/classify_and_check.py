"""Train the digits classifier circuit with EP from Python, then check the trained
circuit against ngspice.

    .venv/bin/python examples/classify_and_check.py --epochs 5

The trained circuit is the netlist's circuit after programming: ngspice's operating
point of it must agree with neurosim's for the same inputs.
"""

from __future__ import annotations

import argparse

import numpy as np

import neurosim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netlist", default="netlists/digits_classify.cir")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="use the first N digits")
    parser.add_argument("--checks", type=int, default=2, help="inputs checked with ngspice")
    args = parser.parse_args()

    settings = neurosim.ClassifySettings(epochs=args.epochs, limit=args.limit)
    run = neurosim.train(args.netlist, "classify", settings=settings)
    accuracy = run.history["test_accuracy"][-1]
    print(f"{run.epochs} epochs: held-out accuracy {accuracy:.1%}")

    from neurosim.data.digits import load_digits

    digits, _ = load_digits()
    report = neurosim.check(run.circuit, digits[: args.checks])
    print(
        f"trained circuit vs ngspice on {args.checks} digits: max |dV| "
        f"{report.max_abs_diff_v:.2e} V ({'OK' if report.ok else 'MISMATCH'})"
    )
    raise SystemExit(0 if report.ok and np.isfinite(accuracy) else 1)


if __name__ == "__main__":
    main()
