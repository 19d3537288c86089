"""Train the digits flow circuit with GradEP from Python, sample it, score the samples.

    .venv/bin/python examples/train_and_sample.py --epochs 100 --out runs/example

Every step runs on the netlist's own circuit (local rules only, no backprop); this is
the README's main job at a size you choose, through ``import neurosim``.
"""

from __future__ import annotations

import argparse

import neurosim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netlist", default="netlists/digits_flow.cir")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N digits")
    parser.add_argument("--n", type=int, default=500, help="samples to generate")
    parser.add_argument("--out", default=None, help="run directory (default: write nothing)")
    args = parser.parse_args()

    settings = neurosim.FlowSettings(epochs=args.epochs, limit=args.limit, eval_every=0)

    def progress(p: neurosim.Progress) -> None:
        if p.done % 10 == 0 or p.done == p.epochs:
            print(f"epoch {p.done}/{p.epochs}: {p.describe()}, {p.eta:.0f} s left", flush=True)

    run = neurosim.train(args.netlist, "flow", settings=settings, out=args.out, progress=progress)
    samples = neurosim.sample(run, neurosim.EulerSampling(n=args.n, dt=0.05))
    report = neurosim.metrics(samples.samples)
    print(
        f"{run.epochs} epochs, flow MSE {run.history['mse'][-1]:.4f}; {args.n} samples: "
        f"FD {report.samples['frechet_distance']:.3f} (real digits "
        f"{report.baseline['frechet_distance']:.3f}), "
        f"coverage {report.samples['class_coverage']} of 10"
    )


if __name__ == "__main__":
    main()
