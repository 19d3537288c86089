"""Exact assignment warm-started from prices: scipy's optimum, from any prices."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from neurosim.data.digits import load_digits
from neurosim.learn.assignment import assign
from neurosim.learn.flow import ot_pairing
from neurosim.learn.loop import epoch_rng


def _optimum(cost: np.ndarray) -> float:
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].sum())


@pytest.mark.parametrize("n", [1, 2, 5, 40, 300])
def test_the_matching_is_scipys_from_nothing_and_from_any_prices(n):
    rng = np.random.default_rng(n)
    cost = rng.standard_normal((n, n)) * 10.0
    _, expected = linear_sum_assignment(cost)
    for prices in (None, rng.standard_normal(n) * 100.0, np.full(n, 1e6)):
        columns, _ = assign(cost, prices)
        np.testing.assert_array_equal(columns, expected)


def test_ties_still_give_a_minimum_cost_perfect_matching():
    rng = np.random.default_rng(3)
    cost = rng.integers(0, 3, (60, 60)).astype(float)  # many optimal matchings
    columns, prices = assign(cost)
    assert sorted(columns) == list(range(60))
    assert cost[np.arange(60), columns].sum() == _optimum(cost)
    again, _ = assign(cost, prices)
    assert cost[np.arange(60), again].sum() == _optimum(cost)


def test_the_flow_pairing_chained_over_epochs_is_the_exact_one():
    """The training loop's case: digits against fresh noise each epoch, each pairing
    started from the last one's prices (the prices carry over: the same data)."""
    data, _ = load_digits()
    data = data[:600]
    prices = None
    for epoch in range(4):
        noise = epoch_rng(0, epoch).standard_normal(data.shape)
        order, prices = ot_pairing(noise, data, prices)
        cost = ((noise[:, None, :] - data[None, :, :]) ** 2).sum(axis=2)
        rows, cols = linear_sum_assignment(cost)
        expected = np.empty(len(cols), dtype=np.int64)
        expected[cols] = rows
        np.testing.assert_array_equal(order, expected)


@pytest.mark.parametrize(
    "cost, prices, message",
    [
        (np.zeros((2, 3)), None, "square"),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), None, "NaN"),
        (np.zeros((2, 2)), np.zeros(3), "prices"),
    ],
)
def test_bad_input_is_named(cost, prices, message):
    with pytest.raises(ValueError, match=message):
        assign(cost, prices)
