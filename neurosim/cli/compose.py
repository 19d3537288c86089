"""``neurosim compose``: two trained networks on the same visible nodes, one netlist."""

from __future__ import annotations

from pathlib import Path

import click

from neurosim.cli.options import netlist_out_option


@click.command()
@click.argument("first", type=click.Path(path_type=Path))
@click.argument("second", type=click.Path(path_type=Path))
@netlist_out_option()
@click.option(
    "--prefix",
    default="n2_",
    show_default=True,
    help="Renames SECOND's own elements (after the element letter), nodes and layers.",
)
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def compose(first: Path, second: Path, out: Path, prefix: str, force: bool) -> None:
    """Wire the network of SECOND onto the visible nodes of FIRST (each a netlist or a
    RUN_DIR of `neurosim train`) and write the one circuit to OUT.

    Their currents add: with the visible nodes held at x the composite's readout is
    the sum of the two networks' (EqM composition: the landscape F1(x) + F2(x)). The
    visible units' own capacitors, leaks, springs and bias pairs join in parallel; their
    amplifiers and rails must be equal and are shared. Sample, score, check or train
    OUT like any netlist.
    """
    from neurosim import api
    from neurosim.io.outputs import claim_outputs, write_output

    netlists = [api.run_netlist(source)[0] for source in (first, second)]
    claim_outputs({"--out": out}, netlists, force=force)
    circuit = api.compose(*netlists, prefix)
    write_output(out, lambda: api.write_netlist(circuit, out))
    meta = circuit.network
    layers = ", ".join(f"{l.name} {l.size}" for l in meta.layers)
    click.echo(f"{out}: {first} + {second}: layers {layers}; {len(circuit.elements)} elements")
