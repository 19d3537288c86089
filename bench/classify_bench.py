"""EP classification of the 8×8 digits on the shipped crossbar (the recommended schedule).

Trains ``netlists/digits_classify.cir`` (64 → 128 ρ → 10 ρ, its devices as exported)
with :class:`~neurosim.learn.classify_objective.ClassifyObjective`: Adam lr 1e-3
(0.9, 0.95), β = 0.25, mini-batches of 32, gradient-norm clip 1.0, 30 epochs, on a
stratified 80/20 split of the 1,797 digits. Prints the held-out accuracy per epoch,
then one JSON line. Run: ``.venv/bin/python bench/classify_bench.py [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from neurosim.data.digits import load_digits
from neurosim.host import Chip
from neurosim.learn.classify_objective import ClassifyObjective, ClassifyStep
from neurosim.learn.optim import Adam
from neurosim.netlist.parse import parse_netlist

ROOT = Path(__file__).resolve().parents[1]
NETLIST = ROOT / "netlists/digits_classify.cir"
EPOCHS = 30
TEST_FRACTION = 0.2
SETTINGS = ClassifyStep(beta=0.25, batch_size=32, clip=1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the split and shuffles")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    chip = Chip(parse_netlist(NETLIST))
    meta = chip.meta
    x, labels = load_digits()
    objective = ClassifyObjective(meta, x, labels, SETTINGS, TEST_FRACTION, args.seed)
    optimizer = Adam(lr=1e-3, beta1=0.9, beta2=0.95)
    print(
        f"digits_classify: {objective.split.train.size} training, "
        f"{objective.split.test.size} held-out digits, {SETTINGS}"
    )
    curve, passes, unsettled = [], 0.0, 0.0
    start = time.perf_counter()
    for epoch in range(args.epochs):
        m = objective.run_epoch(chip, optimizer, epoch)
        curve.append(m["test_accuracy"])
        passes += m["passes"]
        unsettled += m["unsettled"]
        print(
            f"  epoch {epoch + 1:3d}: loss {m['loss']:.4f}, train {m['train_accuracy']:.2%}, "
            f"test {m['test_accuracy']:.2%}, {m['passes']:.0f} passes, "
            f"{time.perf_counter() - start:.1f} s"
        )
    seconds = time.perf_counter() - start
    result = {
        "test_accuracy": curve[-1],
        "best_test_accuracy": max(curve),
        "epochs": args.epochs,
        "seconds": seconds,
        "passes": passes,
        "unsettled": unsettled,
        "seed": args.seed,
        "curve": curve,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
