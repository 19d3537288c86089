"""EP classification (DESIGN §4.1, §4.3): squared error on one-hot output targets.

A step, as a host beside the hardware does it: clamp the input sources to a
mini-batch of images, let the chip settle from 0 V (as ngspice starts), read the
output units, settle the ±β phases nudged toward the one-hot targets from there, form
each device's local update, clip, step the optimiser and program the devices with it.
A free phase that does not settle within the pass budget is left out of the step and
counted; more than ``MAX_UNSETTLED`` of a batch stops training with the solver's error.

Targets are ``TARGET_ON`` (the label's unit) and ``TARGET_OFF`` (the others) in model
units of the output units' state; the cost is the nudge element's energy per unit
conductance, ½‖s_out − t‖² per image (Scellier–Bengio law). A prediction is the argmax
of the free-phase output states. Measured on the digits (ρ outputs, 30 epochs, 3
seeds): 1/0 gives 98.5% held out; 0.5/0 97.9%; 1/−0.2 98.5%; 2/0 and 1/−1 stop
training with free phases that do not settle (outputs pulled into ρ's flat dip).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurosim.circuit.meta import NetworkMeta
from neurosim.host import Chip, Equilibrium, Sources, check_unsettled
from neurosim.learn.estimators import ep_estimate
from neurosim.learn.loop import epoch_rng
from neurosim.learn.optim import clip_by_global_norm

TARGET_ON, TARGET_OFF = 1.0, 0.0  # one-hot targets, model units (0.1 V each on digits)
OUTPUT_LEAK = 1.0  # an output node's leak conductance, g_unit: the bound on β
SPLIT_STREAM = 0x5B17  # spawn key of the split's generator: apart from every epoch's draws


@dataclass(frozen=True)
class ClassifyStep:
    """EP settings. ``beta``: nudge of the symmetric ±β phases (model units of
    conductance); ``batch_size``: images per step; ``clip``: global gradient-norm
    bound (None: off); ``tolerance``: relaxation residual (model units);
    ``max_passes``: per phase and sample."""

    beta: float = 0.25
    batch_size: int = 32
    clip: float | None = None
    tolerance: float = 1e-6
    max_passes: int = 5000


@dataclass(frozen=True)
class Split:
    """Row indices (sorted) of the training and held-out images."""

    train: np.ndarray
    test: np.ndarray


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> Split:
    """Hold out ``round(test_fraction · n_c)`` images of each class ``c``, drawn by ``seed``."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), not {test_fraction!r}")
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(SPLIT_STREAM,)))
    test = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        test.append(rng.permutation(members)[: round(test_fraction * members.size)])
    held = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(labels.size), held)
    if held.size == 0 or train.size == 0:
        raise ValueError(
            f"test_fraction {test_fraction} of {labels.size} images leaves an empty "
            "training or held-out set"
        )
    return Split(train, held)


