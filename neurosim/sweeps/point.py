"""One point of a sweep, run anywhere: a pure function of the sweep, the point and its seed.

``inference``: the netlist's parameters programmed onto fresh devices (the point's
device, amplifier and programming settings, its seed), evaluated through the point's
converters (read noise seeded by its seed); classify on the held-out split of the
sweep's ``split_seed`` (the netlist's training seed: the same digits for every point,
none of them trained on). ``train``: the netlist trained
hardware-aware on those devices (the point's training settings, its seed; the split is
the run's), then evaluated on the chip the run ends with. What comes back is plain data
(metrics, status, reason, seconds), so any executor can carry it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from neurosim.devices.presets import TRUTH_WORDS
from neurosim.errors import NeurosimError
from neurosim.sweeps.config import SweepConfig
from neurosim.sweeps.grid import parse_value

OK, FAILED = 1, 2  # a repeat's status (0: not run yet)


@dataclass(frozen=True)
class Task:
    """Repeat ``repeat`` of point ``point`` (its ``values``), seeded by ``seed``."""

    point: int
    repeat: int
    seed: int
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What a task gave: ``metrics`` (name -> value), ``status`` (OK or FAILED), the
    ``reason`` of a failure and the wall ``seconds`` it took."""

    point: int
    repeat: int
    metrics: dict
    status: int
    reason: str
    seconds: float


_CIRCUITS: dict[str, object] = {}  # netlist path -> parsed circuit, per worker process


def run_task(record: dict, task: Task) -> Outcome:
    """Run ``task`` of the sweep ``record`` (:meth:`SweepConfig.record`); a failure
    (a bad setting, a chip that does not settle) is an Outcome, not an exception."""
    from threadpoolctl import threadpool_limits

    from neurosim.sweeps.config import from_record

    began = time.perf_counter()
    config = from_record(record)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            metrics = _measure(config, task)
    except (NeurosimError, ValueError) as exc:
        return Outcome(task.point, task.repeat, {}, FAILED, str(exc), time.perf_counter() - began)
    return Outcome(task.point, task.repeat, metrics, OK, "", time.perf_counter() - began)


def _measure(config: SweepConfig, task: Task) -> dict[str, float]:
    from neurosim.devices.presets import amplifiers, converters, device_model

    placed = config.point_settings(task.values)
    circuit = _circuit(config.netlist)
    model = device_model(config.device, placed["device"])
    if config.mode == "train":
        chip = _trained(config, circuit, placed, task.seed)
    else:
        from neurosim.host import chip_for
        from neurosim.host.deploy import deploy

        programming = placed["programming"]
        made = deploy(
            circuit,
            model,
            seconds=_seconds(programming.get("time")),
            seed=task.seed,
            compensate=_truth(programming.get("compensate", False)),
            amplifiers=amplifiers(placed["amplifiers"]),
        )
        chip = chip_for(made.circuit)
        readout, drive = converters(placed["converters"])
        if readout is not None:
            chip.set_readout(readout, task.seed)
        chip.set_drive(drive)
    return _evaluate(config, chip, task.seed)


def _trained(config: SweepConfig, circuit, placed: dict, seed: int):
    from neurosim.learn.run import run_training
    from neurosim.learn.settings import settings_class

    device_pairs = tuple(f"{k}={v}" for k, v in placed["device"].items())
    values = {k: _number(v) for k, v in {**placed["train"], **placed["converters"]}.items()}
    settings = settings_class(config.objective)(
        **values, device=config.device, device_settings=device_pairs, seed=seed
    )
    return run_training(circuit, settings, netlist=config.netlist).chip


def _evaluate(config: SweepConfig, chip, seed: int) -> dict[str, float]:
    if config.objective == "classify":
        from neurosim.learn.run import evaluate_classifier
        from neurosim.learn.settings import ClassifySettings

        split = seed if config.mode == "train" else config.split_seed
        scores = evaluate_classifier(chip, ClassifySettings(seed=split))
    else:
        from neurosim.learn.settings import FlowSettings
        from neurosim.samplers.quality import FlowQuality

        scores = FlowQuality(seed, FlowSettings().alpha)(chip, 0)  # training's readout scale
    return {k: float(v) for k, v in scores.items() if isinstance(v, int | float)}


def _circuit(path: str):
    if path not in _CIRCUITS:
        from neurosim.netlist.parse import parse_netlist

        _CIRCUITS[path] = parse_netlist(path)
    return _CIRCUITS[path]


def _seconds(value) -> float | None:
    if value is None:
        return None
    seconds = _number(value)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise NeurosimError(f"time must be a number of seconds >= 0, not {value!r}")
    return float(seconds)


def _truth(value) -> bool:
    truth = TRUTH_WORDS.get(str(value).strip().lower())
    if truth is None:
        raise NeurosimError(f"compensate must be true or false, not {value!r}")
    return truth


def _number(value):
    """A KEY=VALUE string as a number where it is one (truth words as truth values);
    other values unchanged."""
    return parse_value(value) if isinstance(value, str) else value
