"""``neurosim train``: train a crossbar netlist's devices with local rules (no backprop)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from neurosim.cli.options import positive_float


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
    type=click.Choice(["flow", "classify"]),
    help="flow: GradEP flow matching (the network's visible springs learn a velocity "
    "field); classify: EP with a squared-error cost on the output layer.",
)
@click.option(
    "--data",
    default="digits",
    show_default=True,
    type=click.Choice(["digits"]),
    help="Dataset: the 1,797 8x8 digits shipped in data/.",
)
@click.option(
    "--out",
    "run_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="RUN_DIR: checkpoint.h5, trained.cir, loss.png (and metrics.json for classify).",
)
@click.option(
    "--epochs",
    type=click.IntRange(1),
    help="Epochs in all (with --resume: up to this many)  [default: 2000 flow, 30 classify].",
)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every draw.")
@click.option("--optimizer", default="adam", show_default=True, type=click.Choice(["adam", "sgd"]))
@click.option("--lr", default=1e-3, show_default=True, type=positive_float, help="Learning rate.")
@click.option("--beta1", default=0.9, show_default=True, type=click.FloatRange(0, 1, max_open=True))
@click.option(
    "--beta2", default=0.95, show_default=True, type=click.FloatRange(0, 1, max_open=True)
)
@click.option(
    "--momentum",
    default=0.9,
    show_default=True,
    type=click.FloatRange(0, 1, max_open=True),
    help="Momentum of --optimizer sgd.",
)
@click.option(
    "--clip",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Bound on the gradient's global L2 norm (0: no clipping).",
)
@click.option(
    "--alpha",
    default=2.0,
    show_default=True,
    type=positive_float,
    help="flow: output scale α of the velocity readout v = αλ(x* − x_t).",
)
@click.option(
    "--beta",
    default=None,
    type=positive_float,
    help="Nudge β of the symmetric ±β phases  [default: 1.25e-3 flow, 0.25 classify].",
)
@click.option(
    "--batch-size",
    default=32,
    show_default=True,
    type=click.IntRange(1),
    help="classify: mini-batch size (flow uses the full batch, as the reference).",
)
@click.option(
    "--test-fraction",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="classify: held-out share of the digits (stratified, seeded by --seed).",
)
@click.option(
    "--tol",
    default=1e-6,
    show_default=True,
    type=positive_float,
    help="Relaxation tolerance: max KCL residual per unit, model units.",
)
@click.option(
    "--dtype",
    default="float64",
    show_default=True,
    type=click.Choice(["float64", "float32"]),
    help="flow: the engine's arithmetic; float32 is about 1.7x faster (tolerance then at "
    "least 3e-6; its gradients measured within 1.2e-3 of exact).",
)
@click.option(
    "--max-passes",
    default=5000,
    show_default=True,
    type=click.IntRange(1),
    help="Pass budget per phase and sample.",
)
@click.option("--limit", type=click.IntRange(1), help="Train on the first N images only.")
@click.option(
    "--checkpoint-every",
    default=10,
    show_default=True,
    type=click.IntRange(1),
    help="Epochs between checkpoints (a killed run loses at most this many).",
)
@click.option(
    "--eval-every",
    default=100,
    show_default=True,
    type=click.IntRange(0),
    help="flow: every N epochs, generate 500 digits and score them (Fréchet distance, "
    "coverage, confidence; history in the checkpoint, quality.png); the best parameters "
    "go to RUN_DIR/best.cir. 0: off.",
)
@click.option("--resume", is_flag=True, help="Continue from RUN_DIR/checkpoint.h5.")
def train(run_dir: Path, netlist: Path, resume: bool, **options) -> None:
    """Train NETLIST's own circuit with EP/GradEP: only local rules, no backprop.

    Each epoch the host sets sources, lets the circuit settle, reads node voltages and
    spring currents and programs each device with its local update. The devices the
    netlist's `*@neurosim trainable` patterns mark are programmed; every other element
    (an edited leak, a mismatched array's offsets, drivers, amplifiers) keeps its value.
    Writes RUN_DIR/checkpoint.h5 (atomically, every --checkpoint-every epochs; --resume
    continues it bit for bit), RUN_DIR/trained.cir (NETLIST's circuit after training,
    valid ngspice; train on from it with --netlist) and RUN_DIR/loss.png. Defaults are
    the FlowEqProp reference hyper-parameters (DESIGN.md §4.4); λ comes from the
    netlist's springs.
    """
    from neurosim.cli.train_run import RUN_FILES, TrainRun
    from neurosim.errors import NeurosimError
    from neurosim.io.checkpoint_h5 import read_checkpoint
    from neurosim.io.outputs import claim_outputs
    from neurosim.io.run_lock import run_lock
    from neurosim.learn.loop import CHECKPOINT
    from neurosim.netlist.parse import parse_netlist

    if run_dir.exists() and not run_dir.is_dir():
        raise NeurosimError(f"{run_dir}: not a directory")
    outputs = [("--out", run_dir / name) for name in RUN_FILES]
    claim_outputs(outputs, [netlist], force=True)  # the run's own files are rewritten
    circuit = parse_netlist(netlist)
    run = TrainRun.from_options(circuit, netlist, options)
    with run_lock(run_dir):
        if not resume and (run_dir / CHECKPOINT).exists():
            raise NeurosimError(
                f"{run_dir} already holds a training run ({CHECKPOINT}): --resume to "
                "continue it, or choose another --out"
            )
        checkpoint = read_checkpoint(run_dir / CHECKPOINT) if resume else None
        if checkpoint is not None:
            run.check_resumable(checkpoint)
        _train(run, run_dir, checkpoint)


def _train(run, run_dir: Path, checkpoint) -> None:
    """Train (from ``checkpoint`` if given) with a progress bar; write the outputs."""
    epochs = run.config["epochs"]
    first = checkpoint.epoch if checkpoint else 0
    label = f"{run.config['objective']} {first}->{epochs} epochs"
    with click.progressbar(
        length=epochs,
        label=label,
        file=sys.stderr,
        show_eta=True,
        item_show_func=lambda text: text,
    ) as bar:
        bar.update(first)
        done = run.train(
            run_dir,
            resume=checkpoint,
            progress=lambda epoch, metrics: bar.update(1, run.describe(metrics)),
        )
    click.echo(run.finish(done, run_dir))
