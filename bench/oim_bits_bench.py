"""An oscillator Ising machine's digits accuracy with quantised parameters and phase readout.

Trains ``netlists/digits_oim.cir`` (``--epochs`` epochs, lr 0.01, β 0.1, seed 0, as the
README's command) unless ``--trained`` names a trained netlist, then scores the held-out
split of training (seed 0, 20%) two ways, as OIM-EP (Gower 2025) does:

- parameters of ``b`` bits: each parameter array clipped to its own full scale
  (max |θ|) and rounded to 2^b − 1 uniform levels over [−max, max], for b = 4..12;
- phase readout of ``b`` bits: each output phase rounded to one of 2^b points of the
  circle before cos φ is read, for b = 2..8 (parameters exact).

Progress goes to stderr; stdout gets a table and, last, one JSON line.

Run: .venv/bin/python bench/oim_bits_bench.py [--trained RUN/trained.cir] [--epochs 20]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from neurosim import api
from neurosim.data.digits import load_digits
from neurosim.host.oscillator import OscillatorChip
from neurosim.learn.classify_objective import stratified_split
from neurosim.learn.settings import ClassifySettings
from neurosim.netlist.parse import parse_netlist

ROOT = Path(__file__).resolve().parents[1]


def quantised(values: np.ndarray, bits: int) -> np.ndarray:
    """``values`` rounded to 2^bits − 1 uniform levels over [−max|v|, max|v|]."""
    scale = float(np.max(np.abs(values)))
    if scale == 0.0:
        return values
    half = (2**bits - 2) / 2  # levels either side of 0
    return np.round(np.clip(values / scale, -1.0, 1.0) * half) / half * scale


def accuracy(chip: OscillatorChip, x, labels, phase_bits: int | None = None) -> float:
    sources = chip.sources(x.shape[0])
    sources.inputs[:] = x
    state = chip.settle(sources, tolerance=1e-6, max_passes=20_000).state
    phases = state[:, chip.free_slices()["out"]]
    if phase_bits is not None:
        step = 2 * np.pi / 2**phase_bits
        phases = np.round(np.mod(phases, 2 * np.pi) / step) * step
    return float(np.mean(np.argmax(np.cos(phases), axis=1) == labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trained", type=Path)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    if args.trained is None:
        settings = ClassifySettings(epochs=args.epochs, lr=0.01, beta=0.1, seed=0)
        print(f"training digits_oim for {args.epochs} epochs ...", file=sys.stderr, flush=True)
        circuit = api.train(ROOT / "netlists/digits_oim.cir", "classify", settings=settings).circuit
    else:
        circuit = parse_netlist(args.trained)
    x, labels = load_digits()
    test = stratified_split(labels, 0.2, 0).test
    x, labels = x[test], labels[test]
    exact = OscillatorChip(circuit)
    reference = accuracy(exact, x, labels)
    parameters = {}
    for bits in range(4, 13):
        chip = OscillatorChip(circuit)
        chip.set_values({k: quantised(v, bits) for k, v in chip.parameters().items()})
        parameters[bits] = accuracy(chip, x, labels)
        print(f"{bits}-bit parameters: {parameters[bits]:.2%}", file=sys.stderr, flush=True)
    readout = {bits: accuracy(exact, x, labels, bits) for bits in range(2, 9)}
    print(f"exact: {reference:.2%} held out ({labels.size} digits)")
    print("parameter bits  " + "  ".join(f"{b:>6}" for b in parameters))
    print("accuracy        " + "  ".join(f"{a:>6.1%}" for a in parameters.values()))
    print("readout bits    " + "  ".join(f"{b:>6}" for b in readout))
    print("accuracy        " + "  ".join(f"{a:>6.1%}" for a in readout.values()))
    record = {"exact": reference, "parameter_bits": parameters, "phase_readout_bits": readout}
    print(json.dumps(record))


if __name__ == "__main__":
    main()
