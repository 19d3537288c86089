"""``neurosim sample``: generate images with a flow-matching circuit, written to HDF5."""

from __future__ import annotations

from pathlib import Path

import click

from neurosim.cli.options import build_settings, settings_option
from neurosim.samplers.settings import EulerSampling


def _option(name: str, kind, *decls: str):
    if name == "readout":
        kind = click.Choice(["spring", "energy"])
    return settings_option((EulerSampling,), name, *decls, type=kind)


@click.command()
@click.argument("source", type=click.Path(path_type=Path))
@_option("n", int, "--n")
@_option("t1", float)
@_option("dt", float)
@_option("readout", str)
@_option("seed", int)
@_option("alpha", float)
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
def sample(source: Path, out: Path, png: Path | None, force: bool, **options) -> None:
    """Generate --n images from SOURCE, a RUN_DIR of `neurosim train` (its best.cir,
    the parameters whose samples scored best during training, else its trained.cir) or
    a flow-matching netlist: noise x0 ~ N(0, I), Euler steps x += dt*v(x) up to
    --t1, each v(x) read off the settled circuit, then a clip to [-1, 1].
    """
    from neurosim import api
    from neurosim.cli.progress import LazyBar
    from neurosim.io.outputs import claim_outputs, write_output
    from neurosim.io.samples_h5 import write_samples

    settings = build_settings(EulerSampling, options)
    netlist, checkpoint = api.run_netlist(source)
    claim_outputs({"--out": out, "--png": png}, [netlist, checkpoint], force=force)
    label = f"sampling {settings.n} ({settings.readout} readout, {settings.steps} steps)"
    with LazyBar(settings.steps, label, show_eta=True) as bar:
        made = api.sample(source, settings, progress=bar.update)
    record = made.settings
    write_output(out, lambda: write_samples(out, made.samples, record))
    if png is not None:
        title = f"{netlist.name}: {settings.readout} readout, t1 = {settings.t1:g}"
        write_output(png, lambda: _picture(made, png, title))
    click.echo(
        f"{out}: {settings.n} samples of {netlist}, {settings.steps} Euler steps of "
        f"{settings.dt:g} ({settings.readout} readout, alpha {record['alpha']:g} from "
        f"{record['alpha_from']}), {record['passes']} passes, "
        f"{record['unsettled']} of {record['relaxations']} relaxations unsettled, "
        f"{record['seconds']:.1f} s"
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
