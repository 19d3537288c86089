"""``neurosim export``: network spec (+ parameters) -> SPICE netlist."""

from __future__ import annotations

import time
from pathlib import Path

import click

from neurosim.cli.options import netlist_out_option


@click.command()
@click.argument("spec", type=click.Path(path_type=Path))
@netlist_out_option()
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="HDF5 parameters or training checkpoint to use instead of the spec's "
    "seeded initialisation.",
)
@click.option(
    "--wire-resistance",
    "wire_resistance",
    type=click.FloatRange(min=0.0),
    default=None,
    metavar="OHMS",
    help="Resistance of every row and column wire segment of every array (IR drop; "
    "default: the spec's [circuit] wire_resistance, else 0 = ideal wires).",
)
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def export(
    spec: Path,
    out: Path,
    params_file: Path | None,
    wire_resistance: float | None,
    force: bool,
) -> None:
    """Compile the network SPEC (circuits/*.toml) into an ngspice netlist OUT.

    Weights become conductance pairs, units become neuron macromodels, biases become
    conductances to bias rails (see the README's "Netlist format"). Without --params
    the weights are Xavier-normal from the spec's [init] seed. With a wire resistance,
    each device sits on its own row and column wire nodes joined by resistors
    (rh*: row segments, rv*: column segments); the engine reduces each wired array
    exactly.
    """
    from neurosim import api
    from neurosim.io.outputs import claim_outputs, write_output

    claim_outputs({"--out": out}, [spec, params_file], force=force)
    start = time.perf_counter()
    circuit = api.export(spec, params=params_file, wire_resistance=wire_resistance)
    write_output(out, lambda: api.write_netlist(circuit, out))
    counts = circuit.count()
    click.echo(
        f"wrote {out}: {len(circuit.elements):,} elements ({counts['r']:,} resistors), "
        f"{circuit.network.parameter_count():,} parameters, {out.stat().st_size / 1e6:.1f} MB "
        f"in {time.perf_counter() - start:.2f} s"
    )
