"""``neurosim score``: the free energy a trained circuit gives each input (an OOD score)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from neurosim.cli.options import FINITE_POSITIVE, nulls_for_non_finite


@click.command()
@click.argument("netlist", type=click.Path(path_type=Path))
@click.argument("inputs_file", metavar="INPUTS", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="HDF5 file to write (atomically): free_energy (model units), power_w (W) and "
    "converged, one per input row.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print every row's scores as JSON (null where a row did not settle to a finite value).",
)
@click.option(
    "--tol",
    "tolerance",
    default=1e-6,
    show_default=True,
    type=FINITE_POSITIVE,
    help="Settle the hidden units until every residual is below this (model units).",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def score(
    netlist: Path, inputs_file: Path, out: Path | None, as_json: bool, tolerance: float, force: bool
) -> None:
    """Score each row of INPUTS (a .npy array (n, dim), the visible layer's values in
    model units) on NETLIST's landscape (a trained netlist or RUN_DIR): the visible
    nodes are held at the row by sources, the hidden units settle, and the circuit's
    energy there is the row's free energy F(x) = E(x, h*) — low on what an EqM-trained
    circuit learned, high away from it (an out-of-distribution score) — next to the
    power it dissipates.
    """
    import numpy as np

    from neurosim import api
    from neurosim.errors import NeurosimError
    from neurosim.io.npy import load_rows
    from neurosim.io.outputs import claim_outputs, write_output
    from neurosim.io.scores_h5 import write_scores

    if out is None and not as_json:
        raise NeurosimError("give --out SCORES.h5 or --json")
    source, checkpoint = api.run_netlist(netlist)
    claim_outputs({"--out": out}, [source, checkpoint, inputs_file], force=force)
    x = load_rows(inputs_file)
    scores = api.score(netlist, x, tolerance=tolerance)
    if out is not None:
        write_output(out, lambda: write_scores(out, scores, str(source), str(inputs_file)))
    unsettled = int(np.count_nonzero(~scores["converged"]))
    if as_json:
        rows = [
            {"free_energy": float(f), "power_w": float(p), "converged": bool(c)}
            for f, p, c in zip(
                scores["free_energy"], scores["power_w"], scores["converged"], strict=True
            )
        ]
        # a row that did not settle scores inf or NaN: null in strict JSON
        record = nulls_for_non_finite({"netlist": str(source), "rows": rows})
        click.echo(json.dumps(record, allow_nan=False))
    else:
        f = scores["free_energy"]
        click.echo(
            f"{out}: {f.size} rows of {inputs_file} on {source}: free energy "
            f"{f.min():.4g} .. {f.max():.4g} (median {np.median(f):.4g}), "
            f"{unsettled} unsettled"
        )
