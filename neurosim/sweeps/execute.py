"""Where a sweep's tasks run: this process, a local process pool, or a Dask cluster.

Each executor takes the sweep's record and its tasks and yields their outcomes as they
finish (:func:`neurosim.sweeps.point.run_task`, a pure function of the task, so every
executor gives the same numbers). A task whose worker dies is run once more; if its
worker dies again the task is recorded as failed. Only libraries made for this do the
scheduling: :mod:`concurrent.futures` here, ``dask.distributed`` on a cluster.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from neurosim.engine.shards import core_count
from neurosim.sweeps.point import FAILED, Outcome, Task, run_task

ATTEMPTS = 2  # a task whose worker dies is run once more


def in_process(record: dict, tasks: list[Task]) -> Iterator[Outcome]:
    """Run ``tasks`` one after another in this process."""
    for task in tasks:
        yield run_task(record, task)


def process_pool(record: dict, tasks: list[Task], workers: int) -> Iterator[Outcome]:
    """Run ``tasks`` on ``workers`` fresh processes (spawned: nothing inherited but the
    arguments), at most ``workers`` in flight so an interrupt loses only those."""
    attempts = dict.fromkeys(range(len(tasks)), 0)
    waiting = list(range(len(tasks)))
    context = multiprocessing.get_context("spawn")
    while waiting:
        broken = []
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            running = {}
            try:
                while waiting or running:
                    while waiting and len(running) < workers:
                        index = waiting.pop(0)
                        attempts[index] += 1
                        running[pool.submit(run_task, record, tasks[index])] = index
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        index = running.pop(future)
                        try:
                            yield future.result()
                        except BrokenProcessPool:
                            broken.append(index)
                    if broken:
                        broken += list(running.values())
                        break
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        for index in broken:
            if attempts[index] < ATTEMPTS:
                waiting.append(index)
            else:
                yield _died(tasks[index])


def dask_cluster(
    record: dict, tasks: list[Task], scheduler: str | None = None, local_workers: int | None = None
) -> Iterator[Outcome]:
    """Run ``tasks`` on the Dask cluster at ``scheduler`` (``tcp://HOST:PORT``), or on a
    ``LocalCluster`` of ``local_workers`` processes (one thread each) started for them."""
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(
            n_workers=local_workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
    client = Client(scheduler or cluster)
    try:
        futures = {
            client.submit(run_task, record, task, pure=False, retries=ATTEMPTS - 1): task
            for task in tasks
        }
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:  # the task's worker died on every attempt
                yield _died(futures[future], f"{type(exc).__name__}: {exc}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def default_workers() -> int:
    """One worker per core this process may use."""
    return core_count()


def _died(task: Task, why: str = "its worker process died twice") -> Outcome:
    return Outcome(task.point, task.repeat, {}, FAILED, why, float("nan"))
