"""Click parameter types shared by several commands."""

from __future__ import annotations

import click

positive_float = click.FloatRange(0, min_open=True)
