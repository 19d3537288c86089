"""``neurosim sample``: generate with a trained circuit (flow or EqM), written to HDF5."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import click

from neurosim.cli.options import build_chosen, settings_option
from neurosim.samplers.settings import SAMPLERS, EulerSampling

EVERY = tuple(SAMPLERS.values())
LANGEVIN_HELP = {f.name: f.metadata["help"] for f in fields(SAMPLERS["langevin"])}
IMPLY_LANGEVIN = ("analog", "anneal", "denoise")  # flags that also choose --langevin


def _implies_langevin(name: str):
    """The flag --NAME of the Langevin sampler, which also chooses it."""
    return click.option(
        f"--{name}", is_flag=True, default=None, help=LANGEVIN_HELP[name] + " Implies --langevin."
    )


def _option(name: str, kind, *decls: str):
    if name == "readout":
        kind = click.Choice(["spring", "energy"])
    classes = tuple(c for c in EVERY if name in {f.name for f in fields(c)})
    scope = ", ".join(n for n, c in SAMPLERS.items() if c in classes)
    return settings_option(
        classes, name, *decls, scope="" if len(classes) == len(EVERY) else scope, type=kind
    )


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--sampler",
    default="euler",
    show_default=True,
    type=click.Choice(list(SAMPLERS)),
    help="euler: integrate a flow-matching field (x += dt*v); gd: descend an EqM "
    "landscape (x -= eta*f, f = -v); nag: the same with Nesterov's look-ahead; adaptive: "
    "gradient descent where each sample stops when |f| < --g-min (its step count is "
    "recorded; with --png a histogram of them too); analog: release the visible nodes and "
    "run the circuit's own transient for --duration seconds (noisy at --temperature); the "
    "released circuit is written beside --out as OUT.released.cir (valid ngspice); "
    "langevin: Langevin dynamics of the field, x += dt*v + sqrt(2 dt)*noise for --steps "
    "steps (Flux Matching; not clipped).",
)
@click.option("--langevin", is_flag=True, help="The same as --sampler langevin.")
@_option("n", int, "--n")
@_option("t1", float)
@_option("dt", float)
@_option("readout", str)
@_option("seed", int)
@_option("alpha", float)
@_option("eta", float)
@_option("steps", int)
@_option("mu", float)
@_option("g_min", float)
@_option("start_from", str, "--from")
@_option("noise_level", float)
@_option("duration", float)
@_option("temperature", float)
@_option("time_step", float)
@_option("inductance", float)
@_option("probes", int)
@_option("sigma_min", float)
@_option("sigma_max", float)
@_implies_langevin("analog")
@_option("hold_tau", float)
@_implies_langevin("anneal")
@_implies_langevin("denoise")
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
@_option("tol", float)
@click.option(
    "--warm-start",
    "warm_start",
    is_flag=True,
    default=None,
    help=EulerSampling.__dataclass_fields__["warm_start"].metadata["help"],
)
def sample(
    source: Path, sampler: str, langevin: bool, out: Path, png: Path | None, force: bool, **options
) -> None:
    """Generate --n images from SOURCE, a RUN_DIR of `neurosim train` (its best.cir,
    the parameters whose samples scored best during training, else its trained.cir) or
    a trained netlist: noise x0 ~ N(0, I), then steps of the circuit's field, each read
    off the settled circuit — Euler steps x += dt*v(x) up to --t1 (flow matching), or
    gradient descent x -= eta*f(x) (EqM: --sampler gd, nag, adaptive) — then a clip to
    [-1, 1].
    """
    from neurosim import api
    from neurosim.cli.progress import LazyBar
    from neurosim.io.outputs import claim_outputs, write_output
    from neurosim.io.samples_h5 import write_samples

    if any(options.get(name) for name in IMPLY_LANGEVIN):
        langevin = True
    if langevin:
        from neurosim.errors import NeurosimError

        if sampler not in ("euler", "langevin"):
            raise NeurosimError(f"--langevin and --sampler {sampler} ask for two samplers")
        sampler = "langevin"
    settings = build_chosen(SAMPLERS, sampler, "--sampler", options)
    netlist, checkpoint = api.run_netlist(source)
    histogram = released = None
    if png is not None and sampler == "adaptive":
        histogram = png.with_name(png.stem + ".steps.png")
    if sampler == "analog":
        released = out.with_name(out.stem + ".released.cir")
    if sampler == "langevin" and settings.analog:
        released = out.with_name(out.stem + ".held.cir")
    outputs = {
        "--out": out,
        "--png": png,
        "--png (step histogram)": histogram,
        "--out (released or held netlist)": released,
    }
    claim_outputs(outputs, [netlist, checkpoint], force=force)
    label = f"sampling {settings.n} ({sampler}, {settings.readout} readout, {settings.steps} steps)"
    total = settings.progress_steps if sampler == "langevin" else settings.steps
    with LazyBar(total, label, show_eta=True) as bar:
        made = api.sample(
            source,
            settings,
            progress=bar.update,
            notes=lambda line: click.echo(f"neurosim: note: {line}", err=True),
        )
    record = made.settings
    write_output(out, lambda: write_samples(out, made.samples, record, made.steps))
    if png is not None:
        how = sampler
        if sampler == "langevin" and (settings.analog or settings.anneal):
            how = "analog Langevin (held circuit)" if settings.analog else "annealed Langevin"
            how += ", denoised" if settings.denoise else ""
        title = f"{netlist.name}: {how}, {settings.readout} readout"
        write_output(png, lambda: _picture(made, png, title))
    if histogram is not None:
        from neurosim.plot.histogram import plot_steps

        write_output(histogram, lambda: plot_steps(made.steps, histogram, settings.steps))
    if released is not None:
        write_output(released, lambda: api.write_netlist(made.circuit, released))
    cost = (
        f" ({settings.readout} readout, alpha {record['alpha']:g} from "
        f"{record['alpha_from']}), {record['passes']} passes, {record['unsettled']} of "
        f"{record['relaxations']} relaxations unsettled"
    )
    if isinstance(settings, EulerSampling):
        how = f"{settings.steps} Euler steps of {settings.dt:g}"
    elif sampler == "langevin" and record["analog"]:
        how = (
            f"analog Langevin: the held circuit ran {record['physical_seconds']:.3g} s "
            f"(model time {settings.steps * settings.dt:g}, hold tau {record['held_hold_tau']:.3g} "
            f"s, noise of {record['held_temperature']:.3g} K), "
            f"{record['heat_j_per_sample']:.3g} J per sample; {released} is the circuit"
        )
        cost = f", {record['mean_steps']:.0f} integrator steps per sample"
    elif sampler == "langevin" and record["anneal"]:
        how = (
            f"annealed Langevin, {settings.steps} noise levels from {record['sigma_max']:g} "
            f"to {record['sigma_min']:g}" + (", denoised" if record["denoise"] else "")
        )
    elif sampler == "langevin":
        how = f"{settings.steps} Langevin steps of {settings.dt:g}"
    elif sampler == "analog":
        noise = ""
        if settings.inductance > 0:
            noise += f" with {settings.inductance:g} H in series"
        if settings.temperature > 0:
            noise += f" at {settings.temperature:g} K (theta {record['model_temperature']:.3g})"
        how = (
            f"analog: released for {settings.duration:g} s of circuit time{noise}, "
            f"{record['heat_j_per_sample']:.3g} J per sample; {released} is the circuit"
        )
        cost = f", {record['mean_steps']:.0f} integrator steps per sample"
    else:
        how = (
            f"{sampler}: up to {settings.steps} steps of eta {settings.eta:g} "
            f"(mean {record['mean_steps']:.1f})"
        )
    click.echo(f"{out}: {settings.n} samples of {netlist}, {how}{cost}, {record['seconds']:.1f} s")
    if "settle_seconds_per_step" in record:
        click.echo(
            f"hardware (first {record['probed_samples']} samples): "
            f"{record['settle_seconds_per_step']:.3g} s settling per step, "
            f"{record['physical_seconds']:.3g} s and {record['heat_j_per_sample']:.3g} J per "
            f"sample (measuring them: {record['probe_seconds']:.1f} s more)"
        )
    if record["unsettled"]:
        click.echo(
            f"neurosim: warning: {record['unsettled']} relaxations "
            f"({record['unsettled_samples']} samples) did not settle to --tol (worst "
            f"residual {record['worst_residual']:.3g}); their readings were used",
            err=True,
        )


def _picture(made, png: Path, title: str) -> None:
    """Square images as a grid; 2-D points as a scatter over their data (if known)."""
    from neurosim.errors import NeurosimError

    dim = made.samples.shape[1]
    if dim == 2:
        from neurosim.data.datasets import load_dataset
        from neurosim.samplers.scatter import save_scatter

        data = made.settings.get("data")
        points = load_dataset(data).x if data and data != "digits" else None
        save_scatter(made.samples, png, points, title=title)
        return
    if round(dim**0.5) ** 2 != dim:
        raise NeurosimError(f"--png: {dim}-dimensional samples are neither images nor 2-D points")
    from neurosim.samplers.grid import save_grid

    save_grid(made.samples, png, title=title)
