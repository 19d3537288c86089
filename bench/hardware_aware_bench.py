"""Hardware-aware training of the EP digits classifier, several training seeds per device.

Trains ``netlists/digits_classify.cir`` (the README's classification settings, 30
epochs, through the API) with every update written through a device model
(``neurosim train --device``): ideal, pcm (a fresh noisy write per update), and
aihwkit's pulsed-update devices (updates as pulses, open loop). Reports the held-out
accuracy on the devices the run ends with (training seed s holds out its own split:
every score of a run is on the digits it did not train on), and for ideal and pcm
training also the learned parameters programmed onto fresh pcm devices a day later,
with and without global drift compensation (``--program-seeds`` chips each). aihwkit's
ReRAM presets have no drift model: their rows are on the devices as trained. Prints a
table and, last, one JSON line.

Run: .venv/bin/python bench/hardware_aware_bench.py [--seeds 3]   (about 15 minutes here)
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import neurosim

DAY = 86400.0
NETLIST = "netlists/digits_classify.cir"
DEVICES = [  # label, device, settings
    ("ideal", "ideal", ()),
    ("pcm", "pcm", ()),
    ("constant_step", "constant_step", ()),
    ("soft_bounds", "soft_bounds", ()),
    ("reram_sb", "reram_sb", ()),
    ("reram_sb, w_unit 0.25", "reram_sb", ("w_unit=0.25",)),
    ("reram_es", "reram_es", ()),
    ("reram_es, w_unit 0.25", "reram_es", ("w_unit=0.25",)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="training seeds per device")
    parser.add_argument("--program-seeds", type=int, default=5, help="fresh chips per run")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--only", nargs="*", help="device rows to run (their labels)")
    args = parser.parse_args()
    began = time.perf_counter()
    rows = []
    print(f"{'training devices':<26} {'held-out accuracy, mean ± std over seeds':>44}")
    for label, device, settings in DEVICES:
        if args.only and label not in args.only:
            continue
        own, day, compensated, failed = [], [], [], 0
        for seed in range(args.seeds):
            try:
                run = neurosim.train(
                    NETLIST,
                    "classify",
                    settings=neurosim.ClassifySettings(
                        epochs=args.epochs, device=device, device_settings=settings, seed=seed
                    ),
                )
            except neurosim.NeurosimError as exc:  # e.g. a chip that no longer settles
                failed += 1
                print(f"  {label} seed {seed}: training stopped: {exc}")
                continue
            split = neurosim.ClassifySettings(seed=seed)  # the run's own held-out digits
            own.append(neurosim.evaluate(run.chip, "classify", split)["accuracy"])
            if device in ("ideal", "pcm"):
                learned = _learned(run)
                for chip_seed in range(args.program_seeds):
                    for compensate, store in ((False, day), (True, compensated)):
                        made = neurosim.program(
                            learned, "pcm", seconds=DAY, seed=chip_seed, compensate=compensate
                        )
                        scores = neurosim.evaluate(made.circuit, "classify", split)
                        store.append(scores["accuracy"])
            print(f"  {label} seed {seed}: {own[-1]:.2%} ({time.perf_counter() - began:.0f} s)")
        rows.append({**_row(f"{label}, on its own devices", own), "failed": failed})
        if day:
            rows.append(_row(f"{label} -> fresh pcm, 1 day", day))
            rows.append(_row(f"{label} -> fresh pcm, 1 day, compensated", compensated))
    for row in rows:
        spread = f"{row['mean']:.2%} ± {row['std']:.2%} (min {row['min']:.2%}, n={row['n']})"
        if row.get("failed"):
            spread += f", {row['failed']} stopped"
        print(f"{row['condition']:<44} {spread:>36}")
    print(json.dumps({"seconds": time.perf_counter() - began, "rows": rows}))


def _learned(run) -> neurosim.Circuit:
    """The run's learned parameters (the host's targets), exactly encoded."""
    chip = neurosim.Chip(run.circuit)
    chip.set_values(run.chip.targets())
    return chip.circuit()


def _row(condition: str, accuracy: list[float]) -> dict:
    values = np.array(accuracy) if accuracy else np.array([np.nan])
    return {
        "condition": condition,
        "n": len(accuracy),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
    }


if __name__ == "__main__":
    main()
