"""``neurosim train``: GradEP flow matching on a crossbar netlist, with checkpoints."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command()
@click.option(
    "--netlist",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A neurosim crossbar netlist (e.g. netlists/digits_flow.cir or a trained.cir).",
)
@click.option(
    "--objective",
    default="flow",
    show_default=True,
    type=click.Choice(["flow"]),
    help="Training objective (flow matching; classification is not implemented yet).",
)
@click.option("--data", default="digits", show_default=True, type=click.Choice(["digits"]))
@click.option("--out", "run_dir", required=True, type=click.Path(path_type=Path), help="RUN_DIR.")
@click.option("--epochs", default=2000, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--lr", default=1e-3, show_default=True, type=click.FloatRange(0, min_open=True))
@click.option("--beta1", default=0.9, show_default=True, type=click.FloatRange(0, 1, max_open=True))
@click.option(
    "--beta2", default=0.95, show_default=True, type=click.FloatRange(0, 1, max_open=True)
)
@click.option("--clip", default=1.0, show_default=True, type=click.FloatRange(0, min_open=True))
@click.option(
    "--alpha",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Output scale α of the velocity readout v = αλ(x* − x_t).",
)
@click.option(
    "--beta",
    default=1.25e-3,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Nudge β (symmetric ±β phases).",
)
@click.option("--tol", default=1e-6, show_default=True, type=click.FloatRange(0, min_open=True))
@click.option("--limit", type=click.IntRange(1), help="Train on the first N images only.")
@click.option("--checkpoint-every", default=10, show_default=True, type=click.IntRange(1))
@click.option("--resume", is_flag=True, help="Continue from RUN_DIR/checkpoint.h5.")
def train(
    netlist: Path,
    objective: str,
    data: str,
    run_dir: Path,
    epochs: int,
    seed: int,
    lr: float,
    beta1: float,
    beta2: float,
    clip: float,
    alpha: float,
    beta: float,
    tol: float,
    limit: int | None,
    checkpoint_every: int,
    resume: bool,
) -> None:
    """Train NETLIST's devices with GradEP (no backprop) to match the digits' flow.

    Writes RUN_DIR/checkpoint.h5 (atomically, every --checkpoint-every epochs),
    RUN_DIR/trained.cir (valid ngspice) and RUN_DIR/loss.png. Defaults are the
    FlowEqProp reference hyper-parameters; λ comes from the netlist's springs.
    """
    from neurosim.data.digits import load_digits
    from neurosim.errors import NeurosimError
    from neurosim.io.checkpoint_h5 import read_checkpoint
    from neurosim.learn.trainer import CHECKPOINT, FlowConfig, train_flow
    from neurosim.netlist.parse import parse_netlist
    from neurosim.netlist.write import write_netlist
    from neurosim.network.compile import compile_network, params_from_circuit

    if run_dir.exists() and not run_dir.is_dir():
        raise NeurosimError(f"{run_dir}: not a directory")
    circuit = parse_netlist(netlist)
    if circuit.network is None or circuit.network.spring_lambda <= 0:
        raise NeurosimError(f"{netlist}: flow training needs a network netlist with springs")
    config = FlowConfig(epochs, lr, beta1, beta2, clip, alpha, beta, tol, seed, checkpoint_every)
    checkpoint = read_checkpoint(run_dir / CHECKPOINT) if resume else None
    if checkpoint is not None:
        saved = {k: v for k, v in checkpoint.config.items() if k != "epochs"}
        given = {k: v for k, v in config.__dict__.items() if k != "epochs"}
        if saved != given:
            changed = sorted(k for k in given if saved.get(k) != given[k])
            raise NeurosimError(f"--resume with different settings: {', '.join(changed)}")
    images, _ = load_digits()
    images = images[:limit] if limit else images
    run_dir.mkdir(parents=True, exist_ok=True)
    label = f"training {checkpoint.epoch if checkpoint else 0}->{epochs} epochs"
    with click.progressbar(length=epochs, label=label, file=sys.stderr, show_eta=True) as bar:
        if checkpoint is not None:
            bar.update(checkpoint.epoch)
        done = train_flow(
            circuit.network,
            params_from_circuit(circuit),
            images,
            config,
            run_dir,
            resume=checkpoint,
            progress=lambda epoch, mse: bar.update(1),
        )
    trained = compile_network(circuit.network, done.params, title=circuit.title)
    write_netlist(trained, run_dir / "trained.cir")
    _plot_loss(done.history["mse"], run_dir / "loss.png")
    click.echo(f"{run_dir}: {done.epoch} epochs, flow MSE {done.history['mse'][-1]:.4f}")


def _plot_loss(mse: list[float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim.io.atomic import atomic_path

    figure, axes = plt.subplots(figsize=(5, 3.2))
    axes.plot(range(1, len(mse) + 1), mse)
    axes.set(xlabel="epoch", ylabel="per-pixel flow MSE", yscale="log", title="GradEP training")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120)
    plt.close(figure)
