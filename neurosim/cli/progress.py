"""Progress of long work on stderr: a live bar on a terminal, log lines otherwise.

When stderr is a terminal the bar appears with the first report (so nothing is printed
before an early error); when it is a file (a log, ``nohup``, CI) one line is printed
every ``LOG_SECONDS`` seconds and at the end: epoch, the last epoch's figures, pace and
time left.
"""

from __future__ import annotations

import math
import sys
import time

import click

LOG_SECONDS = 10.0


def _duration(seconds: float) -> str:
    if math.isnan(seconds):
        return "?"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class EpochReporter:
    """A ``progress`` callback for :func:`neurosim.train` (a context manager)."""

    def __init__(self, epochs: int, *, stream=None, interactive: bool | None = None) -> None:
        self.epochs = epochs
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.bar = None
        self.last_line = -math.inf

    def __enter__(self) -> EpochReporter:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def __call__(self, progress) -> None:
        if self.interactive:
            if self.bar is None:
                label = f"epochs {progress.first}->{progress.epochs}"
                self.bar = click.progressbar(
                    length=progress.epochs,
                    label=label,
                    file=self.stream,
                    show_eta=True,
                    item_show_func=lambda text: text,
                ).__enter__()
                self.bar.update(progress.first)
            self.bar.update(1, progress.describe())
            return
        now = time.monotonic()
        if now - self.last_line < LOG_SECONDS and progress.done < progress.epochs:
            return
        self.last_line = now
        pace = progress.elapsed / max(progress.done - progress.first, 1)
        click.echo(
            f"epoch {progress.done}/{progress.epochs}: {progress.describe()}, "
            f"{pace:.2f} s/epoch, {_duration(progress.eta)} left",
            file=self.stream,
        )


class LazyBar:
    """Progress of ``length`` steps on stderr (a context manager): on a terminal a Click
    bar that appears with the first update (so an error before any work prints only its
    one line); otherwise a line ``label: done/length`` every ``LOG_SECONDS`` and at the
    end."""

    def __init__(self, length: int, label: str, *, stream=None, **options) -> None:
        self.length, self.label, self.options = length, label, options
        self.stream = stream or sys.stderr
        self.bar = None
        self.done = 0
        self.last_line = time.monotonic()

    def __enter__(self) -> LazyBar:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def update(self, steps: int) -> None:
        """Advance by ``steps``."""
        self.done += steps
        if not self.stream.isatty():
            now = time.monotonic()
            if now - self.last_line >= LOG_SECONDS or self.done >= self.length:
                self.last_line = now
                click.echo(f"{self.label}: {self.done}/{self.length}", file=self.stream)
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=self.length, label=self.label, file=self.stream, **self.options
            ).__enter__()
        self.bar.update(steps)
