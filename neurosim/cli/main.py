"""The ``neurosim`` command: one Click group; each subcommand lives in its own module.

Imports of numerical modules happen inside the commands so ``neurosim --help`` starts fast.
Errors a user can cause print one line ``neurosim: error: ...`` and exit with status 2.
"""

from __future__ import annotations

import sys

import click

from neurosim import __version__
from neurosim.cli.check import check
from neurosim.cli.export import export
from neurosim.cli.info import info
from neurosim.cli.metrics import metrics
from neurosim.cli.relax import relax
from neurosim.cli.sample import sample
from neurosim.cli.train import train
from neurosim.errors import NeurosimError

EXIT_USER_ERROR = 2


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NeurosimError as exc:
            click.echo(f"neurosim: error: {exc}", err=True)
            sys.exit(EXIT_USER_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neurosim")
def cli() -> None:
    """neurosim: neuromorphic analog circuits that learn.

    Networks are compiled to SPICE netlists (`export`) whose equilibria neurosim
    computes (fast, batched: `relax`) and cross-checks against ngspice (`check`). A
    host trains the circuit's devices with local rules only — EP and GradEP (`train`)
    — generates digits with it (`sample`) and scores them (`metrics`). Run
    `neurosim COMMAND --help` for each command.
    """


cli.add_command(export)
cli.add_command(check)
cli.add_command(info)
cli.add_command(metrics)
cli.add_command(relax)
cli.add_command(sample)
cli.add_command(train)


def main() -> None:
    """Console-script entry point."""
    cli()
