"""``neurosim train``: train a crossbar netlist's devices with local rules (no backprop)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import click

from neurosim.cli.options import build_chosen, settings_option
from neurosim.cli.progress import EpochReporter
from neurosim.devices import NAMES as DEVICES
from neurosim.learn.settings import SCHEDULES, SETTINGS, FluxSettings, GradEPSettings

EVERY = tuple(SETTINGS.values())  # the objectives' settings classes, by registration
GRADEP = tuple(cls for cls in EVERY if issubclass(cls, GradEPSettings))
FIELDS = (*GRADEP, FluxSettings)  # the objectives that read the springs' field
CHOICES = {
    "optimizer": ("adam", "sgd"),
    "lr_schedule": SCHEDULES,
    "dtype": ("float64", "float32"),
    "device": DEVICES,
    "decay": ("truncated", "linear", "piecewise"),
    "pairing": ("independent", "ot"),
}


def _option(name: str, kind=float, *decls: str, classes=EVERY):
    classes = tuple(cls for cls in classes if name in {f.name for f in fields(cls)})
    kind = click.Choice(CHOICES[name]) if name in CHOICES else kind
    scope = classes[0].objective if len(classes) == 1 else ""
    return settings_option(classes, name, *decls, scope=scope, type=kind)


@click.command()
@click.option(
    "--netlist",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A neurosim crossbar netlist: netlists/digits_flow.cir (flow), "
    "netlists/digits_classify.cir (classify), or a RUN_DIR/trained.cir to continue from.",
)
@click.option(
    "--objective",
    default="flow",
    show_default=True,
    type=click.Choice(list(SETTINGS)),
    help="flow: GradEP flow matching (the network's visible springs learn a velocity "
    "field); classify: EP with a squared-error cost on the output layer; eqm: GradEP "
    "Equilibrium Matching (the springs learn the gradient of an energy landscape whose "
    "minima are the data; sample it with `sample --sampler gd|nag|adaptive`); flux: Flux "
    "Matching (the springs' field learns to keep the data stationary under Langevin "
    "dynamics, gradients by the chip's adjoint, so non-reciprocal netlists train too; "
    "sample it with `sample --langevin`).",
)
@_option("data", str)
@click.option(
    "--out",
    "run_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="RUN_DIR: checkpoint.h5, trained.cir, loss.png (and metrics.json for classify).",
)
@_option("epochs", int)
@_option("seed", int)
@_option("optimizer", str)
@_option("lr")
@_option("lr_schedule", str)
@_option("beta1")
@_option("beta2")
@_option("momentum")
@_option("clip")
@_option("alpha", float, classes=FIELDS)
@_option("beta")
@_option("batch_size", int)
@_option("sigma")
@_option("sigma_max")
@_option("loss", str)
@_option("probes", int)
@_option("fd_step")
@_option("test_fraction", float)
@_option("tol", float, "--tol")
@_option("dtype", str, classes=GRADEP)
@_option("max_passes", int)
@_option("limit", int)
@_option("checkpoint_every", int)
@_option("eval_every", int, classes=GRADEP)
@_option("decay", str)
@_option("decay_a")
@_option("decay_b")
@_option("lambda_c")
@_option("pairing", str)
@_option("eval_eta")
@_option("eval_steps", int)
@_option("device", str)
@_option("adc_bits", int)
@_option("adc_range")
@_option("read_noise")
@_option("dac_bits", int)
@_option("dac_range")
@settings_option(EVERY, "device_settings", "--set", multiple=True, metavar="KEY=VALUE")
@click.option("--resume", is_flag=True, help="Continue from RUN_DIR/checkpoint.h5.")
def train(run_dir: Path, netlist: Path, objective: str, resume: bool, **options) -> None:
    """Train NETLIST's own circuit with EP/GradEP: only local rules, no backprop.

    Each epoch the host sets sources, lets the circuit settle, reads node voltages and
    spring currents and programs each device with its local update. The devices the
    netlist's `*@neurosim trainable` patterns mark are programmed; every other element
    (an edited leak, a mismatched array's offsets, drivers, amplifiers) keeps its value.
    Writes RUN_DIR/checkpoint.h5 (atomically, every --checkpoint-every epochs; --resume
    continues it bit for bit, and finishes the outputs of a run killed after its last
    checkpoint), RUN_DIR/trained.cir (NETLIST's circuit after training, valid ngspice;
    train on from it with --netlist) and RUN_DIR/loss.png. Defaults are the FlowEqProp
    reference hyper-parameters (DESIGN.md §4.4); λ comes from the netlist's springs.
    """
    from neurosim import api

    settings = build_chosen(SETTINGS, objective, "--objective", options)
    with EpochReporter(settings.epochs) as report:
        result = api.train(
            netlist,
            objective,
            settings=settings,
            out=run_dir,
            resume=resume,
            progress=report,
            notes=lambda line: click.echo(f"neurosim: note: {line}", err=True),
        )
    click.echo(_summary(result, run_dir))


def _summary(result, run_dir: Path) -> str:
    """One line on a finished run."""
    history = result.history
    if result.settings.objective == "classify":
        return (
            f"{run_dir}: {result.epochs} epochs, test accuracy {history['test_accuracy'][-1]:.2%}"
        )
    objective = result.settings.objective
    if objective == "flux":
        sampler = "--anneal" if result.settings.sigma_max > result.settings.sigma else "--langevin"
        return (
            f"{run_dir}: {result.epochs} epochs, Stein residual {history['stein'][-1]:.4g} "
            f"(batch mean r²; sample with `neurosim sample {run_dir} {sampler}`)"
        )
    line = f"{run_dir}: {result.epochs} epochs, {objective} MSE {history['mse'][-1]:.4f}"
    if result.best_epoch is not None:
        label = "FD" if result.settings.data == "digits" else "energy distance"
        line += (
            f"; best samples at epoch {result.best_epoch} ({label} {result.best_score:.3f}): "
            f"{run_dir / 'best.cir'}"
        )
    return line
