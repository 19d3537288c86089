"""The wired-array reduction against a sparse direct solve of the same resistor network."""

import numpy as np
import pytest
import scipy.sparse
import scipy.sparse.linalg

from neurosim.errors import CircuitError
from neurosim.lower.wires import reduce_array


def direct(device, row_wire, column_wire):
    """Transfer and admittance by nodal analysis (scipy's sparse LU), assembled from the
    geometry: row node (l, c) fed through row segment (l, c) from (l, c−1) or the
    driver; column node (l, c) joined through column segment (l, c) to (l+1, c) or the
    ammeter (0 V)."""
    lines, columns = device.shape
    n = lines * columns

    def row(l, c):
        return l * columns + c

    def col(l, c):
        return n + l * columns + c

    entries, drive = {}, {}

    def stamp(a, b, g):
        for i, j, v in ((a, a, g), (b, b, g), (a, b, -g), (b, a, -g)):
            if i is not None and j is not None:
                entries[i, j] = entries.get((i, j), 0.0) + v

    for l in range(lines):
        for c in range(columns):
            stamp(row(l, c), col(l, c), device[l, c])
            stamp(row(l, c - 1) if c else None, row(l, c), row_wire[l, c])
            if c == 0:
                drive[l] = row(l, 0)
            stamp(col(l, c), col(l + 1, c) if l + 1 < lines else None, column_wire[l, c])
    keys = list(entries)
    matrix = scipy.sparse.csc_matrix(
        ([entries[k] for k in keys], ([k[0] for k in keys], [k[1] for k in keys])),
        shape=(2 * n, 2 * n),
    )
    rhs = np.zeros((2 * n, lines))
    for l in range(lines):
        rhs[drive[l], l] = row_wire[l, 0]
    volts = scipy.sparse.linalg.splu(matrix).solve(rhs)
    ammeter = column_wire[-1][:, None] * volts[[col(lines - 1, c) for c in range(columns)]]
    sourced = row_wire[:, :1] * (np.eye(lines) - volts[[row(l, 0) for l in range(lines)]])
    return ammeter.T, sourced


@pytest.mark.parametrize(("lines", "columns", "ohms"), [(6, 5, 2.0), (10, 3, 50.0), (1, 7, 1e3)])
def test_reduction_matches_a_sparse_direct_solve(lines, columns, ohms):
    rng = np.random.default_rng(lines)
    device = rng.uniform(1e-6, 1e-4, (lines, columns))
    row_wire = rng.uniform(0.5, 2.0, (lines, columns)) / ohms
    column_wire = rng.uniform(0.5, 2.0, (lines, columns)) / ohms
    transfer, admittance = reduce_array(device, row_wire, column_wire)
    want_transfer, want_admittance = direct(device, row_wire, column_wire)
    scale = device.max()  # the reference loses digits in (1 − v)·g_wire: 1e-10 of it
    np.testing.assert_allclose(transfer, want_transfer, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(admittance, want_admittance, rtol=0, atol=1e-10 * scale)
    np.testing.assert_allclose(admittance, admittance.T, rtol=0, atol=1e-12 * scale)
    # IR drop only loses current: every entry below the ideal array's
    assert np.all(transfer < device) and np.all(transfer > 0)


def test_negligible_wires_give_the_ideal_array():
    device = np.random.default_rng(0).uniform(1e-6, 1e-4, (8, 4))
    wire = np.full(device.shape, 1e9)  # 1 nΩ segments
    transfer, admittance = reduce_array(device, wire, wire)
    np.testing.assert_allclose(transfer, device, rtol=1e-9)
    np.testing.assert_allclose(admittance, np.diag(device.sum(1)), rtol=0, atol=1e-9 * 1e-4)


def test_an_open_wire_is_refused():
    device = np.full((2, 2), 1e-5)
    wire = np.ones((2, 2))
    wire[1, 0] = 0.0
    with pytest.raises(CircuitError, match="open wire"):
        reduce_array(device, wire, np.ones((2, 2)))
