"""neurosim as a library: what the CLI does, as functions (``import neurosim``).

Every function here takes Python objects (circuits, arrays, settings objects) and
returns results; none prints, and none writes a file unless given a path to write.
The CLI (:mod:`neurosim.cli`) parses flags, calls these and prints. Settings objects
(:class:`FlowSettings`, :class:`ClassifySettings`, :class:`EulerSampling`) are frozen
dataclasses validated at construction.

    import neurosim
    run = neurosim.train("netlists/digits_flow.cir", "flow",
                         settings=neurosim.FlowSettings(epochs=20, eval_every=0))
    samples = neurosim.sample(run, neurosim.EulerSampling(n=100, dt=0.05))
    print(neurosim.metrics(samples.samples).samples["frechet_distance"])
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from neurosim.circuit.ir import Circuit
from neurosim.errors import NeurosimError
from neurosim.host import Chip, OscillatorChip, ResistiveChip, chip_for
from neurosim.io.samples_h5 import Samples
from neurosim.learn.run import BEST, TRAINED, Progress, TrainResult, run_training
from neurosim.learn.settings import GradEPSettings, TrainingSettings, settings_class
from neurosim.memory import require
from neurosim.samplers.settings import AnalogSampling, EulerSampling, LangevinSampling, Sampling
from neurosim.scores.quality import QualityReport

PathLike = str | os.PathLike
SAMPLING_ARRAYS = 32  # arrays of (n, free) float64 a flow sampler holds at most (estimate)
REFERENCE_ALPHA = 2.0  # FlowEqProp's output scale, when neither settings nor a run say


def load_netlist(path: PathLike) -> Circuit:
    """The circuit of the SPICE netlist at ``path`` (subcircuits flattened, neurosim's
    ``*@neurosim`` metadata read); one-line :class:`NeurosimError` naming FILE:LINE."""
    from neurosim.netlist.parse import parse_netlist

    return parse_netlist(path)


def write_netlist(circuit: Circuit, path: PathLike) -> Path:
    """Write ``circuit`` as an ngspice netlist to ``path`` (atomically); the path."""
    from neurosim.netlist.write import write_netlist as write

    return write(circuit, path)


def export(
    spec: PathLike,
    *,
    params: PathLike | dict[str, np.ndarray] | None = None,
    wire_resistance: float | None = None,
) -> Circuit:
    """Compile the network spec at ``spec`` (TOML) to its circuit.

    ``params``: model parameters (name -> array, model units) or an HDF5 parameters file
    or training checkpoint; default the spec's seeded Xavier initialisation.
    ``wire_resistance`` [Ω]: every row and column wire segment (default: the spec's).
    """
    import dataclasses

    from neurosim.circuit.meta import check_params
    from neurosim.network.compile import compile_spec
    from neurosim.network.spec import load_spec

    network = load_spec(spec)
    if wire_resistance is not None:
        network = dataclasses.replace(network, wire_resistance=wire_resistance)
    if isinstance(params, str | os.PathLike):
        from neurosim.io.params_h5 import read_params

        stored_meta, params_read = read_params(params)
        if stored_meta.weight_shapes() != network.meta.weight_shapes():
            raise NeurosimError(f"{params}: parameters are for another network shape")
        where, params = str(params), params_read
    else:
        where = "params"
    if params is not None:
        try:
            check_params(network.meta, params)
        except ValueError as exc:
            raise NeurosimError(f"{where}: {exc}") from None
    return compile_spec(network, params)


def relax(circuit: Circuit, inputs: np.ndarray | None, **options):
    """Equilibria of a network circuit for each row of ``inputs`` (n, width), model
    units (clamped input layers, then visible spring targets): an
    :class:`neurosim.engine.batch.InputEquilibria` (``.equilibrium.state`` (n, free),
    residuals, passes, statuses). A circuit of another family
    (:mod:`neurosim.engine.systems`) takes rows of its independent sources' values
    (None: as written) and gives a :class:`neurosim.engine.batch.FamilyEquilibria`; a
    network netlist the crossbar engine cannot lower (an added diode, say) is settled as
    written by the general MNA solver, one row at a time, with a one-line ``.note``
    saying so (:class:`neurosim.engine.batch.GeneralEquilibria`).
    ``options``: ``tolerance``, ``solver`` (:mod:`neurosim.engine.solvers`), ``dtype``,
    ``max_passes``, ``threads``, ``progress(done, total)``."""
    from neurosim.engine.batch import prepare_inputs

    return prepare_inputs(circuit, inputs).settle(**options)


def engine_summary(circuit: Circuit) -> str:
    """Which solver settles ``circuit``, in one line (the crossbar engine and what it
    folds, a circuit family's engine, or the general MNA solver and why)."""
    from neurosim.engine.systems import describe

    return describe(circuit)


def check(
    circuit: Circuit,
    inputs: np.ndarray | None = None,
    *,
    rtol: float | None = None,
    backend: str = "auto",
    progress: Callable[[], None] | None = None,
):
    """Operating points of ``circuit`` by neurosim and by ngspice, compared: a
    :class:`neurosim.verify.crosscheck.CheckReport` (``.ok``, ``.max_abs_diff_v`` [V]).
    A network circuit is solved for each row of ``inputs`` (n, width), model units; any
    other circuit once, as written. ``rtol``: tolerance relative to the signal scale."""
    from neurosim.verify.crosscheck import (
        DEFAULT_RELATIVE_TOLERANCE,
        cross_check,
        settings_for_inputs,
    )

    if circuit.network is None:
        if inputs is not None:
            raise NeurosimError("inputs need a neurosim network circuit")
        settings = [{}]
    else:
        if inputs is None:
            raise NeurosimError("a network circuit is checked for given inputs (n, width)")
        settings = settings_for_inputs(circuit.network, np.asarray(inputs))
    return cross_check(
        circuit,
        settings,
        relative_tolerance=DEFAULT_RELATIVE_TOLERANCE if rtol is None else rtol,
        backend=backend,
        progress=progress,
    )


def train(
    netlist: PathLike | Circuit,
    objective: str = "flow",
    *,
    settings: TrainingSettings | None = None,
    out: PathLike | None = None,
    resume: bool = False,
    progress: Callable[[Progress], None] | None = None,
    notes: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train the circuit of ``netlist`` (a path or a :class:`Circuit`) with local rules
    only (EP/GradEP): the devices it marks trainable are programmed, every other
    element keeps its value.

    ``objective``: "flow" (GradEP flow matching) or "classify" (EP); ``settings``: its
    settings object (default: the objective's defaults). ``out``: a run directory to
    write (checkpoint.h5 every ``checkpoint_every`` epochs, trained.cir, loss.png, ...);
    None writes nothing. ``resume``: continue ``out``'s checkpoint. ``progress`` is
    called after every epoch with a :class:`neurosim.learn.run.Progress`; ``notes`` with
    one line if the circuit is settled on the general solver (added elements the engine
    cannot fold: slow, exact).
    """
    circuit, name = _circuit(netlist)
    settings = settings if settings is not None else settings_class(objective)()
    if settings.objective != objective:
        raise NeurosimError(
            f"{type(settings).__name__} are settings of the {settings.objective!r} "
            f"objective, not of {objective!r}"
        )
    evaluate, every = None, 0
    if isinstance(settings, GradEPSettings) and settings.eval_every:
        from neurosim.samplers.quality import DataQuality, FlowQuality

        every, descent = settings.eval_every, settings.descent()
        if settings.data == "digits":
            evaluate = FlowQuality(settings.seed, settings.alpha, descent=descent)
        else:
            from neurosim.data.datasets import load_dataset

            data = load_dataset(settings.data)
            evaluate = DataQuality(data, settings.seed, settings.alpha, descent=descent)
    return run_training(
        circuit,
        settings,
        netlist=name,
        out=None if out is None else Path(out),
        resume=resume,
        progress=progress,
        evaluate=evaluate,
        every=every,
        notes=notes,
    )


def sample(
    source: PathLike | Circuit | Chip | TrainResult,
    settings: Sampling | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    notes: Callable[[str], None] | None = None,
) -> Samples:
    """Generate with a trained circuit: ``settings.n`` samples (n, dim) in [−1, 1], each
    sample's step count, and the settings and costs that made them (``Samples``).

    ``settings``: the sampler (:data:`neurosim.samplers.settings.SAMPLERS`): Euler
    integration of a flow-matching field (:class:`EulerSampling`, the default) or
    descent of an EqM landscape (:class:`DescentSampling`, :class:`NesterovSampling`,
    :class:`AdaptiveSampling`). ``source``: a netlist path, a run directory of
    :func:`train` (its best.cir, else its trained.cir), a :class:`Circuit`, a
    :class:`Chip` or a :class:`TrainResult` (its trained chip). α: ``settings.alpha``,
    else the run's settings, else 2. ``progress(steps)`` is called after each step;
    ``notes`` with one line if the circuit is settled on the general solver (added
    elements the engine cannot fold: slow, exact; the hardware costs of ``probes`` are
    then not measured, and the energy readout, the EqM samplers and the analog sampler
    refuse it). The analog sampler's released circuit comes back as ``Samples.circuit``.
    """
    from neurosim.samplers.readout import sampled_layer

    settings = settings or EulerSampling()
    chip, described, alpha, alpha_from = _sampled_chip(source, settings.alpha)
    sampled_layer(chip)  # a network without a velocity readout fails here
    low, high = described.pop("noise_levels", (None, None))
    if isinstance(settings, LangevinSampling) and getattr(chip, "noise_conditional", False):
        settings = replace(
            settings,
            sigma_min=settings.sigma_min or low,
            sigma_max=settings.sigma_max or high,
        )
    if chip.general is not None:
        if notes is not None:
            notes(chip.note + "; hardware costs are not measured")
        if getattr(settings, "probes", 0):
            settings = replace(settings, probes=0)
    # the batch's state and the solver's arrays (Anderson keeps 2 x 12 histories of it)
    require(settings.n * chip.free * 8 * SAMPLING_ARRAYS, f"sampling {settings.n:,} samples")
    samples, steps, stats = settings.generate(chip, alpha, progress)
    record = {
        **settings.record(),
        "alpha": alpha,
        "alpha_from": alpha_from,
        **described,
        "tolerance": settings.tol,
        "mean_steps": float(np.mean(steps)),
        "passes": stats.passes,
        "mean_passes": stats.mean_passes,
        "relaxations": stats.relaxations,
        "unsettled": stats.unsettled,
        "unsettled_samples": stats.unsettled_samples,
        "worst_residual": stats.worst_residual,
        "seconds": stats.seconds,
    }
    if chip.general is not None:
        record["general_solver"] = chip.general
    if isinstance(settings, EulerSampling):
        record["steps"] = settings.steps
    if np.isfinite(stats.heat_j):
        record["heat_j_per_sample"] = stats.heat_j
        record["physical_seconds"] = stats.physical_seconds
    if stats.probes:
        record["settle_seconds_per_step"] = stats.settle_seconds
        record["probed_samples"] = stats.probes
        record["probe_seconds"] = stats.probe_seconds
    circuit = None
    if isinstance(settings, LangevinSampling) and settings.analog:
        circuit, described = settings.held(chip, alpha)
        record.update({f"held_{key}": value for key, value in described.items()})
    if isinstance(settings, AnalogSampling):
        circuit = settings.released(chip)
        if settings.temperature > 0:
            released = chip.release(sampled_layer(chip))
            record["model_temperature"] = released.model_temperature(settings.temperature)
    return Samples(samples, record, steps, circuit)


def compose(first: PathLike | Circuit, second: PathLike | Circuit, prefix: str = "n2_") -> Circuit:
    """Two trained networks wired onto the same visible nodes, as one circuit (valid
    ngspice): their currents add, so the clamped readout of the result is the sum of
    theirs (:mod:`neurosim.circuit.compose`). Each may be a netlist, a run directory
    of :func:`train` (its best.cir, else trained.cir) or a :class:`Circuit`;
    ``prefix`` renames the second network's own elements, nodes and layers."""
    from neurosim.circuit.compose import compose as join

    circuits = []
    for source in (first, second):
        if not isinstance(source, Circuit):
            source = load_netlist(run_netlist(Path(source))[0])
        circuits.append(source)
    if not prefix or not all(c.isalnum() or c == "_" for c in prefix):
        raise NeurosimError(f"the prefix must be letters, digits and _, not {prefix!r}")
    return join(*circuits, prefix=prefix.lower())


def released(source: PathLike | Circuit | Chip | TrainResult, settings=None) -> Circuit:
    """The circuit the analog sampler runs (``settings``: an :class:`AnalogSampling`,
    default its defaults): ``source``'s circuit with the sampled layer's springs removed,
    sample 0's start in its capacitors (``ic=``) and, at a temperature, a ``trnoise``
    current source per released node — valid ngspice (``.tran ... uic``)."""
    settings = settings or AnalogSampling()
    if not isinstance(settings, AnalogSampling):
        raise NeurosimError("released: the settings must be an AnalogSampling")
    chip, _, _, _ = _sampled_chip(source, settings.alpha)
    return settings.released(chip)


def program(
    netlist: PathLike | Circuit,
    device: str = "pcm",
    settings: dict | None = None,
    *,
    seconds: float | None = None,
    seed: int = 0,
    compensate: bool = False,
    amplifiers: dict | None = None,
):
    """The chip of ``netlist`` after programming its devices onto device model
    ``device`` ("ideal", "pcm", "generic"; pulsed-update devices are for training;
    ``settings``: field -> value, the model's names) and ``seconds`` of drift after
    programming (None: right after), with global drift compensation if
    ``compensate`` and each amplifier's errors drawn from ``amplifiers`` (field ->
    value: :class:`neurosim.devices.amplifiers.Amplifiers`): a
    :class:`neurosim.host.deploy.Deployment` (``.circuit``: the chip, valid ngspice).
    The same seed gives the same chip."""
    from neurosim.devices.presets import amplifiers as make_amplifiers
    from neurosim.devices.presets import device_model
    from neurosim.host.deploy import deploy

    circuit, name = _circuit(netlist)
    if circuit.network is None:
        raise NeurosimError(f"{name}: program needs a neurosim network netlist")
    if seconds is not None and not (np.isfinite(seconds) and seconds >= 0):
        raise NeurosimError(f"the time after programming must be >= 0 seconds, not {seconds!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise NeurosimError(f"the seed must be a whole number >= 0, not {seed!r}")
    model = device_model(device, settings)
    made = make_amplifiers(amplifiers)
    return deploy(
        circuit, model, seconds=seconds, seed=int(seed), compensate=compensate, amplifiers=made
    )


def evaluate(
    chip: PathLike | Circuit | Chip,
    objective: str = "classify",
    settings: TrainingSettings | None = None,
    readout=None,
    drive=None,
) -> dict[str, float]:
    """How well a chip (a netlist path, a circuit, e.g. a programmed one, or a chip)
    does its job as it is.

    classify: held-out ``accuracy``, ``loss``, ``passes``, ``unsettled`` on the split
    training uses for ``settings`` (:class:`ClassifySettings`; its seed and
    test_fraction). flow: ``frechet``, ``coverage``, ``confidence`` of 500 samples
    (spring readout, Euler dt 0.05 to t = 1; α and the seed from ``settings``), as
    training's quality tracking scores them. ``readout``: the host's readout path
    (:class:`neurosim.devices.periphery.Readout`: ADC, output noise on the output units
    (classify) or the spring currents (flow), its noise seeded by the settings' seed);
    ``drive``: the DAC on the input rows (:class:`neurosim.devices.periphery.Drive`).
    flux: the learned field's ``curl``, ``stein`` residual and ``score_mse`` over 500
    points of ``settings.data`` (:func:`neurosim.learn.flux_objective.field_diagnostics`).
    """
    from neurosim.learn.run import evaluate_classifier

    if isinstance(chip, Chip | ResistiveChip | OscillatorChip):
        target = chip
    else:
        circuit, name = _circuit(chip)
        target = _chip(circuit, name)
    if readout is not None:
        target.set_readout(readout, (settings or settings_class(objective)()).seed)
    if drive is not None:
        target.set_drive(drive)
    settings = settings if settings is not None else settings_class(objective)()
    if settings.objective != objective:
        raise NeurosimError(f"{type(settings).__name__} are not settings of {objective!r}")
    if objective == "classify":
        return evaluate_classifier(target, settings)
    if objective == "flux":
        from neurosim.data.datasets import load_dataset
        from neurosim.learn.flux_objective import FluxStep, field_diagnostics

        visible = [layer.name for layer in target.meta.layers if layer.kind == "visible"]
        if not isinstance(target, Chip) or len(visible) != 1 or target.meta.spring_lambda <= 0:
            raise NeurosimError(
                "flux evaluates the field of a crossbar with springs on one visible layer"
            )
        step = FluxStep.of(settings, visible[0])
        return field_diagnostics(target, load_dataset(settings.data).x, step, seed=settings.seed)
    from neurosim.samplers.quality import FlowQuality

    return FlowQuality(settings.seed, settings.alpha, descent=settings.descent())(target, 0)


def sweep(
    config,
    out: PathLike,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    dask_local: int | None = None,
    force: bool = False,
    progress: Callable | None = None,
):
    """Run the sweep ``config`` (a :class:`neurosim.sweeps.config.SweepConfig`, or the
    path of a sweep TOML file) into the HDF5 file ``out``, continuing what ``out``
    already holds of it, on ``workers`` local processes (1: this one), the Dask cluster
    at ``scheduler`` or a Dask LocalCluster of ``dask_local`` workers. Returns the
    :class:`neurosim.io.sweep_h5.SweepResults`; the same numbers on every executor."""
    from neurosim.sweeps.config import from_toml
    from neurosim.sweeps.run import run_sweep

    if isinstance(config, str | os.PathLike):
        config = from_toml(config)
    return run_sweep(
        config,
        out,
        workers=workers,
        scheduler=scheduler,
        dask_local=dask_local,
        force=force,
        progress=progress,
    )


def score(
    netlist: PathLike | Circuit | Chip | TrainResult,
    inputs: np.ndarray,
    *,
    tolerance: float = 1e-6,
) -> dict[str, np.ndarray]:
    """The landscape a trained circuit assigns to each row of ``inputs`` (n, dim): with
    its visible nodes held at the row and the hidden units settled, ``free_energy``
    F(x) = E(x, h*) (model units; an EqM-trained circuit's explicit energy: low on its
    data, high away from it — an out-of-distribution score), ``power_w`` (the watts it
    dissipates there) and ``converged`` (bool), each (n,)."""
    from neurosim.samplers.readout import Readout

    chip, *_ = _sampled_chip(netlist, None)
    x = np.asarray(inputs, dtype=np.float64)
    readout = Readout(chip, "energy", 1.0, tolerance=tolerance)
    if x.ndim != 2 or x.shape[1] != readout.dim:
        raise NeurosimError(
            f"inputs have shape {x.shape}; the visible layer takes (n, {readout.dim})"
        )
    if not np.all(np.isfinite(x)):
        raise NeurosimError("inputs hold NaN or inf")
    require(x.shape[0] * chip.free * 8 * SAMPLING_ARRAYS, f"scoring {x.shape[0]:,} rows")
    with np.errstate(all="ignore"):  # a row that diverges scores inf/NaN, unsettled
        free_energy, power, eq = readout.landscape(x)
    return {"free_energy": free_energy, "power_w": power, "converged": eq.converged}


def metrics(samples: np.ndarray, data: str = "digits") -> QualityReport | dict:
    """Scores of generated ``samples`` (n, dim), n ≥ 2.

    Digits (n, 64; values outside [−1, 1] clipped): a :class:`QualityReport` — Fréchet
    distance in a fixed classifier's features, class coverage, confidence, nearest
    training image, next to the same scores of real digits
    (:mod:`neurosim.scores.quality`). Any other ``data`` (moons, ring8, a file): a dict
    of the energy distance to the data and the coverage of its classes, next to a half
    of the data's (:mod:`neurosim.scores.distribution`).
    """
    if data != "digits":
        from neurosim.data.datasets import load_dataset
        from neurosim.scores.distribution import evaluate_against

        return evaluate_against(samples, load_dataset(data))
    from neurosim.scores.quality import evaluate

    return QualityReport(**evaluate(samples))


def run_netlist(source: Path) -> tuple[Path, Path | None]:
    """The netlist a sample source names and the run's checkpoint (None if ``source``
    is not a run directory): a run's best.cir, else its trained.cir."""
    if not source.exists():
        raise NeurosimError(f"{source}: no such file or directory")
    if not source.is_dir():
        return source, None
    for name in (BEST, TRAINED):
        if (source / name).is_file():
            return source / name, source / "checkpoint.h5"
    raise NeurosimError(f"{source}: not a run directory of `neurosim train` (no trained.cir)")


def _circuit(netlist: PathLike | Circuit) -> tuple[Circuit, str]:
    if isinstance(netlist, Circuit):
        return netlist, "<circuit>"
    return load_netlist(netlist), str(netlist)


def _sampled_chip(source, alpha: float | None) -> tuple[Chip, dict[str, str], float, str]:
    """The chip to sample, what to record of where it came from, α and its origin
    ("option", "checkpoint", "run", "default")."""
    from neurosim.io.checkpoint_h5 import read_checkpoint_settings

    saved, origin = None, "run"
    if isinstance(source, TrainResult):
        chip, described = source.chip, {"source": "<train result>", "data": source.settings.data}
        saved = getattr(source.settings, "alpha", None)
        described["noise_levels"] = _noise_levels(source.settings.record())
    elif isinstance(source, Chip):
        chip, described = source, {"source": "<chip>"}
    elif isinstance(source, Circuit):
        chip, described = _chip(source, "<circuit>"), {"source": "<circuit>"}
    else:
        path = Path(source)
        netlist, checkpoint = run_netlist(path)
        chip = _chip(load_netlist(netlist), str(netlist))
        described = {"source": str(source), "netlist": str(netlist)}
        if checkpoint is not None and checkpoint.is_file():
            trained = read_checkpoint_settings(checkpoint)
            saved, origin = trained.get("alpha"), "checkpoint"
            described["noise_levels"] = _noise_levels(trained)
            if isinstance(trained.get("data"), str):
                described["data"] = trained["data"]
            number = isinstance(saved, int | float) and not isinstance(saved, bool)
            if saved is not None and not (number and 0 < saved < float("inf")):
                raise NeurosimError(f"{checkpoint}: its alpha {saved!r} is not a positive number")
    if alpha is not None:
        return chip, described, float(alpha), "option"
    if saved is not None:
        return chip, described, float(saved), origin
    return chip, described, REFERENCE_ALPHA, "default"


def _noise_levels(trained: dict) -> tuple[float | None, float | None]:
    """(σ_min, σ_max) a run of Flux Matching trained its field over (None where not)."""
    if trained.get("objective") != "flux":
        return None, None
    high = trained.get("sigma_max") or None
    return trained.get("sigma"), high


def _chip(circuit: Circuit, name: str) -> Chip | ResistiveChip | OscillatorChip:
    if circuit.network is None:
        raise NeurosimError(f"{name}: needs a neurosim network netlist")
    return chip_for(circuit)
