"""Exact linear assignment, warm-started from column prices (Numba).

The flow objective pairs 1,797 noise draws with the 1,797 digits by exact optimal
transport every epoch (:mod:`neurosim.learn.flow`). ``scipy.optimize
.linear_sum_assignment`` solves each one from nothing (0.5–0.8 s here). The digits
are the same every epoch and the noise is i.i.d., so the optimal column prices (the
dual potentials of the digits) hardly move from one epoch to the next: started from
the last epoch's, most rows find their column at once and the rest need short
augmenting paths.

The algorithm is the shortest augmenting path method (Jonker & Volgenant 1987; the
one scipy implements, after Crouse 2016): the duals ``u``, ``v`` keep every reduced
cost ``c_ij − u_i − v_j`` non-negative and zero on assigned pairs, so the assignment
is optimal when it is complete, whatever prices it started from. Costs are float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FLAGS = {"cache": True, "nogil": True, "error_model": "numpy"}


def assign(cost: np.ndarray, prices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The column of each row in a minimum-cost perfect matching of ``cost`` (n, n).

    ``prices`` (n,): column duals to start from (e.g. the previous call's); any finite
    values give the same optimal matching. Returns ``(columns, prices)``: the column
    of row i, and the final column duals (pass them to the next call).
    """
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    n = cost.shape[0]
    if cost.ndim != 2 or cost.shape[1] != n:
        raise ValueError(f"cost must be a square matrix, not of shape {cost.shape}")
    if not np.all(np.isfinite(cost)):
        raise ValueError("cost holds NaN or inf")
    v = np.zeros(n) if prices is None else np.array(prices, dtype=np.float64)
    if v.shape != (n,) or not np.all(np.isfinite(v)):
        raise ValueError(f"prices must be {n} finite numbers")
    columns = _solve(cost, v)
    return columns, v


@njit(**_FLAGS)
def _solve(cost, v):
    """Row → column of an optimal matching; ``v`` (column duals) is updated in place."""
    n = cost.shape[0]
    row_of = np.full(n, -1, dtype=np.int64)
    col_of = np.full(n, -1, dtype=np.int64)
    u = np.empty(n)
    # row duals from the prices, and the greedy matching on the tight edges they give
    for i in range(n):
        best, where = np.inf, -1
        for j in range(n):
            reduced = cost[i, j] - v[j]
            if reduced < best:
                best, where = reduced, j
        u[i] = best
        if row_of[where] < 0:
            row_of[where] = i
            col_of[i] = where
    distance = np.empty(n)
    previous = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)  # columns in the order they were scanned
    done = np.zeros(n, dtype=np.bool_)
    for start in range(n):
        if col_of[start] >= 0:
            continue
        # Dijkstra over columns from the free row ``start`` on the reduced costs
        nearest, column = np.inf, -1
        for j in range(n):
            distance[j] = cost[start, j] - u[start] - v[j]
            previous[j] = start
            done[j] = False
            if distance[j] < nearest:
                nearest, column = distance[j], j
        scanned = 0
        while True:  # ``column``: the nearest unscanned column, at ``nearest``
            lowest = nearest
            done[column] = True
            order[scanned] = column
            scanned += 1
            row = row_of[column]
            if row < 0:
                break
            base = lowest - (cost[row, column] - u[row] - v[column])
            nearest, column = np.inf, -1
            for j in range(n):  # relax through ``row`` and find the next nearest at once
                if not done[j]:
                    through = base + cost[row, j] - u[row] - v[j]
                    if through < distance[j]:
                        distance[j] = through
                        previous[j] = row
                    if distance[j] < nearest:
                        nearest, column = distance[j], j
        sink = order[scanned - 1]
        # prices: every scanned column's distance below the sink's is absorbed
        for k in range(scanned - 1):
            j = order[k]
            v[j] += distance[j] - lowest
        # augment along the path, then restore tightness through the row duals
        column = sink
        while True:
            row = previous[column]
            row_of[column] = row
            other = col_of[row]
            col_of[row] = column
            if row == start:
                break
            column = other
        for k in range(scanned):  # the rows now on the scanned columns (start among them)
            row = row_of[order[k]]
            u[row] = cost[row, order[k]] - v[order[k]]
    return col_of
