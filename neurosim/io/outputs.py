"""Output paths checked before any work: nothing a command writes may destroy an input.

Every command that writes files claims its outputs first (:func:`claim_outputs`): an
output that is the same file as one of the command's inputs (same inode, whatever the
spelling of the path) is refused, as are two outputs that are one file, an existing
output without ``force``, a directory, and a path whose parent cannot be written. The
errors are one line naming the option and the path, raised before any long work starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from neurosim.errors import NeurosimError


def same_file(a: Path, b: Path) -> bool:
    """True if ``a`` and ``b`` name one file: the same inode when both exist, else the
    same absolute path once symbolic links are resolved."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def claim_outputs(
    outputs: Mapping[str, Path | None] | Iterable[tuple[str, Path | None]],
    inputs: Iterable[Path | None],
    *,
    force: bool = False,
    force_option: str = "--force",
) -> None:
    """Refuse, in one line, any output in ``outputs`` (option name → path, or such
    pairs; None: not asked for) that is an input, another output, a directory,
    unwritable, or an existing file when ``force`` is false."""
    inputs = [Path(p) for p in inputs if p is not None]
    pairs = outputs.items() if isinstance(outputs, Mapping) else outputs
    claimed: list[tuple[str, Path]] = []
    for option, path in pairs:
        if path is None:
            continue
        path = Path(path)
        where = f"{option} {path}"
        for given in inputs:
            if given.exists() and same_file(path, given):
                raise NeurosimError(
                    f"{where}: is the input {given}; writing it would destroy the input "
                    "(choose another output path)"
                )
        for other_option, other in claimed:
            if same_file(path, other):
                raise NeurosimError(f"{where}: is also the {other_option} output")
        claimed.append((option, path))
        check_writable(where, path)
        if path.exists() and not force:
            raise NeurosimError(f"{where}: exists ({force_option} to replace it)")


def check_writable(where: str, path: Path) -> None:
    """One line naming ``where`` if ``path`` is a directory or its nearest existing
    parent is not a writable directory."""
    if path.is_dir():
        raise NeurosimError(f"{where}: is a directory")
    parent = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("."))
    if not parent.is_dir():
        raise NeurosimError(f"{where}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise NeurosimError(f"{where}: {parent} is not writable")


def write_output(path: Path, write: Callable[[], object]) -> None:
    """Run ``write()`` (which writes ``path``); an OSError becomes one line naming it."""
    try:
        write()
    except OSError as exc:
        raise NeurosimError(f"{path}: cannot write ({exc.strerror or exc})") from None
