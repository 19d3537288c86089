"""Reader for SPICE raw files as ngspice writes them (``write`` command, ``ngspice -r``).

A raw file holds one or more plots. Each plot is an ASCII header (``Title:``, ``Plotname:``,
``Flags:``, ``No. Variables:``, ``No. Points:``, ``Variables:`` with one ``index name type``
line per vector) followed by ``Binary:`` and the values as native float64, point by
point. Only binary, real-valued plots are read (ngspice's ``set filetype=binary``);
ASCII files and complex plots (AC, noise) raise :class:`RawFileError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurosim.errors import NeurosimError


class RawFileError(NeurosimError):
    """A raw file that cannot be read."""


@dataclass(frozen=True)
class RawPlot:
    """One plot of a raw file: ``values[point, variable]``."""

    title: str
    name: str
    variables: tuple[tuple[str, str], ...]  # (vector name, vector type) in file order
    values: np.ndarray


def read_raw(path: str | os.PathLike) -> list[RawPlot]:
    """All plots in the raw file at ``path``."""
    data = Path(path).read_bytes()
    plots: list[RawPlot] = []
    pos = 0
    while pos < len(data):
        plot, pos = _read_plot(data, pos, str(path))
        plots.append(plot)
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
    return plots


def _read_plot(data: bytes, pos: int, where: str) -> tuple[RawPlot, int]:
    header: dict[str, str] = {}
    variables: list[tuple[str, str]] = []
    while True:
        end = data.find(b"\n", pos)
        if end < 0:
            raise RawFileError(f"{where}: raw file ends inside a plot header")
        line = data[pos:end].decode("latin-1").rstrip("\r")
        pos = end + 1
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "variables":
            count = _int_field(header, "no. variables", where)
            for _ in range(count):
                end = data.find(b"\n", pos)
                fields = data[pos:end].decode("latin-1").split() if end >= 0 else []
                if len(fields) < 3:
                    raise RawFileError(f"{where}: malformed variable list")
                variables.append((fields[1], fields[2]))
                pos = end + 1
        elif key == "binary":
            break
        elif key == "values":
            raise RawFileError(f"{where}: ASCII raw files are not supported (set filetype=binary)")
        else:
            header[key] = value.strip()
    if "complex" in header.get("flags", "").lower():
        raise RawFileError(f"{where}: complex plot {header.get('plotname', '')!r} not supported")
    n_vars = len(variables)
    n_points = _int_field(header, "no. points", where)
    size = 8 * n_vars * n_points
    if pos + size > len(data):
        raise RawFileError(f"{where}: raw file is truncated")
    values = np.frombuffer(data, dtype=np.float64, count=n_vars * n_points, offset=pos).copy()
    pos += size
    plot = RawPlot(
        title=header.get("title", ""),
        name=header.get("plotname", ""),
        variables=tuple(variables),
        values=values.reshape(n_points, n_vars),
    )
    return plot, pos


def _int_field(header: dict[str, str], key: str, where: str) -> int:
    try:
        return int(header[key])
    except (KeyError, ValueError) as exc:
        raise RawFileError(f"{where}: missing or malformed {key!r} in raw header") from exc
