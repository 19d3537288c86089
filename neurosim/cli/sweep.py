"""``neurosim sweep``: a device non-ideality sweep on all cores or a Dask cluster."""

from __future__ import annotations

import json
from pathlib import Path

import click

from neurosim.cli.options import SEED
from neurosim.devices import NAMES


@click.command()
@click.argument("netlist", required=False, type=click.Path(path_type=Path))
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="A sweep TOML file (see the README); NETLIST and the sweep's options then come from it.",
)
@click.option(
    "--device", type=click.Choice(NAMES), help="Device model of every chip.  [default: pcm]"
)
@click.option(
    "--vary",
    multiple=True,
    metavar="KEY=SPEC",
    help="An axis (repeatable): a setting and its values — a list 4,6,8, a range "
    "START:STOP:N (N points) or log:START:STOP:N. Keys: the device's settings, "
    "time, compensate, the amplifiers' (driver_gain_error, ...), the converters' "
    "(adc_bits, read_noise, dac_bits, ...), and with --mode train the training's.",
)
@click.option(
    "--set",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A fixed setting (same keys as --vary; repeatable).",
)
@click.option(
    "--time",
    "seconds",
    type=float,
    help="Seconds after programming (drift), for every chip: --set time=S.",
)
@click.option("--repeats", type=int, help="Chips (seeds) per point.  [default: 1]")
@click.option(
    "--mode",
    type=click.Choice(["inference", "train"]),
    help="inference: program the netlist's parameters onto fresh chips and evaluate; "
    "train: train hardware-aware on each chip "
    "(--train KEY=VALUE: its settings), then evaluate.  [default: inference]",
)
@click.option(
    "--train",
    "train_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A training setting for --mode train (e.g. epochs=5; repeatable).",
)
@click.option(
    "--objective",
    type=click.Choice(["classify", "flow"]),
    help="classify: held-out accuracy; flow: sample quality (500 samples).  [default: classify]",
)
@click.option(
    "--metric",
    help="The metric plotted and summarised: accuracy, loss, unsettled (classify); "
    "frechet, coverage, confidence (flow).",
)
@click.option(
    "--seed",
    type=SEED,
    help="Base seed: repeat r of point p is seeded from (seed, p, r).  [default: 0]",
)
@click.option(
    "--split-seed",
    type=SEED,
    help="classify, inference: the held-out split's seed — the seed NETLIST was trained "
    "with (`train --seed`), so no chip is scored on digits it learned.  [default: 0]",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="SWEEP.h5: the results, written as points finish; running the same sweep "
    "again continues it.",
)
@click.option(
    "--png",
    type=click.Path(path_type=Path),
    help="Plot: the metric against the first axis, a line per value of the others (mean ± std).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print every repeat's row as JSON (no timings)."
)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Local worker processes.  [default: one per core]"
)
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="Run the points on this Dask cluster.")
@click.option(
    "--dask-local",
    type=click.IntRange(min=1),
    metavar="N",
    help="Start a Dask LocalCluster of N workers for the run.",
)
@click.option("--resume", is_flag=True, help="Continue the sweep in --out (it must exist).")
@click.option(
    "--force", is_flag=True, help="Replace --out (and --png) if they hold something else."
)
def sweep(
    netlist,
    config_file,
    device,
    vary,
    pairs,
    seconds,
    repeats,
    mode,
    train_pairs,
    objective,
    metric,
    seed,
    split_seed,
    out,
    png,
    as_json,
    workers,
    scheduler,
    dask_local,
    resume,
    force,
) -> None:
    """Sweep device non-idealities over a grid: every point × repeat is a fresh chip
    programmed (or trained) and evaluated, on all cores or a Dask cluster.

    The grid is the product of the --vary axes; repeat r of point p uses a seed drawn
    from (--seed, p, r), so results do not depend on the workers or the order. Results
    go to --out as they finish (HDF5, atomically): a killed sweep loses only the points
    in flight, and running the same command again continues it. A failing point (a bad
    setting, a chip that does not settle) is recorded with its reason.

    Example: neurosim sweep netlists/digits_classify.cir --device pcm --vary
    time=log:1:31536000:5 --vary compensate=false,true --repeats 10 --out s.h5 --png s.png
    """
    from neurosim.api import sweep as run_sweep
    from neurosim.errors import NeurosimError
    from neurosim.io.outputs import claim_outputs
    from neurosim.sweeps.config import SweepConfig, axes_from_options, from_toml
    from neurosim.sweeps.execute import default_workers

    given = {
        "device": device,
        "mode": mode,
        "objective": objective,
        "metric": metric,
        "repeats": repeats,
        "seed": seed,
        "split_seed": split_seed,
    }
    if config_file is not None:
        if (
            netlist is not None
            or vary
            or pairs
            or train_pairs
            or seconds is not None
            or any(v is not None for v in given.values())
        ):
            raise NeurosimError(
                "--config gives the whole sweep: no NETLIST or sweep options beside it"
            )
        config = from_toml(config_file)
    else:
        if netlist is None:
            raise NeurosimError("give NETLIST (or --config SWEEP.toml)")
        fixed = pairs + (() if seconds is None else (f"time={seconds!r}",))
        config = SweepConfig(
            netlist=str(netlist),
            axes=axes_from_options(vary),
            settings=fixed,
            train=train_pairs,
            **{k: v for k, v in given.items() if v is not None},
        )
    if scheduler is not None and dask_local is not None:
        raise NeurosimError("--scheduler and --dask-local: choose one")
    if resume and not out.exists():
        raise NeurosimError(f"{out}: no sweep to resume")
    inputs = [Path(config.netlist)] + ([config_file] if config_file else [])
    claim_outputs({"--out": out, "--png": png}, inputs, force=True)
    if png is not None and png.exists() and not force:
        raise NeurosimError(f"{png} exists: --force replaces it")
    from neurosim.cli.progress import LazyBar

    total = len(config.points()) * config.repeats
    with LazyBar(total, "sweep", show_eta=True) as bar:

        def progress(done, total, outcome):
            bar.update(done - bar.done)

        try:
            results = run_sweep(
                config,
                out,
                workers=workers or default_workers(),
                scheduler=scheduler,
                dask_local=dask_local,
                force=force,
                progress=progress,
            )
        except KeyboardInterrupt:
            raise NeurosimError(
                f"interrupted: {out} keeps the finished points; run the same command "
                "again to continue"
            ) from None
    from neurosim.sweeps.table import point_summary, repeat_rows

    summary = point_summary(config, results)
    keys = [axis.key for axis in config.axes]
    if png is not None:
        from neurosim.plot.sweep import plot_sweep

        plot_sweep(
            summary,
            keys,
            config.metric,
            png,
            title=f"{Path(config.netlist).name} on {config.device}",
        )
    if as_json:
        click.echo(json.dumps({"sweep": config.record(), "rows": repeat_rows(config, results)}))
        return
    failed = sum(row["failed"] for row in summary)
    for row in summary:
        where = ", ".join(f"{k}={_shown(row[k])}" for k in keys) or "(one point)"
        click.echo(
            f"{where}: {config.metric} {row['mean']:.4g} ± {row['std']:.2g} (n={row['n']})"
            + (f", {row['failed']} failed" if row["failed"] else "")
        )
    click.echo(
        f"{out}: {len(summary)} points × {config.repeats} repeats"
        + (f"; {failed} failed (reasons in the file)" if failed else "")
        + (f"; plot {png}" if png else "")
    )


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
