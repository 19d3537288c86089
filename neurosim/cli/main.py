"""The ``neurosim`` command: one Click group; each subcommand lives in its own module.

Imports of numerical modules happen inside the commands so ``neurosim --help`` starts fast.
Errors a user can cause print one line ``neurosim: error: ...`` and exit with status 2.
"""

from __future__ import annotations

import sys

import click

from neurosim import __version__
from neurosim.cli.check import check
from neurosim.cli.compose import compose
from neurosim.cli.evaluate import evaluate
from neurosim.cli.export import export
from neurosim.cli.info import info
from neurosim.cli.metrics import metrics
from neurosim.cli.program import program
from neurosim.cli.relax import relax
from neurosim.cli.sample import sample
from neurosim.cli.score import score
from neurosim.cli.sweep import sweep
from neurosim.cli.train import train
from neurosim.errors import NeurosimError

EXIT_USER_ERROR = 2


class _Group(click.Group):
    def main(self, *args, **kwargs):
        """Click's own usage errors in the same one-line form as every other error."""
        kwargs.pop("standalone_mode", None)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            where = f"neurosim {exc.ctx.command_path.partition(' ')[2]}".strip() if exc.ctx else ""
            _fail(f"{exc.format_message()} (see `{where} --help`)".replace("\n", " "))
        except click.ClickException as exc:
            _fail(exc.format_message().replace("\n", " "))
        except click.Abort:
            _fail("aborted")
        if isinstance(code, int) and code:
            sys.exit(code)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NeurosimError as exc:
            _fail(str(exc))


def _fail(message: str) -> None:
    click.echo(f"neurosim: error: {message}", err=True)
    sys.exit(EXIT_USER_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="neurosim")
def cli() -> None:
    """neurosim: neuromorphic analog circuits that learn.

    Networks are compiled to SPICE netlists (`export`) whose equilibria neurosim
    computes (fast, batched: `relax`) and cross-checks against ngspice (`check`). A
    host trains the circuit's devices with local rules only — EP and GradEP (`train`)
    — generates digits with it (`sample`) and scores them (`metrics`); `program` puts
    a network onto realistic devices (PCM, generic) as a chip netlist. Run
    `neurosim COMMAND --help` for each command.
    """


cli.add_command(export)
cli.add_command(check)
cli.add_command(compose)
cli.add_command(evaluate)
cli.add_command(info)
cli.add_command(metrics)
cli.add_command(program)
cli.add_command(relax)
cli.add_command(sample)
cli.add_command(score)
cli.add_command(sweep)
cli.add_command(train)


def main() -> None:
    """Console-script entry point."""
    cli()
