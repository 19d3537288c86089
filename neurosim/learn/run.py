"""A training run: a circuit and its settings -> a trained chip, its history and files.

:func:`run_training` is what ``neurosim train`` and :func:`neurosim.train` do. The flow
objective trains a network with visible springs by GradEP, the classify objective a
network with an input and an output layer by EP; either trains the netlist's own
circuit (:class:`neurosim.host.Chip`): the devices the netlist marks trainable are
programmed, every other element keeps its value. Given an output directory ``out``, the
run holds its lock (:mod:`neurosim.io.run_lock`) and writes, each atomically:
``checkpoint.h5`` (by the loop, every ``checkpoint_every`` epochs), ``trained.cir`` (the
circuit as programmed), ``loss.png``, for classify ``metrics.json``, and with a quality
evaluator ``best.cir`` (the circuit whenever its score was the best so far) and
``quality.png``. Without ``out`` nothing is written. Progress goes to a callback; nothing
here prints.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from neurosim.circuit.ir import Circuit
from neurosim.errors import CircuitError, NeurosimError
from neurosim.host import Chip, ResistiveChip, chip_for
from neurosim.host.oscillator import NO_DEVICES
from neurosim.io.checkpoint_h5 import Checkpoint, read_checkpoint
from neurosim.learn.loop import CHECKPOINT
from neurosim.learn.settings import (
    ClassifySettings,
    FluxSettings,
    GradEPSettings,
    SettingsError,
    TrainingSettings,
    from_record,
)

TRAINED, BEST = "trained.cir", "best.cir"
LOSS_PLOT, QUALITY_PLOT, METRICS = "loss.png", "quality.png", "metrics.json"
RUN_FILES = (CHECKPOINT, TRAINED, BEST, LOSS_PLOT, QUALITY_PLOT, METRICS)
FLOAT32_TOLERANCE = 3e-6  # the engine's float32 default: float32 cannot resolve much less
CIRCUIT_KEY = "circuit_sha256"  # fingerprint of what training does not program
PREFETCH_ROWS = 256  # below this many rows the OT assignment is cheap: no worker process
READ_STREAM = 3  # the read noise of epoch e: generator [seed, e, 3]
# the scores quality tracking keeps the best circuit by: short label, name
QUALITY_LABELS = {"frechet": "FD", "energy": "energy distance"}
QUALITY_NAMES = {"frechet": "Fréchet distance", "energy": "energy distance to the data"}


@dataclass(frozen=True)
class Progress:
    """Where a run is: ``done`` of ``epochs`` epochs, started (or resumed) at ``first``,
    ``elapsed`` seconds since then, and the last epoch's ``metrics``."""

    done: int
    epochs: int
    first: int
    elapsed: float
    metrics: dict[str, float]

    @property
    def eta(self) -> float:
        """Seconds left at the pace so far (NaN before the first epoch)."""
        ran = self.done - self.first
        return self.elapsed / ran * (self.epochs - self.done) if ran else math.nan

    def describe(self) -> str:
        """A few words on the last epoch: its loss, and the quality when scored."""
        m = self.metrics
        if "stein" in m:
            text = f"Stein residual {m['stein']:.4g}, |f - s|² {m['score_mse']:.4g}"
        elif "mse" in m:
            text = f"flow MSE {m['mse']:.4f}"
        else:
            text = f"loss {m['loss']:.4f}, test {m['test_accuracy']:.1%}"
        for key, label in QUALITY_LABELS.items():
            if not math.isnan(m.get(key, math.nan)):
                text += f", {label} {m[key]:.3f}"
        return text


class Evaluator(Protocol):
    """Scores a chip as programmed after an epoch (e.g.
    :class:`neurosim.samplers.quality.FlowQuality`); the lowest ``key`` is the best."""

    keys: tuple[str, ...]
    key: str

    def __call__(self, chip: Chip, epoch: int) -> dict[str, float]: ...


