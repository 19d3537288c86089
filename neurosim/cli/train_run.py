"""What ``neurosim train`` runs: options -> objective and optimiser -> loop -> outputs.

The flow objective trains a network with visible springs by GradEP; the classify
objective trains a network with an input and an output layer by EP. Either trains the
netlist's own circuit (:class:`neurosim.host.Chip`): the devices the netlist marks
trainable are programmed, every other element keeps its value. Outputs, each written
atomically: RUN_DIR/checkpoint.h5 (by the loop), trained.cir (the circuit as
programmed), loss.png and, for classify, metrics.json.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim.circuit.ir import Circuit
from neurosim.errors import CircuitError, NeurosimError
from neurosim.host import Chip
from neurosim.io.checkpoint_h5 import Checkpoint

DEFAULT_BETA = {"flow": 1.25e-3, "classify": 0.25}
DEFAULT_EPOCHS = {"flow": 2000, "classify": 30}
# settings that may change on --resume (they do not change what an epoch computes)
RESUMABLE_CHANGES = ("epochs", "checkpoint_every", "netlist")
FLOAT32_TOLERANCE = 3e-6  # the engine's float32 default: float32 cannot resolve much less
CIRCUIT_KEY = "circuit_sha256"  # fingerprint of what training does not program
RUN_FILES = ("checkpoint.h5", "trained.cir", "best.cir", "loss.png", "quality.png", "metrics.json")
PREFETCH_ROWS = 256  # below this many rows the OT assignment is cheap: no worker process


@dataclass
class TrainRun:
    """One training run: the chip it trains (the netlist's circuit) and its config."""

    chip: Chip
    config: dict

    @classmethod
    def from_options(cls, circuit: Circuit, netlist: Path, options: dict) -> TrainRun:
        """Validate ``circuit`` for ``options["objective"]`` and build the config."""
        meta = circuit.network
        objective = options["objective"]
        if meta is None or meta.family != "crossbar":
            raise NeurosimError(f"{netlist}: training needs a neurosim crossbar network netlist")
        if objective == "flow":
            _check_flow_network(meta, netlist)
        if objective == "classify":
            _check_classifier(meta, netlist)
        config = dict(options)
        config["beta"] = options["beta"] or DEFAULT_BETA[objective]
        config["epochs"] = options["epochs"] or DEFAULT_EPOCHS[objective]
        if objective == "classify" and config["beta"] >= 1.0:
            raise NeurosimError(
                f"--beta {config['beta']:g}: classify needs β < 1 (the −β phase takes β "
                "from each output node's leak conductance of 1 g_unit)"
            )
        config["netlist"] = str(netlist)
        try:
            chip = Chip(circuit)
        except CircuitError as exc:
            raise NeurosimError(f"{netlist}: cannot train this circuit: {exc}") from None
        if not chip.trained:
            raise NeurosimError(f"{netlist}: no device is marked trainable (*@neurosim trainable)")
        config[CIRCUIT_KEY] = chip.fingerprint()
        return cls(chip, config)

    def check_resumable(self, checkpoint: Checkpoint) -> None:
        """Refuse to resume a checkpoint made with other settings (or another network)."""
        saved = {k: v for k, v in checkpoint.config.items() if k not in RESUMABLE_CHANGES}
        given = {k: v for k, v in self.config.items() if k not in RESUMABLE_CHANGES}
        if CIRCUIT_KEY not in saved:  # written before the host: no fingerprint to compare
            given.pop(CIRCUIT_KEY)
        elif saved[CIRCUIT_KEY] != given[CIRCUIT_KEY]:
            raise NeurosimError(
                "--resume with a different circuit than the checkpoint's (an element that "
                "is not a trained device, or the trainable marks, changed)"
            )
        if saved != given:
            changed = sorted(k for k in given.keys() | saved.keys() if saved.get(k) != given.get(k))
            raise NeurosimError(f"--resume with different settings: {', '.join(changed)}")
        if checkpoint.meta.to_dict() != self.chip.meta.to_dict():
            raise NeurosimError("--resume with a different network than the checkpoint's")
        if checkpoint.epoch > self.config["epochs"]:
            raise NeurosimError(
                f"the checkpoint has {checkpoint.epoch} epochs, more than --epochs "
                f"{self.config['epochs']}; ask for at least as many"
            )
        self._check_state(checkpoint)

    def _check_state(self, checkpoint: Checkpoint) -> None:
        """Refuse a checkpoint whose devices or optimiser state do not fit this chip."""
        if checkpoint.devices:
            ours = self.chip.device_state()
            for key in ours.keys() | checkpoint.devices.keys():
                if key not in checkpoint.devices or key not in ours:
                    raise NeurosimError(
                        f"damaged checkpoint: devices/{key} "
                        f"{'is missing' if key in ours else 'is not a device of this circuit'}"
                    )
                if np.shape(checkpoint.devices[key]) != ours[key].shape:
                    raise NeurosimError(
                        f"damaged checkpoint: devices/{key} has shape "
                        f"{np.shape(checkpoint.devices[key])}, expected {ours[key].shape}"
                    )
        params = self.chip.parameters()
        shapes = {name: params[name].shape for name in self.chip.trained}
        try:
            self._optimizer().check_state(checkpoint.optimizer, shapes)
        except ValueError as exc:
            raise NeurosimError(f"damaged checkpoint: {exc}") from None

    def train(
        self,
        run_dir: Path,
        *,
        resume: Checkpoint | None = None,
        progress: Callable[[int, dict[str, float]], None] | None = None,
    ) -> Checkpoint:
        """Run the loop; returns the final checkpoint (also written to RUN_DIR)."""
        from neurosim.learn.loop import train

        c = self.config
        with self._objective(run_dir, resume) as objective:
            return train(
                objective,
                self.chip,
                self._optimizer(),
                c,
                run_dir,
                epochs=c["epochs"],
                seed=c["seed"],
                checkpoint_every=c["checkpoint_every"],
                resume=resume,
                progress=progress,
            )

    def describe(self, metrics: dict[str, float]) -> str:
        """A few words on the last epoch, for the progress bar."""
        if self.config["objective"] == "flow":
            return f"flow MSE {metrics['mse']:.4f}"
        return f"loss {metrics['loss']:.4f}, test {metrics['test_accuracy']:.1%}"

    def finish(self, done: Checkpoint, run_dir: Path) -> str:
        """Write trained.cir (the chip's circuit as programmed), loss.png (and
        metrics.json); return a summary line."""
        from neurosim.netlist.write import write_netlist
        from neurosim.plot.curves import plot_history

        write_netlist(self.chip.circuit(), run_dir / "trained.cir")
        history = done.history
        if self.config["objective"] == "flow":
            plot_history(history, ["mse"], run_dir / "loss.png", ylabel="per-pixel flow MSE")
            line = f"{run_dir}: {done.epoch} epochs, flow MSE {history['mse'][-1]:.4f}"
            scores = [(v, e + 1) for e, v in enumerate(history.get("frechet", [])) if v == v]
            if scores:
                plot_history(
                    history,
                    ["frechet"],
                    run_dir / "quality.png",
                    ylabel="Fréchet distance (500 samples)",
                    title="sample quality during training",
                )
                best, epoch = min(scores)
                line += f"; best samples at epoch {epoch} (FD {best:.3f}): {run_dir / 'best.cir'}"
            return line
        plot_history(
            history,
            ["loss", "train_accuracy", "test_accuracy"],
            run_dir / "loss.png",
            ylabel="cost / accuracy",
        )
        metrics = {
            "objective": "classify",
            "epochs": done.epoch,
            "test_accuracy": history["test_accuracy"][-1],
            "train_accuracy": history["train_accuracy"][-1],
            "best_test_accuracy": max(history["test_accuracy"]),
        }
        _write_json(run_dir / "metrics.json", metrics)
        return f"{run_dir}: {done.epoch} epochs, test accuracy {metrics['test_accuracy']:.2%}"

    def _optimizer(self):
        from neurosim.learn.optim import SGD, Adam

        c = self.config
        if c["optimizer"] == "sgd":
            return SGD(lr=c["lr"], momentum=c["momentum"])
        return Adam(lr=c["lr"], beta1=c["beta1"], beta2=c["beta2"])

    def _objective(self, run_dir: Path, resume: Checkpoint | None):
        """The objective, as a context manager (the flow's OT worker must end)."""
        from contextlib import nullcontext

        from neurosim.data.digits import load_digits

        c = self.config
        meta = self.chip.meta
        x, labels = load_digits()
        if c["limit"]:
            x, labels = x[: c["limit"]], labels[: c["limit"]]
        if c["objective"] == "flow":
            from neurosim.learn.flow import FlowBatches
            from neurosim.learn.flow_objective import FlowObjective, FlowSettings

            floor = FLOAT32_TOLERANCE if c["dtype"] == "float32" else 0.0
            settings = FlowSettings(
                alpha=c["alpha"],
                beta=c["beta"],
                clip=c["clip"] or None,
                tolerance=max(c["tol"], floor),
                max_passes=c["max_passes"],
                layer=_visible(meta),
                dtype=c["dtype"],
            )
            batches = FlowBatches(x, c["seed"], ahead=x.shape[0] >= PREFETCH_ROWS)
            objective = FlowObjective(batches, settings)
            if c["eval_every"]:
                from neurosim.cli.quality_tracking import QualityTracked, best_in

                objective = QualityTracked(
                    objective,
                    every=c["eval_every"],
                    seed=c["seed"],
                    alpha=c["alpha"],
                    run_dir=run_dir,
                    title=None,
                    best_so_far=best_in(resume.history) if resume else math.inf,
                )
            return _Closing(objective, batches)
        from neurosim.learn.classify_objective import ClassifyObjective, ClassifySettings

        settings = ClassifySettings(
            beta=c["beta"],
            batch_size=c["batch_size"],
            clip=c["clip"] or None,
            tolerance=c["tol"],
            max_passes=c["max_passes"],
        )
        try:
            objective = ClassifyObjective(meta, x, labels, settings, c["test_fraction"], c["seed"])
        except ValueError as exc:
            raise NeurosimError(f"classify: {exc}") from None
        return nullcontext(objective)


class _Closing:
    """Context manager yielding ``value`` and closing ``resource`` on exit."""

    def __init__(self, value, resource) -> None:
        self.value, self.resource = value, resource

    def __enter__(self):
        return self.value

    def __exit__(self, *exc) -> None:
        self.resource.close()


def _visible(meta) -> str:
    return next(layer.name for layer in meta.layers if layer.kind == "visible")


def _check_flow_network(meta, netlist: Path) -> None:
    visible = [layer for layer in meta.layers if layer.kind == "visible"]
    if meta.spring_lambda <= 0 or not visible:
        raise NeurosimError(f"{netlist}: flow training needs a network netlist with springs")
    if len(visible) != 1 or visible[0].size != 64:
        raise NeurosimError(f"{netlist}: flow on digits needs one visible layer of 64 units")
    if not meta.nudge:
        raise NeurosimError(f"{netlist}: flow training needs nudge elements on the visible layer")


def _check_classifier(meta, netlist: Path) -> None:
    kinds = {layer.kind: layer for layer in meta.layers}
    if "input" not in kinds or "output" not in kinds:
        raise NeurosimError(f"{netlist}: classify needs a network with input and output layers")
    if sum(layer.size for layer in meta.layers if layer.kind == "input") != 64:
        raise NeurosimError(f"{netlist}: classify on digits needs 64 input units")
    if sum(layer.size for layer in meta.layers if layer.kind == "output") != 10:
        raise NeurosimError(f"{netlist}: classify on digits needs 10 output units")
    if not meta.nudge:
        raise NeurosimError(f"{netlist}: classify needs nudge elements on the output layer")


def _write_json(path: Path, data: dict) -> None:
    from neurosim.io.atomic import write_text_atomic

    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
