"""The hardware host against the ideal-copy training it replaced, side by side.

Both run the same objectives (``FlowObjective``, ``ClassifyObjective``) with the shipped
defaults on the shipped netlists, from the same devices and on the same batches, epoch
by epoch in turn in one process (this machine is shared and noisy):

- host: :class:`neurosim.host.Chip` — the netlist's circuit, programmed device by device,
  its engine arrays refreshed from the device state after every update;
- ideal copy: ``bench/ideal_copy.py`` — parameters in host memory, the ideal crossbar
  rebuilt from them after every update (what ``train`` did before the host).

Reported per objective: median seconds per epoch of each and their ratio, and the
largest relative difference between the two runs' gradients at any step (flow: every
epoch is one step; classify: every mini-batch), and between their parameters at the end.
The chip starts from the netlist's devices programmed to the compiler's encoding of their
values (``Chip.set_values``), as the ideal copy builds them: read from the netlist, a
device is 1/R of the written resistance, which can differ from that encoding in the last
bit, and a last-bit difference grows over the steps of a training run.

Run: .venv/bin/python bench/host_bench.py [--flow-epochs 30] [--classify-epochs 6]
Progress goes to stderr; stdout gets a summary and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from ideal_copy import IdealCopy
from threadpoolctl import threadpool_limits

from neurosim.data.digits import load_digits
from neurosim.host import Chip
from neurosim.learn.classify_objective import ClassifyObjective, ClassifyStep
from neurosim.learn.flow import FlowBatches
from neurosim.learn.flow_objective import FlowObjective, FlowStep
from neurosim.learn.optim import Adam
from neurosim.netlist.parse import parse_netlist

ROOT = Path(__file__).resolve().parents[1]


class Recording(Adam):
    """Adam that keeps every step's gradients (flattened)."""

    def __init__(self) -> None:
        super().__init__(lr=1e-3, beta1=0.9, beta2=0.95)
        self.seen: list[np.ndarray] = []

    def step(self, grads):
        self.seen.append(np.concatenate([grads[k].ravel() for k in sorted(grads)]))
        return super().step(grads)


class SameBatch:
    """The flow batches, each epoch's computed once and handed to both runs."""

    def __init__(self, batches: FlowBatches) -> None:
        self.batches, self.last = batches, None

    def get(self, epoch: int):
        if self.last is None or self.last[0] != epoch:
            self.last = (epoch, self.batches.get(epoch))
        return self.last[1]


def side_by_side(name: str, netlist: Path, objective, epochs: int) -> dict:
    chip = Chip(parse_netlist(netlist))
    start = chip.parameters()
    chip.set_values(start)
    copy = IdealCopy(chip.meta, start)
    runs = {"host": (chip, Recording(), []), "ideal_copy": (copy, Recording(), [])}
    for epoch in range(epochs):
        if isinstance(getattr(objective, "batches", None), SameBatch):
            objective.batches.get(epoch)  # the OT worker's wait is neither run's time
        order = ("host", "ideal_copy") if epoch % 2 == 0 else ("ideal_copy", "host")
        for key in order:
            model, optimizer, seconds = runs[key]
            began = time.perf_counter()
            objective.run_epoch(model, optimizer, epoch)
            seconds.append(time.perf_counter() - began)
        print(
            f"  {name} epoch {epoch}: host {runs['host'][2][-1]:.3f} s, "
            f"ideal copy {runs['ideal_copy'][2][-1]:.3f} s",
            file=sys.stderr,
            flush=True,
        )
    host, ideal = runs["host"][1].seen, runs["ideal_copy"][1].seen
    gradient_error = max(
        float(np.linalg.norm(a - b) / np.linalg.norm(b)) for a, b in zip(host, ideal, strict=True)
    )
    parameters = max(
        float(np.max(np.abs(chip.parameters()[k] - copy.params[k]))) for k in copy.params
    )
    host_s, ideal_s = np.median(runs["host"][2]), np.median(runs["ideal_copy"][2])
    return {
        "epochs": epochs,
        "steps": len(host),
        "host_s_per_epoch_median": round(float(host_s), 4),
        "ideal_copy_s_per_epoch_median": round(float(ideal_s), 4),
        "host_over_ideal_copy": round(float(host_s / ideal_s), 3),
        "gradient_max_relative_difference": gradient_error,
        "parameters_max_abs_difference": parameters,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flow-epochs", type=int, default=30)
    parser.add_argument("--classify-epochs", type=int, default=6)
    args = parser.parse_args()
    x, labels = load_digits()
    figures = {}
    # batches made in line, before each epoch's timed runs: the OT worker of `train` would
    # compete for a core with whichever run came first
    with threadpool_limits(limits=1, user_api="blas"), FlowBatches(x, 0) as batches:
        flow = FlowObjective(SameBatch(batches), FlowStep())
        figures["flow"] = side_by_side(
            "flow", ROOT / "netlists/digits_flow.cir", flow, args.flow_epochs
        )
    with threadpool_limits(limits=1, user_api="blas"):
        classify = ClassifyObjective(
            parse_netlist(ROOT / "netlists/digits_classify.cir").network,
            x,
            labels,
            ClassifyStep(),
            0.2,
            0,
        )
        figures["classify"] = side_by_side(
            "classify",
            ROOT / "netlists/digits_classify.cir",
            classify,
            args.classify_epochs,
        )
    for name, f in figures.items():
        print(
            f"{name}: host {f['host_s_per_epoch_median']} s/epoch, ideal copy "
            f"{f['ideal_copy_s_per_epoch_median']} s/epoch (ratio {f['host_over_ideal_copy']}); "
            f"gradients within {f['gradient_max_relative_difference']:.1e} relative over "
            f"{f['steps']} steps, parameters within {f['parameters_max_abs_difference']:.1e}"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
