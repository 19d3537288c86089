"""One process at a time in a run directory, and no temporary files left from killed ones.

:func:`run_lock` takes an exclusive advisory lock on ``RUN_DIR/.lock`` (``flock``: the
kernel drops it when the holder dies, even by SIGKILL) for as long as a training run
writes there. Whoever holds it is the only writer, so the temporary files an atomic
write leaves behind when its process is killed (:mod:`neurosim.io.atomic`:
``.NAME.*.tmp``) are stale and are removed on entry.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from neurosim.errors import NeurosimError

LOCK = ".lock"


@contextmanager
def run_lock(run_dir: str | os.PathLike) -> Iterator[list[Path]]:
    """Hold ``run_dir``'s lock (creating the directory); yields the stale temporary
    files it removed. A one-line :class:`NeurosimError` if another process holds it."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOCK, "a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise NeurosimError(
                f"{run_dir}: another neurosim process is writing this run"
            ) from None
        try:
            removed = sorted(run_dir.glob(".*.tmp"))
            for stale in removed:
                stale.unlink(missing_ok=True)
            yield removed
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
