"""``neurosim check``: a netlist's DC equilibria in neurosim vs ngspice."""

from __future__ import annotations

import json
from pathlib import Path

import click

from neurosim.cli.options import FINITE_POSITIVE, SEED


@click.command()
@click.argument("netlist", type=click.Path(path_type=Path))
@click.option(
    "--inputs",
    "inputs_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="NumPy .npy array (n, width) of input vectors in model units: clamped "
    "input layers, then visible spring targets. Default: --count random "
    "vectors uniform in [-1, 1].",
)
@click.option(
    "--count",
    default=3,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="Random input vectors to use when --inputs is not given.",
)
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the random inputs.")
@click.option(
    "--rtol",
    default=1e-6,
    show_default=True,
    type=FINITE_POSITIVE,
    help="Tolerance as a fraction of the signal scale (a network's volts per model unit, "
    "else the largest |V|); for circuits other than networks also of each node's own |V| "
    "(at least 1 mV).",
)
@click.option(
    "--backend",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "shared", "batch"]),
    help="How to run ngspice: shared library (PySpice) or `ngspice -b`.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def check(
    netlist: Path,
    inputs_file: Path | None,
    count: int,
    seed: int,
    rtol: float,
    backend: str,
    as_json: bool,
) -> None:
    """Solve NETLIST's operating point in neurosim and in ngspice and compare them.

    Prints the largest |ΔV| per node group and the tolerance; exits 0 only when every
    node agrees within tolerance (1 otherwise, 2 on bad input or missing ngspice).
    """
    import numpy as np

    from neurosim import api
    from neurosim.circuit.inputs import input_width
    from neurosim.cli.progress import LazyBar
    from neurosim.errors import NeurosimError
    from neurosim.io.npy import load_rows

    circuit = api.load_netlist(netlist)
    inputs = None
    if circuit.network is None:
        if inputs_file is not None:
            raise NeurosimError(f"{netlist}: --inputs needs a neurosim network netlist")
    elif inputs_file is None:
        rng = np.random.default_rng(seed)
        inputs = rng.uniform(-1.0, 1.0, size=(count, input_width(circuit.network)))
    else:
        inputs = load_rows(inputs_file)
    if as_json:  # stdout carries only the JSON object; no progress bar
        report = api.check(circuit, inputs, rtol=rtol, backend=backend)
        click.echo(json.dumps(report.to_dict()))
    else:
        label = "operating points (neurosim, then ngspice)"
        points = 1 if inputs is None else len(inputs)
        with LazyBar(2 * points, label) as bar:
            report = api.check(
                circuit, inputs, rtol=rtol, backend=backend, progress=lambda: bar.update(1)
            )
        _print_table(netlist, report)
    raise SystemExit(0 if report.ok else 1)


def _print_table(netlist: Path, report) -> None:
    click.echo(f"{netlist}: {report.inputs} operating point(s), neurosim vs ngspice")
    click.echo(f"  {'group':<12}{'nodes':>8}{'max |dV| [V]':>16}")
    for name, group in report.groups.items():
        click.echo(f"  {name:<12}{group.nodes:>8}{group.max_abs_diff_v:>16.3e}")
    verdict = "OK" if report.ok else "MISMATCH"
    if report.settled_retries:
        click.echo(
            f"  {report.settled_retries} operating point(s): ngspice's .op found another "
            "equilibrium; compared with where ngspice's transient from rest settles"
        )
    per_node = ""
    if report.node_relative is not None:
        per_node = f"; per node |dV|/max(|V|, 1 mV) at most {report.node_relative:.1e}"
    click.echo(
        f"  max |dV| = {report.max_abs_diff_v:.3e} V, tolerance {report.tolerance_v:.1e} V "
        f"(signal scale {report.signal_scale_v:g} V){per_node}: {verdict}"
    )
    click.echo(
        f"  time: neurosim {report.neurosim_seconds:.2f} s ({report.solver}), "
        f"ngspice {report.ngspice_seconds:.2f} s"
    )