class ClassifyObjective:
    """EP on mini-batches of ``x`` (n, input width) with integer ``labels`` (n,).

    The network needs one input and one output layer (nudge elements on). The held-out
    share ``test_fraction`` is split off per class with ``seed`` (never by epoch);
    epoch ``e`` shuffles the training set with :func:`epoch_rng` ``(seed, e)``.
    """

    def __init__(
        self,
        meta: NetworkMeta,
        x: np.ndarray,
        labels: np.ndarray,
        settings: ClassifyStep,
        test_fraction: float,
        seed: int,
    ) -> None:
        self.meta, self.settings, self.seed = meta, settings, int(seed)
        self.input, self.output = _layers(meta)
        self.x, self.labels = _check_data(meta, self.input, self.output, x, labels)
        if not (isinstance(settings.batch_size, int) and settings.batch_size >= 1):
            raise ValueError(f"batch_size must be a positive integer, not {settings.batch_size}")
        if not 0.0 < settings.beta < OUTPUT_LEAK:
            raise ValueError(
                f"beta must be in (0, {OUTPUT_LEAK:g}), not {settings.beta!r}: the −β phase "
                "subtracts β from each output node's leak conductance (1 g_unit)"
            )
        self.split = stratified_split(self.labels, test_fraction, seed)
        size = meta.layer(self.output).size
        self.targets = np.full((self.labels.size, size), TARGET_OFF)
        self.targets[np.arange(self.labels.size), self.labels] = TARGET_ON

    def run_epoch(self, chip: Chip, optimizer, epoch: int) -> dict[str, float]:
        """One pass over the shuffled training set in mini-batches, programming ``chip``
        after each; then the held-out accuracy of the programmed chip.

        Metrics: ``loss`` (mean of ½‖s_out − t‖² over the epoch's settled free phases),
        ``train_accuracy`` (of those free phases, each before its step), ``test_accuracy``,
        ``grad_norm`` (mean pre-clip norm), ``passes`` (every phase of the epoch, the
        held-out evaluation included; per batch the most any sample used),
        ``unsettled`` (free phases left out), ``test_unsettled``.
        """
        order = self.split.train[epoch_rng(self.seed, epoch).permutation(self.split.train.size)]
        size = self.settings.batch_size
        cost = correct = seen = passes = unsettled = 0
        norms = []
        for start in range(0, order.size, size):
            report = self._step(chip, optimizer, order[start : start + size])
            cost += report["cost"]
            correct += report["correct"]
            seen += report["settled"]
            passes += report["passes"]
            unsettled += report["unsettled"]
            norms.append(report["grad_norm"])
        test = self.evaluate(chip, self.split.test)
        return {
            "loss": float(cost / seen),
            "train_accuracy": float(correct / seen),
            "test_accuracy": test["accuracy"],
            "grad_norm": float(np.mean(norms)),
            "passes": float(passes + test["passes"]),
            "unsettled": float(unsettled),
            "test_unsettled": test["unsettled"],
        }

    def evaluate(self, chip: Chip, rows: np.ndarray) -> dict[str, float]:
        """Free phases of images ``rows`` on ``chip``: ``accuracy`` (argmax of the
        output units as the host reads them, :meth:`Chip.read`), ``loss`` (mean
        ½‖s_out − t‖²), ``passes``, ``unsettled``."""
        free = self._free_phase(chip, rows)
        out = chip.read(free.state, self.output)
        return {
            "accuracy": float(np.mean(np.argmax(out, axis=1) == self.labels[rows])),
            "loss": float(np.mean(_cost(out, self.targets[rows]))),
            "passes": float(free.total_passes),
            "unsettled": float(np.sum(~free.converged)),
        }

    def _sources(self, chip: Chip, rows: np.ndarray) -> Sources:
        sources = chip.sources(rows.size)
        sources.inputs[:, chip.input_slices()[self.input]] = self.x[rows]
        return sources

    def _free_phase(self, chip: Chip, rows: np.ndarray) -> Equilibrium:
        s = self.settings
        sources = self._sources(chip, rows)
        return chip.settle(sources, tolerance=s.tolerance, max_passes=s.max_passes)

    def _step(self, chip: Chip, optimizer, rows: np.ndarray) -> dict:
        """One EP step on images ``rows``; the batch's sums for the epoch's metrics."""
        s = self.settings
        free = self._free_phase(chip, rows)
        settled = np.flatnonzero(free.converged)
        check_unsettled(rows.size - settled.size, rows.size, "free", free)
        kept = rows[settled]
        out = chip.outputs(free.state[settled], self.output)
        estimate = ep_estimate(
            chip,
            self._sources(chip, kept),
            free.state[settled],
            self.output,
            self.targets[kept],
            s.beta,
            tolerance=s.tolerance,
            max_passes=s.max_passes,
        )
        left_out = rows.size - int(estimate.settled.sum())
        check_unsettled(left_out, rows.size, "nudged", estimate.plus, estimate.minus)
        grads, norm = clip_by_global_norm(estimate.gradients, s.clip)
        chip.program(optimizer.step(grads))
        return {
            "cost": float(np.sum(_cost(out, self.targets[kept]))),
            "correct": int(np.sum(np.argmax(out, axis=1) == self.labels[kept])),
            "settled": int(settled.size),
            "passes": free.total_passes + estimate.plus.total_passes + estimate.minus.total_passes,
            "unsettled": left_out,
            "grad_norm": norm,
        }


def _cost(out: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """½‖s_out − t‖² per row of ``out`` (batch, outputs)."""
    return 0.5 * np.sum((out - targets) ** 2, axis=1)


def _layers(meta: NetworkMeta) -> tuple[str, str]:
    """The names of the network's one input and one output layer."""
    found = {}
    for kind in ("input", "output"):
        names = [layer.name for layer in meta.layers if layer.kind == kind]
        if len(names) != 1:
            raise ValueError(f"classify needs exactly one {kind} layer, the network has {names}")
        found[kind] = names[0]
    if not meta.nudge:
        raise ValueError("classify needs nudge elements on the output layer (nudge = true)")
    return found["input"], found["output"]


def _check_data(meta, input_layer: str, output_layer: str, x, labels):
    """``x`` as float64 (n, input size) and ``labels`` as int64 (n,) in 0..outputs−1."""
    width, classes = meta.layer(input_layer).size, meta.layer(output_layer).size
    x = np.asarray(x, dtype=np.float64)
    labels = np.asarray(labels)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"x has shape {x.shape}, expected (n, {width})")
    if not np.all(np.isfinite(x)):
        raise ValueError("x holds NaN or inf")
    if labels.shape != (x.shape[0],):
        raise ValueError(f"labels have shape {labels.shape}, expected ({x.shape[0]},)")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, not {labels.dtype}")
    if np.any(labels < 0) or np.any(labels >= classes):
        raise ValueError(f"labels must be in 0..{classes - 1} (one per output unit)")
    return x, labels.astype(np.int64)
