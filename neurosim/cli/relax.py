"""``neurosim relax``: batch equilibria of a crossbar netlist, written to HDF5."""

from __future__ import annotations

from pathlib import Path

import click

from neurosim.cli.options import FINITE_POSITIVE, SEED
from neurosim.engine.solvers import SOLVERS, solver_named


@click.command()
@click.argument("netlist", type=click.Path(path_type=Path))
@click.option(
    "--inputs",
    "inputs_file",
    type=click.Path(path_type=Path),
    help="NumPy .npy array (n, width), model units: clamped input layers, then visible "
    "spring targets (as for `neurosim check`). Default: --count random rows. For a "
    "circuit of another family (e.g. resistors and diodes): the values of its "
    "independent sources in netlist order, volts and amperes; default: as written.",
)
@click.option(
    "--count",
    default=16,
    show_default=True,
    type=click.IntRange(1),
    help="Random input rows, uniform in [-1, 1], when --inputs is not given.",
)
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the random rows.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="HDF5 file to write (atomically): states, unit-node voltages by layer, "
    "residuals, passes, convergence flags, energy and power.",
)
@click.option(
    "--tol",
    "tolerance",
    type=FINITE_POSITIVE,
    help="Stop when every unit's KCL residual is below this, in model units "
    "(x volts_per_unit x g_unit = amperes). Default 1e-6 (float64), 3e-6 (float32).",
)
@click.option(
    "--method",
    default="auto",
    show_default=True,
    type=click.Choice(list(SOLVERS)),
    help="anderson: accelerated fixed point (fast), safeguarded by the circuit's energy; "
    "a circuit without one (mismatched arrays, wire resistance, gain errors) is guided "
    "by its reciprocal part and every equilibrium must pass a stability check, else "
    "that row is settled by plain steps; gradient: plain steps of --step along the "
    "circuit's own dynamics (the reference schedule); auto: anderson on a crossbar, "
    "Newton with the exact Jacobian on a small circuit of another family.",
)
@click.option(
    "--step",
    default=0.1,
    show_default=True,
    type=FINITE_POSITIVE,
    help="Step of --method gradient, in units of the circuit's time constant.",
)
@click.option(
    "--dtype",
    default="float64",
    show_default=True,
    type=click.Choice(["float64", "float32"]),
    help="Arithmetic precision of the solver.",
)
@click.option(
    "--max-passes",
    default=5000,
    show_default=True,
    type=click.IntRange(1),
    help="Pass limit per sample (typical: 10-30; slow, nearly flat directions need more).",
)
@click.option("--threads", type=click.IntRange(1), help="Threads (default: one per core).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def relax(
    netlist: Path,
    inputs_file: Path | None,
    count: int,
    seed: int,
    out: Path,
    tolerance: float | None,
    method: str,
    step: float,
    dtype: str,
    max_passes: int,
    threads: int | None,
    force: bool,
) -> None:
    """Settle NETLIST for every row of --inputs: a neurosim crossbar network, or a
    circuit of another family the engine knows (resistors, diodes, capacitors, current
    sources and grounded voltage sources). Elements added to a network at its unit
    nodes or in series with its devices are folded into the engine exactly; a network
    with an edit it cannot fold (an added diode, say) is settled as written by the
    general MNA solver, one row at a time, and a line says so.

    Exits 0 when every row converged, 1 when some did not (the file is still written,
    with their `converged` flags false), 2 on bad input.
    """
    import numpy as np

    from neurosim import api
    from neurosim.circuit.inputs import input_width
    from neurosim.cli.progress import LazyBar
    from neurosim.io.equilibria_h5 import write_equilibria
    from neurosim.io.npy import load_rows
    from neurosim.io.outputs import claim_outputs, write_output
    from neurosim.netlist.parse import parse_netlist

    claim_outputs({"--out": out}, [netlist, inputs_file], force=force)
    circuit = parse_netlist(netlist)
    if inputs_file is not None:
        inputs = load_rows(inputs_file)
    elif circuit.network is not None:
        width = input_width(circuit.network)
        inputs = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(count, width))
    else:
        inputs = None  # a circuit of another family: settled as written
    options = dict(
        tolerance=tolerance,
        solver=solver_named(method, step),
        dtype=dtype,
        max_passes=max_passes,
        threads=threads,
    )
    batch = 1 if inputs is None else len(inputs)
    with LazyBar(batch, "settling", show_pos=True) as bar:
        state = {"done": 0}

        def progress(done: int, total: int) -> None:
            bar.update(done - state["done"])
            state["done"] = done

        result = api.relax(circuit, inputs, progress=progress, **options)
    if result.note:
        click.echo(f"neurosim: note: {result.note}", err=True)
    record = result.record(netlist=str(netlist))
    write_output(out, lambda: write_equilibria(out, result.meta, **record))
    click.echo(f"{out}: {result.equilibrium.summary()}")
    if not result.equilibrium.ok:
        click.echo(
            f"neurosim: {batch - int(result.equilibrium.converged.sum())} of {batch} inputs "
            "did not converge (each row's status is in the file: /status, /converged); "
            f"the first: {result.equilibrium.status[~result.equilibrium.converged][0].value}",
            err=True,
        )
        raise SystemExit(1)
