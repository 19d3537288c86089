"""Running a sweep: the tasks not done yet, on an executor, results written as they come.

The results file is rewritten (atomically) after every finished repeat, so a killed
sweep loses only the repeats in flight. Running the same sweep into the same file
again continues it: finished repeats are kept, the rest run. A file that holds another
sweep (another configuration or another netlist) is refused unless ``force``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from neurosim.errors import NeurosimError
from neurosim.io.sweep_h5 import SweepResults, read_sweep, write_sweep
from neurosim.sweeps.config import SweepConfig, same_sweep
from neurosim.sweeps.grid import seed_of
from neurosim.sweeps.point import Outcome, Task


def run_sweep(
    config: SweepConfig,
    out: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    dask_local: int | None = None,
    force: bool = False,
    progress: Callable[[int, int, Outcome | None], None] | None = None,
) -> SweepResults:
    """Run ``config``'s repeats not done yet in ``out`` (module docstring) on
    ``workers`` local processes (1: this process), the Dask cluster at ``scheduler``,
    or a Dask ``LocalCluster`` of ``dask_local`` workers; ``progress(done, total,
    outcome)`` after each repeat (and once before, with None)."""
    from neurosim.sweeps import execute

    out = Path(out)
    try:
        netlist_sha = hashlib.sha256(Path(config.netlist).read_bytes()).hexdigest()
    except OSError as exc:
        raise NeurosimError(f"{config.netlist}: cannot read: {exc.strerror or exc}") from None
    record = config.record()
    points = config.points()
    seeds = np.array(
        [[seed_of(config.seed, p, r) for r in range(config.repeats)] for p in range(len(points))],
        dtype=np.int64,
    ).reshape(len(points), config.repeats)
    results = _continued(out, record, netlist_sha, force) or SweepResults.empty(
        record, netlist_sha, seeds
    )
    tasks = [
        Task(p, r, int(seeds[p, r]), points[p])
        for p in range(len(points))
        for r in range(config.repeats)
        if results.status[p, r] == 0
    ]
    write_sweep(results, out)
    total, done = seeds.size, seeds.size - len(tasks)
    if progress is not None:
        progress(done, total, None)
    if scheduler is not None or dask_local is not None:
        outcomes = execute.dask_cluster(record, tasks, scheduler, dask_local)
    elif workers > 1 and len(tasks) > 1:
        outcomes = execute.process_pool(record, tasks, min(workers, len(tasks)))
    else:
        outcomes = execute.in_process(record, tasks)
    try:
        for outcome in outcomes:
            results.record(
                outcome.point,
                outcome.repeat,
                outcome.metrics,
                outcome.status,
                outcome.reason,
                outcome.seconds,
            )
            write_sweep(results, out)
            done += 1
            if progress is not None:
                progress(done, total, outcome)
    finally:
        outcomes.close()
    return results


def _continued(out: Path, record: dict, netlist_sha: str, force: bool) -> SweepResults | None:
    """The results in ``out`` if they are of this sweep (None: no file, or ``force``);
    a file of another sweep is a one-line error."""
    if not out.exists() or force:
        return None
    results = read_sweep(out)
    changed = same_sweep(results.sweep, record)
    if results.netlist_sha256 != netlist_sha:
        changed.append("the netlist's contents")
    if changed:
        raise NeurosimError(
            f"{out} holds another sweep ({', '.join(changed)} differ): "
            "choose another --out, or --force to replace it"
        )
    return results
