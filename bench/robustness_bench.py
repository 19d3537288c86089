"""Held-out accuracy of the EP digits classifier programmed onto non-ideal devices.

Trains ``netlists/digits_classify.cir`` ideally (the README's classification command,
30 epochs, through the API), then programs the trained circuit onto each device setting
with ``--seeds`` seeds (``neurosim program``'s code path, with and without global drift
compensation) and evaluates each chip's held-out accuracy (``neurosim evaluate``'s).
Then the periphery: each amplifier's own gain error, offset or swing (``neurosim program
--amplifier``), resistive wires (``neurosim export --wire-resistance``), an ADC and
output noise on the readings and a DAC on the inputs (``neurosim evaluate --adc-bits
--read-noise --dac-bits``). Hardware-aware training: ``bench/hardware_aware_bench.py``.
Prints a table and, last, one JSON line.

Run: .venv/bin/python bench/robustness_bench.py [--seeds 10]   (about 5 minutes here)
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import neurosim

DAY = 86400.0
CONDITIONS = [  # label, device, settings, seconds after programming, drift compensation
    ("ideal", "ideal", {}, None, False),
    ("pcm, 1 s", "pcm", {}, 1.0, False),
    ("pcm, 1 h", "pcm", {}, 3600.0, False),
    ("pcm, 1 day", "pcm", {}, DAY, False),
    ("pcm, 1 year", "pcm", {}, 365 * DAY, False),
    ("pcm, 1 s, compensated", "pcm", {}, 1.0, True),
    ("pcm, 1 h, compensated", "pcm", {}, 3600.0, True),
    ("pcm, 1 day, compensated", "pcm", {}, DAY, True),
    ("pcm, 1 year, compensated", "pcm", {}, 365 * DAY, True),
    (
        "pcm, 1 day, drift only",
        "pcm",
        {"prog_noise_scale": 0.0, "read_noise_scale": 0.0},
        DAY,
        False,
    ),
    ("4 bits over the used range", "generic", {"bits": 4}, None, False),
    ("6 bits", "generic", {"bits": 6}, None, False),
    ("8 bits", "generic", {"bits": 8}, None, False),
    ("stuck open (0 S), 1%", "generic", {"p_stuck_min": 0.01}, None, False),
    ("stuck open (0 S), 5%", "generic", {"p_stuck_min": 0.05}, None, False),
    ("stuck at the largest G, 1%", "generic", {"p_stuck_max": 0.01}, None, False),
    ("stuck at the largest G, 5%", "generic", {"p_stuck_max": 0.05}, None, False),
    (
        "5% device mismatch (each array its own draws)",
        "generic",
        {"prog_noise": 0.05, "prog_noise_kind": "proportional"},
        None,
        False,
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    began = time.perf_counter()
    run = neurosim.train(
        "netlists/digits_classify.cir",
        "classify",
        settings=neurosim.ClassifySettings(epochs=args.epochs),
    )
    trained = run.circuit
    g_max = max(
        float(g.max()) for k, g in run.chip.device_state().items() if k.startswith("conductance/")
    )
    print(f"trained in {time.perf_counter() - began:.0f} s; largest device {g_max * 1e6:.1f} uS")
    rows = []
    print(f"{'condition':<36} {'accuracy, mean ± std':>22} {'min':>7}")
    for label, device, settings, seconds, compensate in CONDITIONS:
        settings = dict(settings)
        if device == "generic" and ("bits" in settings or "p_stuck_max" in settings):
            settings["g_max"] = g_max  # levels and stuck-at-max span the range in use
        deterministic = device == "ideal" or (
            device == "generic" and set(settings) <= {"bits", "g_max"}
        )
        seeds = range(1 if deterministic else args.seeds)
        accuracy, out_of_range = [], 0
        for seed in seeds:
            made = neurosim.program(
                trained, device, settings, seconds=seconds, seed=seed, compensate=compensate
            )
            out_of_range = made.out_of_range
            accuracy.append(neurosim.evaluate(made.circuit, "classify")["accuracy"])
        accuracy = np.array(accuracy)
        rows.append(
            {
                "condition": label,
                "device": device,
                "settings": settings,
                "seconds": seconds,
                "compensate": compensate,
                "seeds": len(accuracy),
                "mean": float(accuracy.mean()),
                "std": float(accuracy.std()),
                "min": float(accuracy.min()),
                "out_of_range": out_of_range,
            }
        )
        spread = f"{accuracy.mean():.2%} ± {accuracy.std():.2%}"
        print(
            f"{label:<36} {spread:>22} {accuracy.min():>7.2%}  ({len(accuracy)} seeds)", flush=True
        )
    rows.append(oim_ep_row(trained, g_max))
    rows += amplifier_rows(trained, args)
    rows += wire_rows(run, args)
    rows += readout_rows(trained, args)
    print(json.dumps({"seconds": time.perf_counter() - began, "rows": rows}))


def oim_ep_row(trained, g_max: float) -> dict:
    """OIM-EP's robustness claim (Gower, arXiv 2505.02103: 10-bit parameters and 4-bit
    phase readout) in this circuit's terms: devices on 2^10 levels over the range in use,
    output units read through a 4-bit ADC."""
    from neurosim.devices.periphery import Readout

    made = neurosim.program(trained, "generic", {"bits": 10, "g_max": g_max})
    chip = neurosim.Chip(made.circuit)
    chip.set_readout(Readout(adc_bits=4))
    accuracy = neurosim.evaluate(chip, "classify")["accuracy"]
    return _row("10-bit devices + 4-bit ADC (OIM-EP's)", [accuracy])


def amplifier_rows(trained, args) -> list[dict]:
    """The trained circuit on exact devices with each amplifier's own errors
    (``neurosim program --amplifier``; ``--seeds`` chips each)."""
    rows = []
    for label, amplifiers in (
        ("driver gain error 2%", {"driver_gain_error": 0.02}),
        ("driver gain error 10%", {"driver_gain_error": 0.1}),
        ("driver offset 1 mV", {"driver_offset": 1e-3}),
        ("driver offset 10 mV", {"driver_offset": 1e-2}),
        ("driver swing ±50 mV", {"driver_swing": 0.05}),
        ("injection gain error 2%", {"injection_gain_error": 0.02}),
        ("injection gain error 10%", {"injection_gain_error": 0.1}),
    ):
        seeds = range(1 if set(amplifiers) == {"driver_swing"} else args.seeds)
        accuracy = []
        for seed in seeds:
            made = neurosim.program(trained, "ideal", seed=seed, amplifiers=amplifiers)
            accuracy.append(neurosim.evaluate(made.circuit, "classify")["accuracy"])
        rows.append(_row(label, accuracy))
    return rows


def wire_rows(run, args) -> list[dict]:
    """The trained parameters exported with resistive wires (every row and column
    segment ``R`` ohms: IR drop; ``neurosim export --wire-resistance``)."""
    rows = []
    for ohms in (1.0, 5.0):
        wired = neurosim.export(
            "circuits/digits_classify.toml", params=run.chip.parameters(), wire_resistance=ohms
        )
        accuracy = neurosim.evaluate(wired, "classify")["accuracy"]
        rows.append(_row(f"wire resistance {ohms:g} Ω per segment", [accuracy]))
    return rows


def _row(label: str, accuracy: list[float]) -> dict:
    """One table row, printed as it is made."""
    values = np.array(accuracy)
    spread = f"{values.mean():.2%} ± {values.std():.2%}"
    print(f"{label:<36} {spread:>22} {values.min():>7.2%}  ({values.size} seeds)", flush=True)
    return {
        "condition": label,
        "seeds": int(values.size),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "min": float(values.min()),
    }


def readout_rows(trained, args) -> list[dict]:
    """The ideal chip read through an ADC (full scale ±1 model unit, 0.1 V) and output
    noise (the host's readout path; 10 seeds of the noise where there is noise), and
    with its inputs set through a DAC (full scale ±1)."""
    from neurosim.devices.periphery import Drive, Readout

    rows = []
    for label, readout in (
        ("ADC 4 bits", Readout(adc_bits=4)),
        ("ADC 6 bits", Readout(adc_bits=6)),
        ("ADC 8 bits", Readout(adc_bits=8)),
        ("output noise 0.02", Readout(out_noise=0.02)),
        ("output noise 0.1", Readout(out_noise=0.1)),
    ):
        seeds = range(args.seeds if readout.out_noise else 1)
        rows.append(_row(label, [_noisy(trained, readout, seed) for seed in seeds]))
    for bits in (2, 4, 6):
        accuracy = neurosim.evaluate(trained, "classify", drive=Drive(dac_bits=bits))["accuracy"]
        rows.append(_row(f"DAC {bits} bits on the inputs", [accuracy]))
    return rows


def _noisy(trained, readout, seed: int) -> float:
    """Accuracy with the readout's noise drawn from ``seed`` (the split stays seed 0's)."""
    chip = neurosim.Chip(trained)
    chip.set_readout(readout, seed)
    return neurosim.evaluate(chip, "classify")["accuracy"]


if __name__ == "__main__":
    main()
