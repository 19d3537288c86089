"""``neurosim sample``: generate images with a flow-matching circuit, written to HDF5."""

from __future__ import annotations

import sys
from pathlib import Path

import click

REFERENCE_ALPHA = 2.0  # FlowEqProp's output scale, when neither --alpha nor a checkpoint says


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--n", "count", default=1000, show_default=True, help="Number of samples.")
@click.option(
    "--t1",
    default=1.0,
    show_default=True,
    help="Integrate from t = 0 to t1 (t1 > 1: extended generation); a whole number of --dt.",
)
@click.option("--dt", default=0.01, show_default=True, help="Euler step.")
@click.option(
    "--readout",
    default="spring",
    show_default=True,
    type=click.Choice(["spring", "energy"]),
    help="spring: targets at x, whole circuit settles, v = alpha*lambda*(x* - x); "
    "energy: visible nodes clamped at x, hidden units settle, v = -alpha*dE/dx.",
)
@click.option("--seed", default=0, show_default=True, help="Seed of the noise x0 ~ N(0, I).")
@click.option(
    "--alpha",
    type=float,
    help="Output scale of the readout. Default: the run's checkpoint.h5 config, else 2.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="HDF5 file to write (atomically): samples (n, 64) in [-1, 1] and the settings.",
)
@click.option(
    "--png",
    type=click.Path(path_type=Path),
    help="Also write the first 100 samples as a 10x10 grey image grid (PNG).",
)
@click.option("--force", is_flag=True, help="Replace --out and --png if they exist.")
@click.option(
    "--tol",
    "tolerance",
    default=1e-6,
    show_default=True,
    help="Settle each step until every unit's residual current is below this (model units).",
)
@click.option(
    "--warm-start",
    is_flag=True,
    help="Settle each step from the previous step's equilibrium instead of from rest "
    "(x, h = 0, as training's free phases): ~20% fewer passes, but where the energy has "
    "several minima it can follow another branch than the one training used.",
)
def sample(
    source: Path,
    count: int,
    t1: float,
    dt: float,
    readout: str,
    seed: int,
    alpha: float | None,
    out: Path,
    png: Path | None,
    force: bool,
    tolerance: float,
    warm_start: bool,
) -> None:
    """Generate --n images from SOURCE, a RUN_DIR of `neurosim train` (its best.cir,
    the parameters whose samples scored best during training, else its trained.cir) or
    a flow-matching netlist: noise x0 ~ N(0, I), Euler steps x += dt*v(x) up to
    --t1, each v(x) read off the settled circuit, then a clip to [-1, 1].
    """
    import numpy as np

    from neurosim.errors import NeurosimError
    from neurosim.host import Chip
    from neurosim.io.outputs import claim_outputs, write_output
    from neurosim.io.samples_h5 import write_samples
    from neurosim.netlist.parse import parse_netlist
    from neurosim.sample.flow import euler_samples, step_count
    from neurosim.sample.grid import save_grid
    from neurosim.sample.readout import sampled_layer

    if count < 1:
        raise NeurosimError(f"--n must be at least 1, not {count}")
    if not tolerance > 0:
        raise NeurosimError(f"--tol must be positive, not {tolerance:g}")
    if alpha is not None and not (np.isfinite(alpha) and alpha > 0):
        raise NeurosimError(f"--alpha must be positive, not {alpha:g}")
    try:
        steps = step_count(t1, dt)
    except ValueError as exc:
        raise NeurosimError(f"--t1/--dt: {exc}") from None
    netlist, checkpoint, alpha, alpha_from = _resolve(source, alpha)
    claim_outputs({"--out": out, "--png": png}, [netlist, checkpoint], force=force)
    circuit = parse_netlist(netlist)
    if circuit.network is None:
        raise NeurosimError(f"{netlist}: sample needs a neurosim network netlist")
    chip = Chip(circuit)
    sampled_layer(chip)  # a network without a velocity readout fails before the bar
    label = f"sampling {count} ({readout} readout, {steps} steps)"
    with click.progressbar(length=steps, label=label, file=sys.stderr, show_eta=True) as bar:
        samples, stats = euler_samples(
            chip,
            count,
            t1,
            dt,
            np.random.default_rng(seed),
            alpha,
            readout,
            progress=bar.update,
            warm=warm_start,
            tolerance=tolerance,
        )
    settings = {
        "sampler": "flow_euler",
        "readout": readout,
        "n": count,
        "dt": dt,
        "t1": t1,
        "steps": steps,
        "seed": seed,
        "alpha": alpha,
        "alpha_from": alpha_from,
        "source": str(source),
        "netlist": str(netlist),
        "warm_start": warm_start,
        "tolerance": tolerance,
        "passes": stats.passes,
        "mean_passes": stats.mean_passes,
        "relaxations": stats.relaxations,
        "unsettled": stats.unsettled,
        "unsettled_samples": stats.unsettled_samples,
        "worst_residual": stats.worst_residual,
        "seconds": stats.seconds,
    }
    write_output(out, lambda: write_samples(out, samples, settings))
    if png is not None:
        title = f"{netlist.name}: {readout} readout, t1 = {t1:g}"
        write_output(png, lambda: save_grid(samples, png, title=title))
    click.echo(
        f"{out}: {count} samples of {netlist}, {steps} Euler steps of {dt:g} ({readout} readout, "
        f"alpha {alpha:g} from {alpha_from}), {stats.passes} passes, "
        f"{stats.unsettled} of {stats.relaxations} relaxations unsettled, "
        f"{stats.seconds:.1f} s"
    )
    if stats.unsettled:
        click.echo(
            f"neurosim: warning: {stats.unsettled} relaxations ({stats.unsettled_samples} "
            f"samples) did not settle to --tol (worst residual {stats.worst_residual:.3g}); "
            "their readings were used",
            err=True,
        )


def _resolve(source: Path, alpha: float | None) -> tuple[Path, Path | None, float, str]:
    """The netlist to sample, the run's checkpoint (None: not a run directory), α and
    where α came from ("option", "checkpoint", "default")."""
    from neurosim.errors import NeurosimError
    from neurosim.io.checkpoint_h5 import read_checkpoint_config

    if not source.exists():
        raise NeurosimError(f"{source}: no such file or directory")
    netlist, checkpoint = source, None
    if source.is_dir():
        netlist, checkpoint = source / "best.cir", source / "checkpoint.h5"
        if not netlist.is_file():
            netlist = source / "trained.cir"
        if not netlist.is_file():
            raise NeurosimError(
                f"{source}: not a run directory of `neurosim train` (no trained.cir)"
            )
    if alpha is not None:
        return netlist, checkpoint, alpha, "option"
    if checkpoint is not None and checkpoint.is_file():
        saved = read_checkpoint_config(checkpoint).get("alpha")
        if saved is not None:
            number = isinstance(saved, int | float) and not isinstance(saved, bool)
            if not (number and 0 < saved < float("inf")):
                raise NeurosimError(f"{checkpoint}: its alpha {saved!r} is not a positive number")
            return netlist, checkpoint, float(saved), "checkpoint"
    return netlist, checkpoint, REFERENCE_ALPHA, "default"