@dataclass
class TrainResult:
    """What a run gives: the trained ``chip``, its ``settings``, the final
    ``checkpoint`` (history, parameters, devices), the ``best`` circuit by the
    evaluator's score (None without one) and the ``files`` written (name -> path)."""

    chip: Chip
    settings: TrainingSettings
    checkpoint: Checkpoint
    best: Circuit | None = None
    best_epoch: int | None = None
    best_score: float | None = None  # the evaluator's score of ``best`` (lower is better)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def circuit(self) -> Circuit:
        """The trained circuit: the netlist's circuit with its devices as programmed
        (:func:`trained_circuit`)."""
        return trained_circuit(self.chip, self.settings)

    @property
    def history(self) -> dict[str, list[float]]:
        """One value per epoch of each metric (and ``seconds``)."""
        return self.checkpoint.history

    @property
    def epochs(self) -> int:
        return self.checkpoint.epoch


def run_training(
    circuit: Circuit,
    settings: TrainingSettings,
    *,
    netlist: str = "<circuit>",
    out: Path | None = None,
    resume: bool = False,
    progress: Callable[[Progress], None] | None = None,
    evaluate: Evaluator | None = None,
    every: int = 0,
    notes: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train ``circuit`` with ``settings``; see the module docstring for ``out``.

    ``netlist`` names the circuit's file (stored in the checkpoint, and an output that is
    this file is refused). ``resume`` continues ``out/checkpoint.h5`` (a finished run
    then only writes its outputs). ``evaluate`` scores the chip every ``every`` epochs.
    ``notes`` is called with one line if the chip is settled otherwise than by the engine.
    """
    run = TrainingRun(circuit, settings, netlist)
    if notes is not None and run.chip.note is not None:
        notes(run.chip.note)
    if out is None:
        if resume:
            raise NeurosimError("resume needs the run's output directory (out)")
        return run.run(None, None, progress, evaluate, every)
    from neurosim.io.outputs import claim_outputs
    from neurosim.io.run_lock import run_lock

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NeurosimError(f"{out}: not a directory")
    inputs = [Path(netlist)] if Path(netlist).exists() else []
    claim_outputs([("--out", out / name) for name in RUN_FILES], inputs, force=True)
    with run_lock(out):
        if not resume and (out / CHECKPOINT).exists():
            raise NeurosimError(
                f"{out} already holds a training run ({CHECKPOINT}): resume it, or "
                "choose another output directory"
            )
        checkpoint = read_checkpoint(out / CHECKPOINT) if resume else None
        if checkpoint is not None:
            run.check_resumable(checkpoint)
        return run.run(out, checkpoint, progress, evaluate, every)


class TrainingRun:
    """One training run: the chip it trains (the netlist's circuit) and its settings."""

    def __init__(self, circuit: Circuit, settings: TrainingSettings, netlist: str) -> None:
        meta = circuit.network
        if meta is None:
            raise NeurosimError(f"{netlist}: training needs a neurosim network netlist")
        if meta.family != "crossbar" and not isinstance(settings, ClassifySettings):
            raise NeurosimError(
                f"{netlist}: a {meta.family} network trains with --objective classify"
            )
        if not meta.reciprocal and not isinstance(settings, FluxSettings):
            raise NeurosimError(
                f"{netlist}: a non-reciprocal network has no energy, so EP's and GradEP's "
                "local rules are not its gradient; train it with --objective flux (gradients "
                "by the adjoint)"
            )
        if isinstance(settings, GradEPSettings | FluxSettings):
            _check_flow_network(meta, netlist, nudge=isinstance(settings, GradEPSettings))
        elif isinstance(settings, ClassifySettings):
            _check_classifier(meta, netlist)
        else:
            raise NeurosimError(f"no training objective for {type(settings).__name__}")
        try:
            self.chip = _chip_on_devices(circuit, settings)
        except CircuitError as exc:
            raise NeurosimError(f"{netlist}: cannot train this circuit: {exc}") from None
        stray = self.chip.stray_trainable()
        if stray:
            raise NeurosimError(
                f"{netlist}: element {stray[0]} is marked trainable, but it is no device of "
                "the crossbar's arrays (it joins no row line to a column), so its local update "
                "is undefined; leave it out of the *@neurosim trainable patterns"
            )
        if not self.chip.trained:
            raise NeurosimError(f"{netlist}: no device is marked trainable (*@neurosim trainable)")
        self.settings = settings
        self.config = {"netlist": str(netlist), CIRCUIT_KEY: self.chip.fingerprint()}

    def check_resumable(self, checkpoint: Checkpoint) -> None:
        """Refuse to resume a checkpoint made with other settings, another circuit or
        network, more epochs than asked for, or a state that does not fit the chip."""
        try:
            saved = from_record(checkpoint.settings)
        except SettingsError as exc:
            raise NeurosimError(f"damaged checkpoint: {exc}") from None
        changed = self.settings.changed_from(saved)
        if changed:
            raise NeurosimError(f"resume with different settings: {', '.join(changed)}")
        fingerprint = checkpoint.config.get(CIRCUIT_KEY)
        if fingerprint is not None and fingerprint != self.config[CIRCUIT_KEY]:
            raise NeurosimError(
                "resume with a different circuit than the checkpoint's (an element that "
                "is not a trained device, or the trainable marks, changed)"
            )
        if checkpoint.meta.to_dict() != self.chip.meta.to_dict():
            raise NeurosimError("resume with a different network than the checkpoint's")
        if checkpoint.epoch > self.settings.epochs:
            raise NeurosimError(
                f"the checkpoint has {checkpoint.epoch} epochs, more than the "
                f"{self.settings.epochs} epochs asked for; ask for at least as many"
            )
        self._check_state(checkpoint)

    def run(
        self,
        out: Path | None,
        resume: Checkpoint | None,
        progress: Callable[[Progress], None] | None,
        evaluate: Evaluator | None,
        every: int,
    ) -> TrainResult:
        """Train (from ``resume`` if given), then write the outputs to ``out``."""
        from neurosim.learn.loop import train

        s = self.settings
        first = resume.epoch if resume else 0
        began = time.perf_counter()
        result = TrainResult(self.chip, s, resume)  # the checkpoint is set below

        def report(done: int, metrics: dict[str, float]) -> None:
            if progress is not None:
                elapsed = time.perf_counter() - began
                progress(Progress(done, s.epochs, first, elapsed, metrics))

        with ExitStack() as stack:
            objective = stack.enter_context(self._objective())
            if self.chip.readout is not None:
                objective = _ReadNoise(objective, s.seed)
            if evaluate is not None and every:
                objective = _Tracked(objective, evaluate, every, result, out, resume, self.circuit)
            result.checkpoint = train(
                objective,
                self.chip,
                self._optimizer(),
                settings=s.record(),
                config=self.config,
                epochs=s.epochs,
                seed=s.seed,
                checkpoint_every=s.checkpoint_every,
                out=out,
                resume=resume,
                progress=report,
                lr_schedule=s.lr_schedule,
            )
        if out is not None:
            result.files.update(self._write_outputs(result, out))
        return result

    def _write_outputs(self, result: TrainResult, out: Path) -> dict[str, Path]:
        """trained.cir (the chip's circuit as programmed), loss.png, and quality.png or
        metrics.json; the paths written, by name (checkpoint and best circuit included)."""
        from neurosim.netlist.write import write_netlist
        from neurosim.plot.curves import plot_history

        files = {CHECKPOINT: out / CHECKPOINT, TRAINED: out / TRAINED}
        write_netlist(self.circuit(), out / TRAINED)
        history = result.history
        if isinstance(self.settings, FluxSettings):
            plot_history(
                history, ["stein"], out / LOSS_PLOT, ylabel="Stein residual mean r² (batch)"
            )
            return {**files, LOSS_PLOT: out / LOSS_PLOT}
        if isinstance(self.settings, GradEPSettings):
            plot_history(history, ["mse"], out / LOSS_PLOT, ylabel="per-pixel velocity MSE")
            files[LOSS_PLOT] = out / LOSS_PLOT
            for key in QUALITY_LABELS:
                if any(not math.isnan(v) for v in history.get(key, [])):
                    plot_history(
                        history,
                        [key],
                        out / QUALITY_PLOT,
                        ylabel=f"{QUALITY_NAMES[key]} (500 samples)",
                        title="sample quality during training",
                    )
                    files[QUALITY_PLOT] = out / QUALITY_PLOT
            if (out / BEST).is_file():
                files[BEST] = out / BEST
            return files
        plot_history(
            history,
            ["loss", "train_accuracy", "test_accuracy"],
            out / LOSS_PLOT,
            ylabel="cost / accuracy",
        )
        _write_json(out / METRICS, classify_summary(result))
        return {**files, LOSS_PLOT: out / LOSS_PLOT, METRICS: out / METRICS}

    def circuit(self) -> Circuit:
        """The chip's circuit as programmed now (:func:`trained_circuit`)."""
        return trained_circuit(self.chip, self.settings)

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

    def _optimizer(self):
        from neurosim.learn.optim import SGD, Adam

        s = self.settings
        if s.optimizer == "sgd":
            return SGD(lr=s.lr, momentum=s.momentum)
        return Adam(lr=s.lr, beta1=s.beta1, beta2=s.beta2)

    def _objective(self):
        """The objective, as a context manager (the flow's OT worker must end)."""
        s = self.settings
        x, labels = _training_data(self.chip.meta, s)
        if isinstance(s, FluxSettings):
            from neurosim.learn.flux_objective import FluxObjective, FluxStep

            step = FluxStep.of(s, _visible(self.chip.meta))
            if step.annealed and not self.chip.noise_conditional:
                raise NeurosimError(
                    f"--sigma-max {s.sigma_max:g} trains a noise-conditional field: the "
                    "network needs a one-unit input layer named 'noise' (as "
                    "circuits/ring8_flux_annealed.toml)"
                )
            return nullcontext(FluxObjective(x, s.seed, step))
        if isinstance(s, GradEPSettings):
            from neurosim.learn.flow_objective import FlowObjective, FlowStep

            floor = FLOAT32_TOLERANCE if s.dtype == "float32" else 0.0
            step = FlowStep(
                alpha=s.alpha,
                beta=s.beta,
                clip=s.clip or None,
                tolerance=max(s.tol, floor),
                max_passes=s.max_passes,
                layer=_visible(self.chip.meta),
                dtype=s.dtype,
            )
            batches = s.batches(x, ahead=x.shape[0] >= PREFETCH_ROWS)
            return _Closing(FlowObjective(batches, step), batches)
        from neurosim.learn.classify_objective import ClassifyObjective, ClassifyStep

        step = ClassifyStep(
            beta=s.beta,
            batch_size=s.batch_size,
            clip=s.clip or None,
            tolerance=s.tol,
            max_passes=s.max_passes,
        )
        try:
            objective = ClassifyObjective(self.chip.meta, x, labels, step, s.test_fraction, s.seed)
        except ValueError as exc:
            raise NeurosimError(f"classify: {exc}") from None
        return nullcontext(objective)


def trained_circuit(chip: Chip, settings: TrainingSettings) -> Circuit:
    """``chip``'s circuit as programmed now; trained on a device model, with a
    ``programmed`` record saying which (its settings and the run's seed)."""
    circuit = chip.circuit()
    if settings.device == "ideal":
        return circuit
    from dataclasses import replace

    from neurosim.devices.presets import model_record

    record = {
        **model_record(settings.device_model()),
        "seed": settings.seed,
        "seconds": None,
        "trained": settings.objective,
    }
    return replace(circuit, programmed=(*circuit.programmed, record))


def _chip_on_devices(circuit: Circuit, settings: TrainingSettings) -> Chip:
    """The chip training programs: with ideal devices the netlist's circuit; otherwise
    its devices first programmed onto the device model (seeded by the run's seed), the
    host's targets the netlist's values, and every update written through the model
    (pulsed-update devices: set to the netlist's values, then updated by pulses). The
    host reads and sets sources through the settings' converters."""
    chip = _programmed_chip(circuit, settings)
    readout, drive = settings.converters()
    if readout is not None:
        chip.set_readout(readout, settings.seed)
    chip.set_drive(drive)
    return chip


def _programmed_chip(circuit: Circuit, settings: TrainingSettings) -> Chip:
    family = circuit.network.family
    if settings.device == "ideal":
        return chip_for(circuit)
    from neurosim.devices import PULSED

    if family == "oscillator":
        raise CircuitError(NO_DEVICES)
    if family == "resistive" and settings.device in PULSED:
        raise CircuitError(
            f"{settings.device} devices are modelled as the conductance pairs of a crossbar's "
            "weights; a resistive network's single resistors train on pcm or generic devices"
        )
    model = settings.device_model()
    if settings.device in PULSED:
        from neurosim.host.programming import PulsedProgrammer

        chip = Chip(circuit, PulsedProgrammer(model, settings.seed))
        chip.rewrite()
        return chip
    from neurosim.host.deploy import program_devices
    from neurosim.host.programming import DeviceProgrammer

    programmer = DeviceProgrammer(model, settings.seed)
    chip = (ResistiveChip if family == "resistive" else Chip)(circuit, programmer)
    program_devices(chip, model, seed=settings.seed)
    return chip


class _ReadNoise:
    """``objective`` with the chip's read noise drawn, each epoch, from a generator
    seeded by (seed, epoch): a resumed run reads what an uninterrupted one did."""

    def __init__(self, objective, seed: int) -> None:
        self.objective, self.seed = objective, seed

    def run_epoch(self, chip: Chip, optimizer, epoch: int) -> dict[str, float]:
        chip.set_readout(chip.readout, [self.seed, epoch, READ_STREAM])
        return self.objective.run_epoch(chip, optimizer, epoch)


class _Tracked:
    """``objective`` with the evaluator's scores every ``every`` epochs (NaN on the
    others, so they live in the history and survive a resume) and the best circuit
    kept in ``result`` (and written to ``out/best.cir``) whenever the score is the
    lowest so far."""

    def __init__(
        self, objective, evaluate: Evaluator, every: int, result, out, resume, circuit
    ) -> None:
        self.objective, self.evaluate, self.every = objective, evaluate, every
        self.result, self.out, self.circuit = result, out, circuit
        scores = (resume.history if resume else {}).get(evaluate.key, [])
        best = min(((v, e) for e, v in enumerate(scores) if not math.isnan(v)), default=None)
        self.best = math.inf if best is None else best[0]
        if best is not None and out is not None and (out / BEST).is_file():
            from neurosim.netlist.parse import parse_netlist

            result.best = parse_netlist(out / BEST)
            result.best_score, result.best_epoch = best[0], best[1] + 1

    def run_epoch(self, chip: Chip, optimizer, epoch: int) -> dict[str, float]:
        metrics = self.objective.run_epoch(chip, optimizer, epoch)
        scores = dict.fromkeys((*self.evaluate.keys, "eval_seconds"), math.nan)
        if (epoch + 1) % self.every == 0:
            began = time.perf_counter()
            scores = self.evaluate(chip, epoch)
            scores["eval_seconds"] = time.perf_counter() - began
            if scores[self.evaluate.key] < self.best:
                self.best = scores[self.evaluate.key]
                self.result.best, self.result.best_epoch = self.circuit(), epoch + 1
                self.result.best_score = self.best
                if self.out is not None:
                    from neurosim.netlist.write import write_netlist

                    write_netlist(self.result.best, self.out / BEST)
        return {**metrics, **scores}


class _Closing:
    """Context manager yielding ``value`` and closing ``resource`` on exit."""

    def __init__(self, value, resource) -> None:
        self.value, self.resource = value, resource

    def __enter__(self):
        return self.value

    def __exit__(self, *exc) -> None:
        self.resource.close()


def classify_summary(result: TrainResult) -> dict:
    """What metrics.json holds of a classify run."""
    history = result.history
    return {
        "objective": "classify",
        "epochs": result.epochs,
        "test_accuracy": history["test_accuracy"][-1],
        "train_accuracy": history["train_accuracy"][-1],
        "best_test_accuracy": max(history["test_accuracy"]),
    }


def _training_data(meta, settings: TrainingSettings) -> tuple[np.ndarray, np.ndarray | None]:
    """The dataset of ``settings`` (its first ``limit`` rows), checked against the
    network: flow — one visible layer as wide as the data; classify — an input layer as
    wide as the data and an output unit per label."""
    from neurosim.data.datasets import load_dataset

    data = load_dataset(settings.data)
    x, labels = data.x, data.labels
    if settings.limit:
        x = x[: settings.limit]
        labels = None if labels is None else labels[: settings.limit]
    if isinstance(settings, GradEPSettings | FluxSettings):
        width = meta.layer(_visible(meta)).size
        if width != data.dim:
            raise NeurosimError(
                f"--data {settings.data}: {data.dim}-dimensional data for a visible layer "
                f"of {width} units"
            )
        return x, labels
    width = sum(layer.size for layer in meta.layers if layer.kind == "input")
    outputs = sum(layer.size for layer in meta.layers if layer.kind == "output")
    if width != data.dim:
        raise NeurosimError(
            f"--data {settings.data}: {data.dim}-dimensional data for {width} input units"
        )
    if labels is None:
        raise NeurosimError(f"--data {settings.data}: classify needs labels")
    if labels.max() >= outputs:
        raise NeurosimError(
            f"--data {settings.data}: label {labels.max()} for {outputs} output units"
        )
    return x, labels


def _visible(meta) -> str:
    return next(layer.name for layer in meta.layers if layer.kind == "visible")


def _check_flow_network(meta, netlist: str, nudge: bool = True) -> None:
    visible = [layer for layer in meta.layers if layer.kind == "visible"]
    if meta.spring_lambda <= 0 or not visible:
        raise NeurosimError(f"{netlist}: flow training needs a network netlist with springs")
    if len(visible) != 1:
        raise NeurosimError(f"{netlist}: flow training needs exactly one visible layer")
    if nudge and not meta.nudge:
        raise NeurosimError(f"{netlist}: flow training needs nudge elements on the visible layer")


def _check_classifier(meta, netlist: str) -> None:
    kinds = {layer.kind: layer for layer in meta.layers}
    if "input" not in kinds or "output" not in kinds:
        raise NeurosimError(f"{netlist}: classify needs a network with input and output layers")
    if not meta.nudge:
        raise NeurosimError(f"{netlist}: classify needs nudge elements on the output layer")


def _write_json(path: Path, data: dict) -> None:
    from neurosim.io.atomic import write_text_atomic

    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def evaluate_classifier(chip: Chip, settings: ClassifySettings | None = None) -> dict[str, float]:
    """Held-out ``accuracy`` (argmax of the free phase's outputs), ``loss``, ``passes``
    and ``unsettled`` of ``chip`` as it is, on the split training uses for ``settings``
    (its seed, test_fraction, data and limit; default: the defaults)."""
    from neurosim.learn.classify_objective import ClassifyObjective, ClassifyStep

    s = settings or ClassifySettings()
    _check_classifier(chip.meta, "the chip")
    x, labels = _training_data(chip.meta, s)
    step = ClassifyStep(beta=s.beta, tolerance=s.tol, max_passes=s.max_passes)
    try:
        objective = ClassifyObjective(chip.meta, x, labels, step, s.test_fraction, s.seed)
    except ValueError as exc:
        raise NeurosimError(f"classify: {exc}") from None
    with threadpool_limits(limits=1, user_api="blas"):
        return objective.evaluate(chip, objective.split.test)
